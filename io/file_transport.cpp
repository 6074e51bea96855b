// Appends to a file: demos and tests, and printers fed by a spooler. Writes
// are synchronous (a local file) and durable (fdatasync) before onFlushed.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

#include "core/loop_bound.h"
#include "io/transport_impl.h"

namespace floorlink::io::detail {
namespace {

class FileTransport final : public Transport {
 public:
  FileTransport(EventLoop& loop, config::DeviceAddress address) : address_(std::move(address)), bound_(loop) {}
  ~FileTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    written_ = 0;
    fd_ = ::open(address_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return fail(ErrorCode::kIo, fmt::format("cannot open file {}: {}; check the directory exists and is "
                                              "writable by the floorlink user", address_.path, errnoMessage(errno)));
    }
    handlers_ = std::move(handlers);
    postConnected(bound_, handlers_);
    return ok();
  }
  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return fd_ >= 0; }
  Status write(std::span<const uint8_t> bytes) override {
    bound_.assertLoopThread();
    if (fd_ < 0) return fail(ErrorCode::kDisconnected, describe() + " is not open");
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno == ENOSPC ? ErrorCode::kDiskFull : ErrorCode::kIo,
                             describe() + ": write failed: " + errnoMessage(errno));
      done += static_cast<size_t>(n);
      written_ += static_cast<uint64_t>(n);
    }
    if (::fdatasync(fd_) != 0) return fail(ErrorCode::kIo, describe() + ": fdatasync failed: " + errnoMessage(errno));
    bound_.post([this] {
      if (handlers_.onFlushed) handlers_.onFlushed();
    });
    return ok();
  }
  uint64_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return false; }
  std::string describe() const override { return "file:" + address_.path; }

 private:
  void closeQuietly() {
    bound_.invalidate();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  config::DeviceAddress address_;
  Handlers handlers_;
  int fd_ = -1;
  uint64_t written_ = 0;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createFileTransport(EventLoop& loop, const config::DeviceAddress& address) {
  if (address.path.empty()) return fail(ErrorCode::kInvalidArgument, "file: address needs a path");
  return std::make_unique<FileTransport>(loop, address);
}

}  // namespace floorlink::io::detail
