// Serial ports through libserialport; the fd is watched by the event loop.
// Scanners, scales and printers share it, so serial: means the same for all.
#include <fcntl.h>
#include <libserialport.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <regex>

#include "core/loop_bound.h"
#include "io/transport_impl.h"

namespace floorlink::io::detail {
namespace {

struct SerialSettings {
  int baud = 9600;
  int dataBits = 8;
  sp_parity parity = SP_PARITY_NONE;
  int stopBits = 1;
  sp_flowcontrol flow = SP_FLOWCONTROL_NONE;
  std::string format = "8N1";
  std::string flowName = "none";
};

Result<SerialSettings> parseSettings(const config::DeviceAddress& address) {
  SerialSettings s;
  auto baud = parseUnsignedParam(address, "baud", 50, 4000000, 9600);
  if (!baud) return std::unexpected(baud.error());
  s.baud = static_cast<int>(*baud);
  if (auto it = address.params.find("format"); it != address.params.end()) {
    static const std::regex kFormat("^([5-8])([NEOMSneoms])([12])$");
    std::smatch m;
    if (!std::regex_match(it->second, m, kFormat)) {
      return fail(ErrorCode::kInvalidArgument,
                  "address \"" + address.text + "\": format=" + it->second +
                      " is not data bits 5-8, parity N/E/O/M/S and stop bits 1-2, e.g. 8N1 or 7E1");
    }
    s.dataBits = m[1].str()[0] - '0';
    switch (std::toupper(static_cast<unsigned char>(m[2].str()[0]))) {
      case 'E': s.parity = SP_PARITY_EVEN; break;
      case 'O': s.parity = SP_PARITY_ODD; break;
      case 'M': s.parity = SP_PARITY_MARK; break;
      case 'S': s.parity = SP_PARITY_SPACE; break;
      default: s.parity = SP_PARITY_NONE; break;
    }
    s.stopBits = m[3].str()[0] - '0';
    s.format = m[1].str() + static_cast<char>(std::toupper(static_cast<unsigned char>(m[2].str()[0]))) + m[3].str();
  }
  if (auto it = address.params.find("flow"); it != address.params.end()) {
    const std::string& f = it->second;
    if (f == "none") s.flow = SP_FLOWCONTROL_NONE;
    else if (f == "xonxoff") s.flow = SP_FLOWCONTROL_XONXOFF;
    else if (f == "rtscts") s.flow = SP_FLOWCONTROL_RTSCTS;
    else if (f == "dtrdsr") s.flow = SP_FLOWCONTROL_DTRDSR;
    else {
      return fail(ErrorCode::kInvalidArgument, "address \"" + address.text + "\": flow=" + f +
                                                   " is not one of none, xonxoff, rtscts, dtrdsr");
    }
    s.flowName = f;
  }
  if (auto st = checkKnownParams(address, "serial", {"baud", "format", "flow"}); !st) {
    return std::unexpected(st.error());
  }
  return s;
}

std::string spError(const char* what, sp_return r) {
  if (r == SP_ERR_FAIL) {
    char* msg = sp_last_error_message();
    std::string text = std::string(what) + ": " + (msg ? msg : "failed");
    sp_free_error_message(msg);
    return text;
  }
  return std::string(what) + ": " + (r == SP_ERR_ARG ? "invalid argument" : r == SP_ERR_MEM ? "out of memory"
                                                                         : "not supported by this port");
}

class SerialTransport final : public Transport {
 public:
  SerialTransport(EventLoop& loop, config::DeviceAddress address, SerialSettings settings, Logger logger)
      : loop_(loop), address_(std::move(address)), settings_(settings), logger_(std::move(logger)), bound_(loop) {}
  ~SerialTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    std::string node = resolveDeviceNode(address_.path);
    if (node.empty()) {
      return fail(ErrorCode::kNotFound, "cannot open " + address_.path +
                                            ": no such device (is it plugged in? check the cable and the device "
                                            "path, see ls -l /dev/serial/by-id)");
    }
    sp_port* port = nullptr;
    if (sp_return r = sp_get_port_by_name(node.c_str(), &port); r != SP_OK) {
      return fail(ErrorCode::kNotFound, "cannot open " + address_.path + ": " + spError("lookup", r));
    }
    if (sp_return r = sp_open(port, SP_MODE_READ_WRITE); r != SP_OK) {
      int err = errno;
      sp_free_port(port);
      ErrorCode code = err == EACCES ? ErrorCode::kPermission : err == EBUSY ? ErrorCode::kBusy : ErrorCode::kIo;
      std::string hint = err == EACCES ? " (add the floorlink user to the dialout group, see docs/devices.md)"
                         : err == EBUSY ? " (another program holds the port)"
                                        : "";
      return fail(code, "cannot open " + address_.path + ": " + spError("open", r) + hint);
    }
    auto configure = [&]() -> Status {
      sp_return r;
      if ((r = sp_set_baudrate(port, settings_.baud)) != SP_OK) return fail(ErrorCode::kIo, spError("baud", r));
      if ((r = sp_set_bits(port, settings_.dataBits)) != SP_OK) return fail(ErrorCode::kIo, spError("data bits", r));
      if ((r = sp_set_parity(port, settings_.parity)) != SP_OK) return fail(ErrorCode::kIo, spError("parity", r));
      if ((r = sp_set_stopbits(port, settings_.stopBits)) != SP_OK) return fail(ErrorCode::kIo, spError("stop bits", r));
      if ((r = sp_set_flowcontrol(port, settings_.flow)) != SP_OK) return fail(ErrorCode::kIo, spError("flow control", r));
      return ok();
    };
    if (auto s = configure(); !s) {
      sp_close(port);
      sp_free_port(port);
      return fail(s.error().code, "cannot configure " + address_.path + ": " + s.error().message);
    }
    int fd = -1;
    sp_get_port_handle(port, &fd);
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    auto watch = loop_.watchFd(fd, static_cast<uint32_t>(IoEvent::kRead), bound_.bind([this](uint32_t ev) { onEvents(ev); }));
    if (!watch) {
      sp_close(port);
      sp_free_port(port);
      return fail(ErrorCode::kIo, "cannot watch " + address_.path + ": " + watch.error().message);
    }
    port_ = port;
    fd_ = fd;
    watch_ = *watch;
    node_ = node;
    handlers_ = std::move(handlers);
    written_ = 0;
    // A vanished or re-created node is an unplug even when the tty reports no
    // hangup (some adapters, emulated ports): the kernel removes the node.
    presenceTimer_ = loop_.addTimer(kPresenceCheck, bound_.bind([this] {
      if (port_ && resolveDeviceNode(address_.path) != node_) {
        closeWith(Error{ErrorCode::kDisconnected, address_.path + ": device went away (unplugged?)"});
      }
    }), kPresenceCheck);
    postConnected(bound_, handlers_);
    return ok();
  }

  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return port_ != nullptr; }

