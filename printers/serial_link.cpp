// Serial ZPL printers through libserialport, non-blocking on the event loop.
#include <fcntl.h>
#include <libserialport.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "printers/printer_link.h"

namespace floorlink::printers::detail {
namespace {

std::string spError(const char* what) {
  char* msg = sp_last_error_message();
  std::string out = fmt::format("{}: {}", what, msg ? msg : "unknown error");
  if (msg) sp_free_error_message(msg);
  return out;
}

// libserialport finds a port's details under /sys/class/tty/<name>, so a
// /dev/serial/by-id/… link must be followed to the kernel's node first. One
// hop at a time, stopping at the first name the tty class knows (realpath()
// would go on to a pty's /dev/pts/N and misbehaves under the umockdev preload).
// Empty when the path does not exist (unplugged).
std::string resolveTtyNode(const std::string& path) {
  std::string current = path;
  for (int hops = 0; hops < 16; ++hops) {
    struct stat st{};
    if (::lstat(current.c_str(), &st) != 0) return {};
    if (!S_ISLNK(st.st_mode)) return current;
    std::string base = current.substr(current.rfind('/') + 1);
    struct stat cls{};
    if (::stat(("/sys/class/tty/" + base).c_str(), &cls) == 0) return current;
    char buf[4096];
    ssize_t n = ::readlink(current.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string target(buf, static_cast<size_t>(n));
    if (target.front() != '/') target = current.substr(0, current.rfind('/') + 1) + target;
    // Collapse "dir/../" so the result reads like a kernel node name.
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= target.size()) {
      size_t slash = target.find('/', pos);
      if (slash == std::string::npos) slash = target.size();
      std::string part = target.substr(pos, slash - pos);
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!part.empty() && part != ".") {
        parts.push_back(std::move(part));
      }
      pos = slash + 1;
    }
    current.clear();
    for (const auto& part : parts) current += "/" + part;
  }
  return {};
}

class SerialLink final : public PrinterLink {
 public:
  SerialLink(EventLoop& loop, config::DeviceAddress address) : loop_(loop), address_(std::move(address)) {}
  ~SerialLink() override { close(); }

  Status open(Handlers handlers) override {
    close();
    handlers_ = std::move(handlers);
    written_ = 0;
    std::string node = resolveTtyNode(address_.path);
    if (node.empty())
      return fail(ErrorCode::kNotFound, "serial port " + address_.path +
                                            " does not exist; check the cable and the device path");
    if (sp_get_port_by_name(node.c_str(), &port_) != SP_OK)
      return fail(ErrorCode::kNotFound, spError(("serial port " + address_.path).c_str()) +
                                            "; check the cable and the device path");
    if (sp_open(port_, SP_MODE_READ_WRITE) != SP_OK) {
      auto e = spError(("cannot open " + address_.path).c_str());
      sp_free_port(port_);
      port_ = nullptr;
      return fail(ErrorCode::kIo, e + "; is the floorlink user in the dialout group?");
    }
    int baud = 9600;
    if (auto it = address_.params.find("baud"); it != address_.params.end()) baud = std::atoi(it->second.c_str());
    std::string format = "8N1";
    if (auto it = address_.params.find("format"); it != address_.params.end()) format = it->second;
    if (format.size() != 3 || baud <= 0) {
      close();
      return fail(ErrorCode::kInvalidArgument, "serial printer: baud must be a number and format like 8N1");
    }
    sp_set_baudrate(port_, baud);
    sp_set_bits(port_, format[0] - '0');
    sp_set_parity(port_, format[1] == 'E' ? SP_PARITY_EVEN : format[1] == 'O' ? SP_PARITY_ODD : SP_PARITY_NONE);
    sp_set_stopbits(port_, format[2] - '0');
    // Zebra serial ports default to XON/XOFF; flow=rtscts selects hardware flow control.
    auto flow = address_.params.count("flow") ? address_.params.at("flow") : std::string("xonxoff");
    sp_set_flowcontrol(port_, flow == "rtscts" ? SP_FLOWCONTROL_RTSCTS
                              : flow == "none" ? SP_FLOWCONTROL_NONE
                                               : SP_FLOWCONTROL_XONXOFF);
    int fd = -1;
    if (sp_get_port_handle(port_, &fd) != SP_OK || fd < 0) {
      close();
      return fail(ErrorCode::kIo, "serial printer: no file descriptor for " + address_.path);
    }
    fd_ = fd;
    // Reads and writes must never block the loop.
    if (int flags = ::fcntl(fd_, F_GETFL); flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    auto w = loop_.watchFd(fd_, static_cast<uint32_t>(IoEvent::kRead), [this](uint32_t ev) { onEvents(ev); });
    if (!w) {
      close();
      return std::unexpected(w.error());
    }
    watch_ = *w;
    node_ = node;
    // A vanished or re-created node is an unplug even when the tty reports no
    // hangup (some adapters, emulated ports): the kernel removes the node.
    presenceTimer_ = loop_.addTimer(kPresenceCheck, [this] {
      if (port_ && resolveTtyNode(address_.path) != node_) broken(describe() + " went away (unplugged?)");
    }, kPresenceCheck);
    loop_.post([this, gen = generation_] { if (gen == generation_ && handlers_.onOpen) handlers_.onOpen(); });
    return ok();
  }

  void close() override {
    ++generation_;
    if (presenceTimer_) loop_.cancelTimer(presenceTimer_);
    presenceTimer_ = 0;
    node_.clear();
    if (watch_) loop_.unwatchFd(watch_);
    watch_ = 0;
    fd_ = -1;
    if (port_) {
      sp_close(port_);
      sp_free_port(port_);
    }
    port_ = nullptr;
    out_.clear();
  }
  bool isOpen() const override { return port_ != nullptr; }
  Status write(std::string_view bytes) override {
    if (!port_) return fail(ErrorCode::kDisconnected, describe() + " is not open");
    out_.append(bytes);
    flush();
    return ok();
  }
  size_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return true; }
  std::string describe() const override { return "serial:" + address_.path; }

