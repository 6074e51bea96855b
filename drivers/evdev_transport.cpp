// Keyboard-wedge scanners through evdev, grabbed exclusively so their key
// presses never reach a desktop session or a shell.
#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/loop_bound.h"
#include "drivers/keyboard_wedge.h"
#include "drivers/transport.h"

namespace floorlink::drivers {
namespace {

class EvdevTransport final : public Transport {
 public:
  EvdevTransport(EventLoop& loop, config::DeviceAddress address, KeyboardLayout layout, std::string gs, Logger logger)
      : loop_(loop), address_(std::move(address)), layout_(layout), decoder_(layout, std::move(gs)),
        logger_(std::move(logger)), bound_(loop) {}
  ~EvdevTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    // Open the kernel node the by-id link names (as for serial ports).
    std::string node = io::resolveDeviceNode(address_.path);
    int fd = node.empty() ? -1 : ::open(node.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      int err = node.empty() ? ENOENT : errno;
      ErrorCode code = err == EACCES ? ErrorCode::kPermission : err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo;
      std::string hint = err == EACCES  ? " (add the floorlink user to the input group, see docs/devices.md)"
                         : err == ENOENT ? " (is the scanner plugged in? see ls -l /dev/input/by-id)"
                                         : "";
      return fail(code, "cannot open " + address_.path + ": " + std::strerror(err) + hint);
    }
    if (::ioctl(fd, EVIOCGRAB, 1) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EBUSY) {
        return fail(ErrorCode::kBusy, "cannot grab " + address_.path +
                                          ": another program (a desktop session?) holds the keyboard exclusively");
      }
      return fail(ErrorCode::kIo, "cannot grab " + address_.path + ": " + std::strerror(err) +
                                      " (is this an evdev keyboard device?)");
    }
    auto watch = loop_.watchFd(fd, static_cast<uint32_t>(IoEvent::kRead), bound_.bind([this](uint32_t ev) { onEvents(ev); }));
    if (!watch) {
      ::close(fd);
      return fail(ErrorCode::kIo, "cannot watch " + address_.path + ": " + watch.error().message);
    }
    fd_ = fd;
    node_ = node;
    watch_ = *watch;
    handlers_ = std::move(handlers);
    decoder_.reset();
    pending_.clear();
    io::postConnected(bound_, handlers_);
    return ok();
  }

  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return fd_ >= 0; }

  Status write(std::span<const uint8_t>) override {
    return fail(ErrorCode::kUnsupported, address_.path + ": a keyboard-wedge scanner cannot receive commands");
  }

  uint64_t bytesWritten() const override { return 0; }
  std::string node() const override { return fd_ >= 0 ? node_ : std::string(); }

  std::string describe() const override {
    std::string d = "evdev:" + address_.path + " layout " + std::string(toString(layout_));
    if (!node_.empty() && node_ != address_.path) d += " (" + node_ + ")";
    return d;
  }

 private:
  void onEvents(uint32_t events) {
    auto token = bound_.token();
    auto drained = io::drainDeviceNode<sizeof(input_event) * 64>(fd_, events, address_.path,
                                                             [&](std::span<const uint8_t> bytes) {
      pending_.insert(pending_.end(), bytes.begin(), bytes.end());
      std::string text;
      size_t off = 0;
      while (pending_.size() - off >= sizeof(input_event)) {
        input_event ev;
        std::memcpy(&ev, pending_.data() + off, sizeof ev);
        off += sizeof ev;
        if (ev.type == EV_KEY) decoder_.key(ev.code, ev.value, text);
      }
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(off));
      if (!text.empty() && handlers_.onData) {
        handlers_.onData(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
      }
      return !token.expired();  // false: closed by the handler
    });
    if (token.expired()) return;
    if (!drained) closeWith(drained.error());
  }

  void closeWith(const Error& why) {
    closeAndReport(handlers_, [this] { closeQuietly(); }, logger_, address_.path, "evdev", why);
  }

  void closeQuietly() {
    bound_.invalidate();
    if (watch_) loop_.unwatchFd(watch_);
    watch_ = 0;
    if (fd_ >= 0) {
      ::ioctl(fd_, EVIOCGRAB, 0);
      ::close(fd_);
    }
    fd_ = -1;
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  KeyboardLayout layout_;
  KeyboardWedgeDecoder decoder_;
  Logger logger_;
  Handlers handlers_;
  int fd_ = -1;
  std::string node_;
  EventLoop::WatchId watch_ = 0;
  std::vector<uint8_t> pending_;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createEvdevTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                       Logger logger) {
  KeyboardLayout layout = KeyboardLayout::kUs;
  std::string gs;
  if (auto s = io::checkKnownParams(address, "evdev", {"layout", "gs"}); !s) return std::unexpected(s.error());
  for (auto& [key, value] : address.params) {
    if (key == "layout") {
      auto l = parseKeyboardLayout(value);
      if (!l) return fail(ErrorCode::kInvalidArgument, "address \"" + address.text + "\": " + l.error().message);
      layout = *l;
    } else if (key == "gs") {
      if (value.empty() || value.size() > 4) {
        return fail(ErrorCode::kInvalidArgument,
                    "address \"" + address.text + "\": gs= must be the single character the scanner sends for GS");
      }
      gs = value;
    }
  }
  return std::make_unique<EvdevTransport>(loop, address, layout, gs, std::move(logger));
}

}  // namespace floorlink::drivers
