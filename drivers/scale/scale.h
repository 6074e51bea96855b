#pragma once
// A scale on a pack bench: live readings, stable weights only, zero and tare.
// Implementations speak one protocol over a drivers::Transport; everything
// runs on the event loop and every result arrives through a callback.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "drivers/device.h"
#include "drivers/scale/reading.h"
#include "drivers/transport.h"

namespace floorlink::drivers {

class Scale {
 public:
  using WeighCallback = std::function<void(Result<Weight> weight)>;
  using CommandCallback = std::function<void(Status done)>;
  using ReadingCallback = std::function<void(const Reading& reading)>;
  using WatchId = uint64_t;

  virtual ~Scale() = default;

  // Starts reading (polling where the protocol needs it) whenever the device
  // is connected. With an own transport this opens it; failing to open is
  // not an error here: the scale goes offline with the reason and retries
  // with backoff; the status callback tells.
  virtual void start() = 0;
  // Stops polling (and closes an own transport); pending weigh/zero/tare
  // calls fail with kCancelled.
  virtual void stop() = 0;
  // For a scale made without a transport: hand this to DeviceManager::add()
  // for the same device. The manager then owns the connection (identity,
  // hotplug, reconnect, raw bytes); the scale speaks the protocol over it.
  virtual DeviceClient deviceClient() = 0;

  // Delivers one weight once it has been stable for the configured number of
  // consecutive readings (or time window). Never a moving, overloaded,
  // underloaded or negative weight. Fails with kTimeout (and what the scale
  // was doing), kFault (overload/underload/negative seen for as long as a
  // stable weight would need), kDisconnected, or kCancelled. Never called
  // synchronously from inside weigh().
  virtual void weigh(WeighCallback done) = 0;
  // Sets the scale to zero / takes the load as tare / clears the tare.
  // kUnsupported when the protocol has no such command (the message says
  // which key to press on the scale instead).
  virtual void zero(CommandCallback done) = 0;
  virtual void tare(CommandCallback done) = 0;
  virtual void clearTare(CommandCallback done) = 0;

  // Live readings for floorlinkctl weigh and the technician page: every
  // reading the scale reports, stable or not.
  virtual WatchId watchReadings(ReadingCallback callback) = 0;
  virtual void unwatchReadings(WatchId id) = 0;
  // The last reading, if any arrived since start().
  virtual const Reading* lastReading() const = 0;

  // kOk: the scale answers. kOffline: not connected (the device manager
  // knows it too). kFault: connected, but only the driver can see what is
  // wrong: silence, unreadable data, a hardware error the scale reports.
  virtual DeviceStatus status() const = 0;
  // Called on every state change (ok / offline / fault and the reason).
  virtual void setStatusCallback(StatusCallback callback) = 0;

  virtual const std::string& id() const = 0;
  // "mt-sics over serial:/dev/ttyUSB0 9600 8N1"
  virtual std::string describe() const = 0;
};

// One line of `floorlinkctl weigh SCALE`: the reading and the scale's state,
// e.g. "1234 g (1.234 kg) stable net [ok]",
// "no weight (status: motion) motion [ok]",
// "no reading [fault: no answer from the scale ...]".
std::string formatLiveReading(const Reading* reading, const DeviceStatus& status);

// Builds the scale a device config names (protocol "mt-sics", "toledo-8217",
// "nci", "hid-pos" or "continuous"). Options are validated; errors quote the
// option's origin (file:line: key). The agent wires it to the device manager:
//
//   auto scale = drivers::createScale(loop, deviceConfig, logger);
//   manager.add(deviceConfig, (*scale)->deviceClient());
//   (*scale)->setStatusCallback([&](const DeviceStatus& s) {
//     if (s.state == DeviceState::kFault) manager.reportFault(id, s.detail);  // silent, garbage, scale error
//     if (s.state == DeviceState::kOk) manager.reportOk(id);
//   });
//   (*scale)->start();
Result<std::unique_ptr<Scale>> createScale(EventLoop& loop, const config::DeviceConfig& device, Logger logger = {});
// Same over a transport of its own, reconnecting by itself (tests, benches,
// tools that talk to one scale without a device manager).
Result<std::unique_ptr<Scale>> createScale(EventLoop& loop, const config::DeviceConfig& device,
                                           std::unique_ptr<Transport> transport, Logger logger = {});

}  // namespace floorlink::drivers
