#pragma once
// A byte stream to a device (serial, TCP, USB, evdev), driven by the event
// loop. Scanners and scales speak their protocols over a Transport.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"

namespace floorlink::drivers {

class Transport {
 public:
  struct Handlers {
    // Bytes as they arrive, on the loop thread. Framing is the caller's job.
    std::function<void(std::span<const uint8_t> bytes)> onData;
    // The stream ended (unplug, peer closed, read error). After this the
    // transport is closed; open() may be called again to reconnect.
    std::function<void(const Error& why)> onClosed;
  };

  virtual ~Transport() = default;

  // Opens the device and starts delivering data on the loop. Errors say what
  // a technician should check ("cannot open /dev/ttyUSB0: no such device").
  virtual Status open(Handlers handlers) = 0;
  virtual void close() = 0;
  virtual bool isOpen() const = 0;
  // Queues bytes for writing; never blocks the loop.
  virtual Status write(std::span<const uint8_t> bytes) = 0;
  // "serial:/dev/ttyUSB0 9600 8N1", for logs and floorlinkctl.
  virtual std::string describe() const = 0;
};

// Builds the transport a device address names.
Result<std::unique_ptr<Transport>> createTransport(EventLoop& loop, const config::DeviceAddress& address);

}  // namespace floorlink::drivers
