// A fixed-mount scanner on loopback TCP: codes split across reads and joined
// in one read, the peer closing, and the device manager reconnecting.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "drivers/device_manager.h"
#include "drivers/scanner.h"
#include "tests/drivers/test_util.h"

namespace floorlink::drivers {
namespace {

using testing::runUntil;

class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
  }
  ~LoopbackServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // Each connection gets the next script: chunks sent with a pause between,
  // then the connection is closed. Also records what the client wrote.
  void serve(std::vector<std::vector<std::string>> scripts) {
    thread_ = std::thread([this, scripts] {
      for (auto& chunks : scripts) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        ++accepted;
        for (auto& chunk : chunks) {
          ::send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
        ::shutdown(c, SHUT_WR);
        char buf[256];
        ssize_t n;
        while ((n = ::recv(c, buf, sizeof buf, 0)) > 0) received.append(buf, static_cast<size_t>(n));
        ::close(c);
      }
    });
  }
  std::atomic<int> accepted{0};
  std::string received;  // read after join

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(TcpScanner, SplitAndJoinedCodesThenReconnect) {
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto manager = DeviceManager::create(*loop, clock, Logger(),
                                       {.backoffMin = std::chrono::milliseconds(20),
                                        .backoffMax = std::chrono::milliseconds(100)})
                     .value();
  LoopbackServer server;
  server.serve({{"]C1001061414123", "45678908\r", "]E04006381333931\r]C0A01-02\r]Q1hello\r"}, {"]C0AFTER\r"}});
  auto cfg = testing::scannerConfig("dock-1", "tcp://127.0.0.1:" + std::to_string(server.port()),
                                    {{"bin_pattern", "^[A-Z]\\d{2}-\\d{2}$"}, {"good_read", "OK\\r"}});
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  std::vector<ScanValue> scans;
  scanner->setHandlers({.onScan = [&](const ScanValue& v) {
                          scans.push_back(v);
                          if (scans.size() == 1) {
                            EXPECT_TRUE(scanner->feedback(true));
                          }
                        },
                        .onBadScan = [](const Error& e, const std::string&) { ADD_FAILURE() << e.message; }});
  std::vector<std::string> states;
  manager->setStatusListener([&](const std::string&, const DeviceStatus& s) {
    states.push_back(std::string(toString(s.state)));
  });
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  ASSERT_TRUE(runUntil(*loop, [&] { return scans.size() >= 5; })) << scans.size();
  EXPECT_EQ(scans[0].kind, ScanKind::kSscc);
  EXPECT_EQ(scans[0].sscc, "106141412345678908");
  EXPECT_EQ(scans[1].kind, ScanKind::kGtin);
  EXPECT_EQ(scans[2].kind, ScanKind::kBinLabel);
  EXPECT_EQ(scans[3].kind, ScanKind::kText);
  EXPECT_EQ(scans[3].symbology, Symbology::kQrCode);
  EXPECT_EQ(scans[4].data, "AFTER");  // arrived over the second connection
  EXPECT_EQ(server.accepted.load(), 2);
  EXPECT_GE(manager->device("dock-1")->reconnects, 1u);
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[0], "ok");
  EXPECT_EQ(states[1], "offline");
  manager.reset();  // closes the socket so the server thread ends
  scanner.reset();
}

}  // namespace
}  // namespace floorlink::drivers
