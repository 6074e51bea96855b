#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/scales/scale_emulators.h"

namespace floorlink::testing {

// A scale on a loopback TCP port (MT-SICS unless told otherwise), answering
// from its own thread with blocking sockets, like a network scale would.
class TcpScaleServer {
 public:
  explicit TcpScaleServer(std::unique_ptr<ScaleEmulator> emulator = std::make_unique<MtSicsEmulator>())
      : emulator_(std::move(emulator)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 4);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TcpScaleServer() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    if (conn_ >= 0) ::shutdown(conn_, SHUT_RDWR);
    thread_.join();
    ::close(listen_);
    if (conn_ >= 0) ::close(conn_);
  }
  uint16_t port() const { return port_; }

  // Changes what is on the platter (any thread).
  void set(int64_t grams, bool motion) {
    std::lock_guard lock(mutex_);
    emulator_->state.grams = grams;
    emulator_->state.motion = motion;
  }
  // The scale closes the connection (network cut); it accepts again after.
  void dropConnection() {
    int c = conn_;
    if (c >= 0) ::shutdown(c, SHUT_RDWR);
  }
  void setSilent(bool silent) {
    std::lock_guard lock(mutex_);
    emulator_->state.silent = silent;
  }
  // When the last frame sent at or before `t` left the scale.
  std::chrono::steady_clock::time_point lastSentBefore(std::chrono::steady_clock::time_point t) {
    std::lock_guard lock(mutex_);
    std::chrono::steady_clock::time_point best{};
    for (auto s : sent_) {
      if (s <= t && s > best) best = s;
    }
    return best;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn_ = c;
      char buf[256];
      for (;;) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        std::string answer;
        {
          std::lock_guard lock(mutex_);
          answer = emulator_->feed(std::string_view(buf, static_cast<size_t>(n)));
        }
        if (answer.empty()) continue;
        auto now = std::chrono::steady_clock::now();
        {
          std::lock_guard lock(mutex_);
          sent_.push_back(now);
        }
        if (::send(c, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
      }
      ::close(c);
      conn_ = -1;
    }
  }

  int listen_ = -1;
  std::atomic<int> conn_{-1};
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::unique_ptr<ScaleEmulator> emulator_;
  std::vector<std::chrono::steady_clock::time_point> sent_;
};

}  // namespace floorlink::testing
