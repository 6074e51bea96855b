// TCP (port 9100) and file links of ZPL printers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "printers/printer_link.h"

namespace floorlink::printers::detail {
namespace {

std::string errnoText(int e) { return std::strerror(e); }

class TcpLink final : public PrinterLink {
 public:
  TcpLink(EventLoop& loop, config::DeviceAddress address) : loop_(loop), address_(std::move(address)) {}
  ~TcpLink() override { close(); }

  Status open(Handlers handlers) override {
    close();
    handlers_ = std::move(handlers);
    written_ = 0;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = std::to_string(address_.port ? address_.port : 9100);
    // Printers are normally addressed by IP; a name is resolved here once per connect.
    int rc = getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || !res)
      return fail(ErrorCode::kNotFound, fmt::format("cannot resolve printer host {}: {}", address_.host,
                                                    gai_strerror(rc)));
    fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      freeaddrinfo(res);
      return fail(ErrorCode::kIo, "socket: " + errnoText(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rc = ::connect(fd_, res->ai_addr, res->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (rc < 0 && err != EINPROGRESS) {
      auto e = Error{ErrorCode::kDisconnected, fmt::format("cannot connect to {}: {}", describe(), errnoText(err))};
      closeFd();
      loop_.post([this, e, gen = generation_] { if (gen == generation_ && handlers_.onClosed) handlers_.onClosed(e); });
      return ok();
    }
    connecting_ = true;
    auto w = loop_.watchFd(fd_, IoEvent::kRead | IoEvent::kWrite, [this](uint32_t ev) { onEvents(ev); });
    if (!w) {
      closeFd();
      return std::unexpected(w.error());
    }
    watch_ = *w;
    return ok();
  }

  void close() override {
    ++generation_;
    closeFd();
    out_.clear();
  }
  bool isOpen() const override { return fd_ >= 0 && !connecting_; }

  Status write(std::string_view bytes) override {
    if (fd_ < 0 || connecting_) return fail(ErrorCode::kDisconnected, describe() + " is not connected");
    out_.append(bytes);
    flush();
    return ok();
  }
  size_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return true; }
  std::string describe() const override {
    return fmt::format("tcp://{}:{}", address_.host, address_.port ? address_.port : 9100);
  }

 private:
  void closeFd() {
    if (watch_) loop_.unwatchFd(watch_);
    watch_ = 0;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connecting_ = false;
  }

  void broken(ErrorCode code, std::string why) {
    closeFd();
    out_.clear();
    if (handlers_.onClosed) handlers_.onClosed(Error{code, std::move(why)});
  }

  void onEvents(uint32_t ev) {
    if (connecting_) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return broken(ErrorCode::kDisconnected, fmt::format("cannot connect to {}: {}", describe(), errnoText(err)));
      if (!has(ev, IoEvent::kWrite) && !has(ev, IoEvent::kRead)) return;
      connecting_ = false;
      (void)loop_.modifyFd(watch_, static_cast<uint32_t>(IoEvent::kRead));
      if (handlers_.onOpen) handlers_.onOpen();
      return;
    }
    if (has(ev, IoEvent::kRead) || has(ev, IoEvent::kHangup) || has(ev, IoEvent::kError)) {
      char buf[4096];
      while (fd_ >= 0) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          unsigned gen = generation_;
          if (handlers_.onData) handlers_.onData(std::string_view(buf, static_cast<size_t>(n)));
          if (gen != generation_) return;
          continue;
        }
        if (n == 0) return broken(ErrorCode::kDisconnected, describe() + " closed the connection");
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return broken(ErrorCode::kDisconnected, describe() + ": " + errnoText(errno));
      }
    }
    if (fd_ >= 0 && has(ev, IoEvent::kWrite)) flush();
  }

  void flush() {
    while (!out_.empty() && fd_ >= 0) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        written_ += static_cast<size_t>(n);
        out_.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        (void)loop_.modifyFd(watch_, IoEvent::kRead | IoEvent::kWrite);
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      int e = errno;
      // Report asynchronously: write() callers expect no re-entrant close.
      closeFd();
      out_.clear();
      loop_.post([this, e, gen = generation_] {
        if (gen == generation_ && handlers_.onClosed)
          handlers_.onClosed(Error{ErrorCode::kDisconnected, describe() + ": write failed: " + errnoText(e)});
      });
      return;
    }
    if (fd_ >= 0 && out_.empty()) {
      (void)loop_.modifyFd(watch_, static_cast<uint32_t>(IoEvent::kRead));
      loop_.post([this, gen = generation_] {
        if (gen == generation_ && out_.empty() && handlers_.onFlushed) handlers_.onFlushed();
      });
    }
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  Handlers handlers_;
  int fd_ = -1;
  EventLoop::WatchId watch_ = 0;
  bool connecting_ = false;
  std::string out_;
  size_t written_ = 0;
  unsigned generation_ = 0;
};

// Appends labels to a file: for demos and tests, and for printers fed by a spooler.
class FileLink final : public PrinterLink {
 public:
  FileLink(EventLoop& loop, config::DeviceAddress address) : loop_(loop), address_(std::move(address)) {}
  ~FileLink() override { close(); }

  Status open(Handlers handlers) override {
    close();
    handlers_ = std::move(handlers);
    fd_ = ::open(address_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      int e = errno;
      return fail(ErrorCode::kIo, fmt::format("cannot open label file {}: {}; check the directory exists and is "
                                              "writable by the floorlink user", address_.path, errnoText(e)));
    }
    loop_.post([this, gen = generation_] { if (gen == generation_ && handlers_.onOpen) handlers_.onOpen(); });
    return ok();
  }
  void close() override {
    ++generation_;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool isOpen() const override { return fd_ >= 0; }
  Status write(std::string_view bytes) override {
    if (fd_ < 0) return fail(ErrorCode::kDisconnected, describe() + " is not open");
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno == ENOSPC ? ErrorCode::kDiskFull : ErrorCode::kIo,
                             describe() + ": write failed: " + errnoText(errno));
      done += static_cast<size_t>(n);
      written_ += static_cast<size_t>(n);
    }
    if (::fdatasync(fd_) != 0) return fail(ErrorCode::kIo, describe() + ": fdatasync failed: " + errnoText(errno));
    loop_.post([this, gen = generation_] { if (gen == generation_ && handlers_.onFlushed) handlers_.onFlushed(); });
    return ok();
  }
  size_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return false; }
  std::string describe() const override { return "file:" + address_.path; }

 private:
  EventLoop& loop_;
  config::DeviceAddress address_;
  Handlers handlers_;
  int fd_ = -1;
  size_t written_ = 0;
  unsigned generation_ = 0;
};

}  // namespace

Result<std::unique_ptr<PrinterLink>> createTcpLink(EventLoop& loop, const config::DeviceAddress& address) {
  if (address.host.empty()) return fail(ErrorCode::kInvalidArgument, "tcp printer address needs a host");
  return std::make_unique<TcpLink>(loop, address);
}

Result<std::unique_ptr<PrinterLink>> createFileLink(EventLoop& loop, const config::DeviceAddress& address) {
  if (address.path.empty()) return fail(ErrorCode::kInvalidArgument, "file: printer address needs a path");
  return std::make_unique<FileLink>(loop, address);
}

}  // namespace floorlink::printers::detail
