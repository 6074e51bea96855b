#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace floorlink::testing {

struct TcpProxy::Impl {
  int listenFd = -1;
  int wakeFd = -1;
  uint16_t port = 0;
  uint16_t target = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cutRequested{false};
  TcpProxyOptions options;
  std::atomic<int> refused{0};
  std::thread thread;
  struct Pair {
    int a, b;
    bool checked = false;  // first client bytes looked at (refuseMqtt5)
  };

  // MQTT CONNECT: 0x10, remaining length (1-4 bytes), 00 04 "MQTT", level.
  static bool isMqtt5Connect(const char* p, ssize_t n) {
    if (n < 2 || static_cast<uint8_t>(p[0]) != 0x10) return false;
    ssize_t i = 1;
    while (i < n && i < 5 && (static_cast<uint8_t>(p[i]) & 0x80)) ++i;
    ++i;  // past the last length byte
    return n > i + 6 && p[i] == 0 && p[i + 1] == 4 && std::memcmp(p + i + 2, "MQTT", 4) == 0 && p[i + 6] == 5;
  }
  std::vector<Pair> pairs;  // proxy thread only

  static void resetClose(int fd) {
    linger l{1, 0};  // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }

  int connectTarget() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void run() {
    char buf[65536];
    while (!stopping) {
      if (cutRequested.exchange(false)) {
        for (auto& p : pairs) {
          resetClose(p.a);
          resetClose(p.b);
        }
        pairs.clear();
      }
      std::vector<pollfd> fds;
      fds.push_back({listenFd, POLLIN, 0});
      fds.push_back({wakeFd, POLLIN, 0});
      for (auto& p : pairs) {
        fds.push_back({p.a, POLLIN, 0});
        fds.push_back({p.b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 200) < 0) continue;
      if (fds[1].revents) {
        uint64_t v;
        [[maybe_unused]] auto n = ::read(wakeFd, &v, sizeof v);
      }
      std::vector<size_t> dead;
      for (size_t i = 0; i < pairs.size(); ++i) {
        for (int side = 0; side < 2; ++side) {
          const auto& pfd = fds[2 + i * 2 + side];
          if (!pfd.revents) continue;
          int from = side == 0 ? pairs[i].a : pairs[i].b;
          int to = side == 0 ? pairs[i].b : pairs[i].a;
          ssize_t n = ::read(from, buf, sizeof buf);
          if (side == 0 && options.refuseMqtt5 && !pairs[i].checked && n > 0) {
            pairs[i].checked = true;
            if (isMqtt5Connect(buf, n)) {
              const char connack[] = {0x20, 0x02, 0x00, 0x01};
              [[maybe_unused]] auto w = ::write(from, connack, sizeof connack);
              ++refused;
              dead.push_back(i);
              break;
            }
          }
          bool okWrite = n > 0;
          for (ssize_t off = 0; okWrite && off < n;) {
            ssize_t w = ::write(to, buf + off, n - off);
            if (w <= 0) okWrite = false;
            else off += w;
          }
          if (!okWrite) {
            dead.push_back(i);
            break;
          }
        }
      }
      for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
        ::close(pairs[*it].a);
        ::close(pairs[*it].b);
        pairs.erase(pairs.begin() + static_cast<long>(*it));
      }
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          int t = connectTarget();
          if (t < 0) {
            resetClose(c);
          } else {
            pairs.push_back({c, t});
          }
        }
      }
    }
    for (auto& p : pairs) {
      ::close(p.a);
      ::close(p.b);
    }
  }
};

TcpProxy::TcpProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

int TcpProxy::refusedMqtt5() const {
  return impl_->refused.load();
}

TcpProxy::~TcpProxy() {
  impl_->stopping = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wakeFd, &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->listenFd);
  ::close(impl_->wakeFd);
}

Result<std::unique_ptr<TcpProxy>> TcpProxy::start(uint16_t targetPort, TcpProxyOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->target = targetPort;
  impl->options = options;
  impl->listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->listenFd < 0) return fail(ErrorCode::kIo, "proxy socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(impl->listenFd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(impl->listenFd, 16) != 0) {
    ::close(impl->listenFd);
    return fail(ErrorCode::kIo, std::string("proxy bind/listen failed: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(impl->listenFd, reinterpret_cast<sockaddr*>(&addr), &len);
  impl->port = ntohs(addr.sin_port);
  impl->wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  auto* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<TcpProxy>(new TcpProxy(std::move(impl)));
}

uint16_t TcpProxy::port() const { return impl_->port; }

std::string TcpProxy::url(const std::string& scheme) const {
  return scheme + "://127.0.0.1:" + std::to_string(impl_->port);
}

void TcpProxy::cut() {
  impl_->cutRequested = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wakeFd, &one, sizeof one);
}

}  // namespace floorlink::testing
