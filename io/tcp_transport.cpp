// TCP client for network scanners, scales and printers (port 9100).
// Reconnecting is the owner's job: a lost connection ends in onClosed like an
// unplug.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/loop_bound.h"
#include "io/transport_impl.h"

namespace floorlink::io::detail {
namespace {

class TcpTransport final : public Transport {
 public:
  TcpTransport(EventLoop& loop, config::DeviceAddress address, std::chrono::milliseconds connectTimeout, Logger logger)
      : loop_(loop), address_(std::move(address)), connectTimeout_(connectTimeout), logger_(std::move(logger)),
        bound_(loop) {}
  ~TcpTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // Numeric addresses never block; a host name is looked up in /etc/hosts
    // or DNS, which may block briefly (configure scanners by IP address).
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(address_.port);
    int rc = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || !res) {
      return fail(ErrorCode::kNotFound, "cannot resolve " + address_.host + ": " + gai_strerror(rc));
    }
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ::freeaddrinfo(res);
      return fail(ErrorCode::kIo, "socket: " + errnoMessage(errno));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
    ::freeaddrinfo(res);
    if (rc < 0 && errno != EINPROGRESS) {
      int err = errno;
      ::close(fd);
      return fail(ErrorCode::kDisconnected, "cannot connect to " + endpoint() + ": " + errnoMessage(err));
    }
    auto watch = loop_.watchFd(fd, static_cast<uint32_t>(IoEvent::kWrite), bound_.bind([this](uint32_t ev) { onEvents(ev); }));
    if (!watch) {
      ::close(fd);
      return fail(ErrorCode::kIo, "cannot watch socket: " + watch.error().message);
    }
    fd_ = fd;
    watch_ = *watch;
    connecting_ = true;
    handlers_ = std::move(handlers);
    written_ = 0;
    connectTimer_ = loop_.addTimer(connectTimeout_, bound_.bind([this] {
      connectTimer_ = 0;
      closeWith(Error{ErrorCode::kTimeout, "cannot connect to " + endpoint() + ": no answer within " +
                                               std::to_string(connectTimeout_.count()) +
                                               " ms (is the device on the network?)"});
    }));
    return ok();
  }

  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return fd_ >= 0; }

  Status write(std::span<const uint8_t> bytes) override {
    bound_.assertLoopThread();
    if (fd_ < 0) return fail(ErrorCode::kDisconnected, endpoint() + " is not connected");
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    if (!connecting_) flush();
    return ok();
  }

  uint64_t bytesWritten() const override { return written_; }
  std::string describe() const override { return "tcp://" + endpoint(); }

 private:
  std::string endpoint() const { return address_.host + ":" + std::to_string(address_.port); }

  void onEvents(uint32_t events) {
    if (connecting_) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || has(events, IoEvent::kError)) {
        closeWith(Error{ErrorCode::kDisconnected,
                        "cannot connect to " + endpoint() + ": " + errnoMessage(err ? err : ECONNREFUSED)});
        return;
      }
      connecting_ = false;
      if (connectTimer_) loop_.cancelTimer(connectTimer_);
      connectTimer_ = 0;
      updateWatch();
      auto token = bound_.token();
      if (handlers_.onConnected) handlers_.onConnected();
      if (token.expired()) return;
      flush();
      return;
    }
    if (has(events, IoEvent::kRead) || has(events, IoEvent::kHangup) || has(events, IoEvent::kError)) {
      uint8_t buf[4096];
      for (;;) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          auto token = bound_.token();
          if (handlers_.onData) handlers_.onData(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
          if (token.expired()) return;
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        closeWith(Error{ErrorCode::kDisconnected,
                        endpoint() + (n == 0 ? ": connection closed by the device" : ": " + errnoMessage(errno))});
        return;
      }
    }
    if (has(events, IoEvent::kWrite)) flush();
  }

  void flush() {
    bool wrote = false;
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(out_.begin(), out_.begin() + n);
        written_ += static_cast<uint64_t>(n);
        wrote = true;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      // Reported from the loop: write() callers expect no re-entrant close.
      Error why{ErrorCode::kDisconnected, endpoint() + ": write failed: " + errnoMessage(errno)};
      bound_.post([this, why] { closeWith(why); });
      return;
    }
    updateWatch();
    if (wrote && out_.empty()) {
      bound_.post([this] {
        if (out_.empty() && handlers_.onFlushed) handlers_.onFlushed();
      });
    }
  }

  void updateWatch() {
    watchWritesWhilePending(loop_, watch_, watching_, !out_.empty());
  }

  void closeWith(const Error& why) {
    closeAndReport(handlers_, [this] { closeQuietly(); }, logger_, address_.text, "tcp", why);
  }

  void closeQuietly() {
    stopLoopWork(loop_, bound_, connectTimer_, watch_, watching_, IoEvent::kWrite);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connecting_ = false;
    out_.clear();
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  std::chrono::milliseconds connectTimeout_;
  Logger logger_;
  Handlers handlers_;
  int fd_ = -1;
  bool connecting_ = false;
  EventLoop::WatchId watch_ = 0;
  EventLoop::TimerId connectTimer_ = 0;
  uint32_t watching_ = static_cast<uint32_t>(IoEvent::kWrite);
  std::vector<uint8_t> out_;
  uint64_t written_ = 0;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createTcpTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                     Logger logger) {
  auto timeout = parseUnsignedParam(address, "connect_timeout_ms", 10, 600000, 3000);
  if (!timeout) return std::unexpected(timeout.error());
  if (auto s = checkKnownParams(address, "tcp", {"connect_timeout_ms"}); !s) return std::unexpected(s.error());
  return std::make_unique<TcpTransport>(loop, address, std::chrono::milliseconds(*timeout), std::move(logger));
}

}  // namespace floorlink::io::detail
