#include "drivers/device_manager.h"

#include <gtest/gtest.h>

#include "tests/drivers/test_util.h"

namespace floorlink::drivers {
namespace {

using testing::FakeTransport;
using testing::runUntil;

TEST(RawLog, KeepsTheLastBytesWithTimestamps) {
  RawLog log(10, 3);
  log.add(1000, RawDirection::kIn, testing::bytesOf("abcd"));
  log.add(2000, RawDirection::kOut, testing::bytesOf("efgh"));
  log.add(3000, RawDirection::kIn, testing::bytesOf("ijkl"));  // 12 bytes > 10: oldest goes
  auto s = log.snapshot();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].timeMs, 2000);
  EXPECT_EQ(s[0].direction, RawDirection::kOut);
  EXPECT_EQ(std::string(s[1].bytes.begin(), s[1].bytes.end()), "ijkl");
  EXPECT_EQ(log.bytes(), 8u);
  log.add(4000, RawDirection::kIn, testing::bytesOf("0123456789ABC"));  // larger than the log: tail kept
  s = log.snapshot();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(std::string(s[0].bytes.begin(), s[0].bytes.end()), "3456789ABC");
  EXPECT_EQ(log.snapshot(0).size(), 0u);
  EXPECT_EQ(formatRawChunk(RawChunk{1763780001234, RawDirection::kIn, {0x5D, 0x43, 0x0D}}).substr(0, 30),
            "02:53:21.234 < 5D 43 0D  ]C.");
}

class DeviceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop = EventLoop::create().value();
    manager = DeviceManager::create(*loop, clock, Logger(),
                                    {.backoffMin = std::chrono::milliseconds(10),
                                     .backoffMax = std::chrono::milliseconds(40)})
                  .value();
    manager->setStatusListener([this](const std::string& id, const DeviceStatus& s) {
      statuses.push_back(id + ":" + std::string(toString(s.state)) + ":" + s.detail);
    });
  }
  FakeClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<DeviceManager> manager;
  std::vector<std::string> statuses;
};

TEST_F(DeviceManagerTest, OpensRecordsRawAndReportsStatus) {
  auto st = std::make_shared<FakeTransport::State>();
  std::string got;
  DeviceWriter writer;
  DeviceClient client;
  client.onData = [&](std::span<const uint8_t> b) { got.append(reinterpret_cast<const char*>(b.data()), b.size()); };
  client.onConnected = [&](DeviceWriter w) { writer = std::move(w); };
  ASSERT_TRUE(manager->add(testing::scannerConfig("scan-1", "tcp://127.0.0.1:1"), std::make_unique<FakeTransport>(st),
                           client));
  EXPECT_EQ(statuses, (std::vector<std::string>{"scan-1:ok:connected"}));
  st->handlers.onData(testing::bytesOf("]C0A\r"));
  EXPECT_EQ(got, "]C0A\r");
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer(testing::bytesOf("BEEP")));
  EXPECT_EQ(st->written, "BEEP");
  auto raw = manager->raw("scan-1");
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].direction, RawDirection::kIn);
  EXPECT_EQ(raw[1].direction, RawDirection::kOut);
  auto info = manager->device("scan-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->bytesIn, 5u);
  EXPECT_EQ(info->bytesOut, 4u);
  EXPECT_EQ(info->identity, "127.0.0.1:1");
  EXPECT_FALSE(manager->add(testing::scannerConfig("scan-1", "tcp://127.0.0.1:1"),
                            std::make_unique<FakeTransport>(st), {}));
}

TEST_F(DeviceManagerTest, ReconnectsWithBackoffAfterClose) {
  auto st = std::make_shared<FakeTransport::State>();
  int disconnects = 0;
  DeviceClient client;
  client.onDisconnected = [&](const DeviceStatus&) { ++disconnects; };
  ASSERT_TRUE(manager->add(testing::scannerConfig("s", "tcp://127.0.0.1:1"), std::make_unique<FakeTransport>(st),
                           client));
  st->nextOpen = fail(ErrorCode::kDisconnected, "connection refused");
  st->open = false;
  st->handlers.onClosed(Error{ErrorCode::kDisconnected, "peer closed"});
  EXPECT_EQ(disconnects, 1);
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kOffline);
  ASSERT_TRUE(runUntil(*loop, [&] { return st->opens >= 3; }));
  st->nextOpen = ok();
  ASSERT_TRUE(runUntil(*loop, [&] { return st->open; }));
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kOk);
  EXPECT_EQ(manager->device("s")->reconnects, 1u);
  EXPECT_EQ(statuses.front(), "s:ok:connected");
  EXPECT_EQ(statuses[1], "s:offline:peer closed");
  EXPECT_EQ(statuses[2], "s:offline:connection refused");
  EXPECT_EQ(statuses.back(), "s:ok:connected");
}

TEST_F(DeviceManagerTest, PermissionProblemsAreFaultsAndDriverFaultsWin) {
  auto st = std::make_shared<FakeTransport::State>();
  st->nextOpen = fail(ErrorCode::kPermission, "cannot open /dev/ttyUSB0: Permission denied");
  ASSERT_TRUE(manager->add(testing::scannerConfig("s", "tcp://127.0.0.1:1"), std::make_unique<FakeTransport>(st), {}));
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kFault);
  EXPECT_NE(manager->device("s")->status.detail.find("Permission denied"), std::string::npos);
  st->nextOpen = ok();
  manager->reconnectNow("s");
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kOk);
  manager->reportFault("s", "answers garbage");
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kFault);
  EXPECT_EQ(manager->device("s")->status.detail, "answers garbage");
  manager->reportOk("s");
  EXPECT_EQ(manager->device("s")->status.state, DeviceState::kOk);
}

TEST_F(DeviceManagerTest, BadAddressParametersFailAtAdd) {
  auto r = manager->add(testing::scannerConfig("s", "serial:/dev/ttyUSB0?baud=fast"), {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("floorlink.toml:10"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("baud=fast"), std::string::npos);
  EXPECT_FALSE(manager->add(testing::scannerConfig("s2", "serial:/dev/ttyUSB0?format=9X1"), {}));
  EXPECT_FALSE(manager->add(testing::scannerConfig("s3", "serial:/dev/ttyUSB0?parity=odd"), {}));
  EXPECT_FALSE(manager->add(testing::scannerConfig("s4", "evdev:/dev/input/event3?layout=fr"), {}));
  EXPECT_FALSE(manager->add(testing::scannerConfig("s5", "usb://0c2e:0b61?usage_page=zz"), {}));
  EXPECT_TRUE(manager->devices().empty());
}

TEST_F(DeviceManagerTest, MissingSerialDeviceIsOfflineNotAnError) {
  ASSERT_TRUE(manager->add(testing::scannerConfig("s", "serial:/dev/serial/by-id/usb-none-if00-port0"), {}));
  auto info = manager->device("s");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status.state, DeviceState::kOffline);
  EXPECT_NE(info->status.detail.find("no such device"), std::string::npos) << info->status.detail;
  EXPECT_EQ(info->identity, "/dev/serial/by-id/usb-none-if00-port0");
}

}  // namespace
}  // namespace floorlink::drivers
