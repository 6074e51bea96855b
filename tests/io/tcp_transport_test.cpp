// A TCP transport against loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

#include "io/transport.h"
#include "tests/io/test_util.h"

namespace floorlink::io {
namespace {

using testing::runUntil;

TEST(TcpTransport, RefusedConnectionReportsClosedWithReason) {
  auto loop = EventLoop::create().value();
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(probe);  // a free port: connecting is refused
  auto address = config::parseAddress("tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port))).value();
  auto t = createTransport(*loop, address).value();
  std::optional<Error> closed;
  bool connected = false;
  ASSERT_TRUE(t->open({.onData = {}, .onClosed = [&](const Error& e) { closed = e; },
                       .onConnected = [&] { connected = true; }}));
  ASSERT_TRUE(runUntil(*loop, [&] { return closed.has_value(); }));
  EXPECT_FALSE(connected);
  EXPECT_EQ(closed->code, ErrorCode::kDisconnected);
  EXPECT_NE(closed->message.find("Connection refused"), std::string::npos) << closed->message;
  EXPECT_FALSE(t->isOpen());
  EXPECT_EQ(t->describe(), "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  EXPECT_FALSE(createTransport(*loop, config::parseAddress("tcp://127.0.0.1:9?retries=3").value()));
  EXPECT_FALSE(createTransport(*loop, config::parseAddress("evdev:/dev/input/event0").value()));
}

}  // namespace
}  // namespace floorlink::io