 private:
  void broken(std::string why) {
    auto onClosed = handlers_.onClosed;
    close();
    if (onClosed) onClosed(Error{ErrorCode::kDisconnected, std::move(why)});
  }

  void onEvents(uint32_t ev) {
    if (has(ev, IoEvent::kHangup) || has(ev, IoEvent::kError))
      return broken(describe() + " went away (unplugged?)");
    if (has(ev, IoEvent::kRead)) {
      // read() itself, not sp_nonblocking_read(): that one reports "no data"
      // and "hung up" alike as 0, and a removed USB adapter is readable with
      // nothing to read (level-triggered, it would spin and look silent).
      char buf[1024];
      for (bool first = true;; first = false) {
        ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n > 0) {
          unsigned gen = generation_;
          if (handlers_.onData) handlers_.onData(std::string_view(buf, static_cast<size_t>(n)));
          if (gen != generation_) return;  // closed by the handler
          continue;
        }
        if (n == 0 && first) return broken(describe() + " went away (unplugged?)");
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return broken(fmt::format("{}: read failed: {} (unplugged?)", describe(), std::strerror(errno)));
      }
    }
    if (port_ && has(ev, IoEvent::kWrite)) flush();
  }

  void flush() {
    if (!port_) return;
    if (!out_.empty()) {
      int n = sp_nonblocking_write(port_, out_.data(), out_.size());
      if (n < 0) {
        auto why = spError(describe().c_str());
        loop_.post([this, why, gen = generation_] { if (gen == generation_) broken(why); });
        return;
      }
      written_ += static_cast<size_t>(n);
      out_.erase(0, static_cast<size_t>(n));
    }
    (void)loop_.modifyFd(watch_, out_.empty() ? static_cast<uint32_t>(IoEvent::kRead) : (IoEvent::kRead | IoEvent::kWrite));
    if (out_.empty())
      loop_.post([this, gen = generation_] { if (gen == generation_ && out_.empty() && handlers_.onFlushed) handlers_.onFlushed(); });
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  Handlers handlers_;
  static constexpr std::chrono::milliseconds kPresenceCheck{500};
  sp_port* port_ = nullptr;
  int fd_ = -1;
  std::string node_;  // the kernel's node behind address_.path while open
  EventLoop::TimerId presenceTimer_ = 0;
  EventLoop::WatchId watch_ = 0;
  std::string out_;
  size_t written_ = 0;
  unsigned generation_ = 0;
};

}  // namespace

Result<std::unique_ptr<PrinterLink>> createSerialLink(EventLoop& loop, const config::DeviceAddress& address) {
  if (address.path.empty()) return fail(ErrorCode::kInvalidArgument, "serial printer address needs a device path");
  return std::make_unique<SerialLink>(loop, address);
}

}  // namespace floorlink::printers::detail
