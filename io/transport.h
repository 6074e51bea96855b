#pragma once
// A byte stream to a device (serial, TCP, USB, file), driven by the event
// loop. Scanners, scales and printers speak their protocols over a Transport;
// one address grammar names all of them (docs/devices.md).
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/loop_bound.h"

namespace floorlink::io {

class Transport {
 public:
  struct Handlers {
    // Bytes as they arrive, on the loop thread. Framing is the caller's job.
    std::function<void(std::span<const uint8_t> bytes)> onData;
    // The stream ended (unplug, peer closed, read error). After this the
    // transport is closed; open() may be called again to reconnect.
    std::function<void(const Error& why)> onClosed;
    // Optional: the stream is usable. TCP calls it once the connection is
    // established; the others right after a successful open() (posted).
    std::function<void()> onConnected;
    // Optional: every byte queued so far was handed to the device (posted).
    // USB HID does not report it (its writes are single output reports).
    std::function<void()> onFlushed;
  };

  virtual ~Transport() = default;

  // Opens the device and starts delivering data on the loop. Errors say what
  // a technician should check ("cannot open /dev/ttyUSB0: no such device").
  // Loop thread only, like close() and write().
  virtual Status open(Handlers handlers) = 0;
  // Never blocks the loop: work a device still holds (a USB transfer) ends on
  // a worker thread.
  virtual void close() = 0;
  virtual bool isOpen() const = 0;
  // Queues bytes for writing; never blocks the loop.
  virtual Status write(std::span<const uint8_t> bytes) = 0;
  // Bytes handed to the device since open().
  virtual uint64_t bytesWritten() const = 0;
  // False when the device cannot answer (a file, a unidirectional USB
  // printer); known after open().
  virtual bool readsBack() const { return true; }
  // "serial:/dev/ttyUSB0 9600 8N1", for logs and floorlinkctl.
  virtual std::string describe() const = 0;
  // The /dev node in use while open ("/dev/ttyUSB1", "/dev/bus/usb/001/007"),
  // empty when closed or not a device node. The device manager treats its
  // disappearance as an unplug.
  virtual std::string node() const { return {}; }
};

// What a usb:// address speaks: HID reports (scanners, scales) or the USB
// printer class (bulk OUT, bulk IN for replies).
enum class UsbClass { kHid, kPrinter };

struct TransportOptions {
  UsbClass usb = UsbClass::kHid;
  Logger logger;
};

// Builds the transport a device address names. Address parameters:
//   serial:PATH?baud=9600&format=8N1&flow=none|xonxoff|rtscts|dtrdsr
//       PATH may be a /dev/serial/by-id or by-path symlink (preferred: stable
//       across replugging); format is data bits 5-8, parity N/E/O/M/S, stop 1-2.
//   tcp://HOST:PORT?connect_timeout_ms=3000
//   usb://VVVV:PPPP?serial=ABC&interface=0&usage_page=0x8c      (UsbClass::kHid)
//       each onData call carries exactly one raw HID input report from the
//       interrupt IN endpoint (report id first when the device uses report
//       ids). usage_page, when given, must match the first usage page of the
//       HID report descriptor (0x8c scanners, 0x8d scales).
//   usb://VVVV:PPPP?serial=ABC&status=none                      (UsbClass::kPrinter)
//       bulk OUT; bulk IN replies when the interface is bidirectional, unless
//       status=none.
//   file:PATH   appends (O_APPEND, fdatasync per write); never reads back.
// evdev: (keyboard wedges) lives in drivers/. Nothing is opened here: open()
// does that, so a missing device is a state (offline), not a configuration
// error; a bad parameter is an error here.
Result<std::unique_ptr<Transport>> createTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                  TransportOptions options = {});

// The path a serial or evdev address names, with by-id/by-path symlinks
// resolved to the kernel node ("/dev/ttyUSB0"); empty when it does not exist.
std::string resolveDeviceNode(const std::string& path);

// Address parameter checks shared by every transport factory (evdev too):
// a decimal or 0x-prefixed unsigned parameter from min to max, `fallback`
// when absent; and no parameter outside `known`.
Result<unsigned long> parseUnsignedParam(const config::DeviceAddress& address, const std::string& key,
                                         unsigned long min, unsigned long max, unsigned long fallback);
Status checkKnownParams(const config::DeviceAddress& address, std::string_view kind,
                        std::initializer_list<std::string_view> known);

// For transports usable as soon as open() succeeds: posts
// handlers.onConnected, which runs while `bound` (the transport's) is valid.
// `handlers` is the transport's own member.
void postConnected(const LoopBound& bound, const Transport::Handlers& handlers);

// Reads a device node (tty, evdev) until it would block, each chunk to
// `onBytes(std::span<const uint8_t>)`, which returns false when it closed
// the transport (then reading stops: true is returned, nothing else is
// touched). The error that ends the connection: readable with nothing to
// read (the node of an unplugged device hung up), a failed read, or a
// hang-up/error event.
template <size_t kBuffer, class OnBytes>
Status drainDeviceNode(int fd, uint32_t events, const std::string& path, OnBytes&& onBytes) {
  uint8_t buf[kBuffer];
  const bool readable = has(events, IoEvent::kRead);
  for (bool first = true;; first = false) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      if (!onBytes(std::span<const uint8_t>(buf, static_cast<size_t>(n)))) return ok();
      continue;
    }
    if (n == 0 && first && readable) return fail(ErrorCode::kDisconnected, path + ": device hung up (unplugged?)");
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n < 0) {
      return fail(ErrorCode::kDisconnected, path + ": read failed: " + std::strerror(errno) + " (unplugged?)");
    }
    break;  // n == 0: no data on a raw tty
  }
  if (has(events, IoEvent::kHangup) || has(events, IoEvent::kError)) {
    return fail(ErrorCode::kDisconnected, path + ": device hung up (unplugged?)");
  }
  return ok();
}

// How every transport ends a connection: its handlers are taken first
// (onClosed may reopen it), it closes quietly, the log says why (`kind`:
// "tcp", "serial", ...), then onClosed hears it.
template <class CloseQuietly>
void closeAndReport(Transport::Handlers& handlers, CloseQuietly&& closeQuietly, const Logger& logger,
                    std::string_view device, std::string_view kind, const Error& why) {
  auto taken = std::move(handlers);
  closeQuietly();
  logger.info(deviceFields(device), "{} closed: {}", kind, why.message);
  if (taken.onClosed) taken.onClosed(why);
}

}  // namespace floorlink::io