  Status write(std::span<const uint8_t> bytes) override {
    bound_.assertLoopThread();
    if (!port_) return fail(ErrorCode::kDisconnected, address_.path + " is not open");
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    flush();
    return ok();
  }

  uint64_t bytesWritten() const override { return written_; }
  std::string node() const override { return port_ != nullptr ? node_ : std::string(); }

  std::string describe() const override {
    std::string d = "serial:" + address_.path + " " + std::to_string(settings_.baud) + " " + settings_.format;
    if (settings_.flow != SP_FLOWCONTROL_NONE) d += " " + settings_.flowName;
    if (!node_.empty() && node_ != address_.path) d += " (" + node_ + ")";
    return d;
  }

 private:
  void onEvents(uint32_t events) {
    if (has(events, IoEvent::kRead) || has(events, IoEvent::kHangup) || has(events, IoEvent::kError)) {
      auto token = bound_.token();
      auto drained = drainDeviceNode<512>(fd_, events, address_.path, [&](std::span<const uint8_t> bytes) {
        if (handlers_.onData) handlers_.onData(bytes);
        return !token.expired();  // false: closed by the handler
      });
      if (token.expired()) return;
      if (!drained) {
        closeWith(drained.error());
        return;
      }
    }
    if (has(events, IoEvent::kWrite)) flush();
  }

  void flush() {
    bool wrote = false;
    while (!out_.empty()) {
      ssize_t n = ::write(fd_, out_.data(), out_.size());
      if (n > 0) {
        out_.erase(out_.begin(), out_.begin() + n);
        written_ += static_cast<uint64_t>(n);
        wrote = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      // Reported from the loop: write() callers expect no re-entrant close.
      Error why{ErrorCode::kDisconnected, address_.path + ": write failed: " + errnoMessage(errno)};
      bound_.post([this, why] { closeWith(why); });
      return;
    }
    if (wrote && out_.empty()) {
      bound_.post([this] {
        if (out_.empty() && handlers_.onFlushed) handlers_.onFlushed();
      });
    }
    watchWritesWhilePending(loop_, watch_, watching_, !out_.empty());
  }

  void closeWith(const Error& why) {
    closeAndReport(handlers_, [this] { closeQuietly(); }, logger_, address_.path, "serial port", why);
  }

  void closeQuietly() {
    stopLoopWork(loop_, bound_, presenceTimer_, watch_, watching_, IoEvent::kRead);
    if (port_) {
      sp_close(port_);
      sp_free_port(port_);
    }
    port_ = nullptr;
    fd_ = -1;
    out_.clear();
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  SerialSettings settings_;
  Logger logger_;
  Handlers handlers_;
  sp_port* port_ = nullptr;
  int fd_ = -1;
  EventLoop::WatchId watch_ = 0;
  uint32_t watching_ = static_cast<uint32_t>(IoEvent::kRead);
  std::string node_;
  std::vector<uint8_t> out_;
  uint64_t written_ = 0;
  static constexpr std::chrono::milliseconds kPresenceCheck{500};
  EventLoop::TimerId presenceTimer_ = 0;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createSerialTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger) {
  auto settings = parseSettings(address);
  if (!settings) return std::unexpected(settings.error());
  return std::make_unique<SerialTransport>(loop, address, *settings, std::move(logger));
}

}  // namespace floorlink::io::detail
