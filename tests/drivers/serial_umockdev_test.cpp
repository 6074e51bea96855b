// libserialport really opens an emulated /dev/ttyUSB0 (umockdev: sysfs
// entry, pty, modem-line ioctls) through its /dev/serial/by-id link.
#include <gtest/gtest.h>

#include "drivers/device_manager.h"
#include "drivers/scanner.h"
#include "tests/drivers/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::drivers {
namespace {

using testing::runUntil;
using test::UmockdevTestbed;

constexpr const char* kById = "usb-Honeywell_Imaging_Mobility_1950g_20123B4567-if00-port0";

TEST(SerialScannerUmockdev, ScansUnplugReplug) {
  UmockdevTestbed bed;
  auto port = bed.addSerialPort("ttyUSB0", kById);
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto manager = DeviceManager::create(*loop, clock, Logger(),
                                       {.backoffMin = std::chrono::milliseconds(50),
                                        .backoffMax = std::chrono::milliseconds(200)})
                     .value();
  auto cfg = testing::scannerConfig("pick-scanner-1", std::string("serial:") + port.byId + "?baud=115200",
                                    {{"suffix", "cr"}, {"command_pattern", "^CMD:(.+)$"}, {"bad_read", "\\x07"}});
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  std::vector<ScanValue> scans;
  std::vector<std::string> bad;
  scanner->setHandlers({.onScan = [&](const ScanValue& v) { scans.push_back(v); },
                        .onBadScan = [&](const Error& e, const std::string&) { bad.push_back(e.message); }});
  std::vector<std::string> states;
  manager->setStatusListener([&](const std::string& id, const DeviceStatus& s) {
    EXPECT_EQ(id, "pick-scanner-1");
    states.push_back(std::string(toString(s.state)) + ": " + s.detail);
  });
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pick-scanner-1")->status.state == DeviceState::kOk; }));

  bed.sendFromDevice(port, "]C1010950110153000317240200" "10LOT-7\x1d" "21SN1\r");
  bed.sendFromDevice(port, "CMD:SKIP\r]C0TOTE-");
  bed.sendFromDevice(port, "0042\r]E04006381333932\r");
  ASSERT_TRUE(runUntil(*loop, [&] { return scans.size() >= 3 && !bad.empty(); }));
  EXPECT_EQ(scans[0].kind, ScanKind::kGtin);
  EXPECT_EQ(scans[0].gtin, "09501101530003");
  EXPECT_EQ(scans[0].lot, "LOT-7");
  EXPECT_EQ(scans[0].serial, "SN1");
  EXPECT_EQ(scans[0].expiry->day, 29);
  EXPECT_EQ(scans[1].kind, ScanKind::kCommand);
  EXPECT_EQ(scans[1].command, "SKIP");
  EXPECT_EQ(scans[2].data, "TOTE-0042");
  EXPECT_NE(bad[0].find("check digit"), std::string::npos);
  EXPECT_EQ(bed.receiveFromHost(port, std::chrono::milliseconds(1000)), "\x07");  // bad-read beep reached the scanner
  auto raw = manager->raw("pick-scanner-1");
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw.back().direction, RawDirection::kOut);

  // Unplug: the by-id link and /dev/ttyUSB0 disappear.
  bed.unplug(port);
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pick-scanner-1")->status.state == DeviceState::kOffline; }));
  EXPECT_NE(manager->device("pick-scanner-1")->status.detail.find("unplugged"), std::string::npos);

  // Replug: the kernel names it ttyUSB1 this time; the by-id path stays.
  auto again = bed.addSerialPort("ttyUSB1", kById);
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pick-scanner-1")->status.state == DeviceState::kOk; }));
  auto info = manager->device("pick-scanner-1").value();
  EXPECT_EQ(info.reconnects, 1u);
  EXPECT_NE(info.transport.find("(/dev/ttyUSB1)"), std::string::npos) << info.transport;
  EXPECT_EQ(info.identity, port.byId);
  bed.sendFromDevice(again, "]C100106141412345678908\r");
  ASSERT_TRUE(runUntil(*loop, [&] { return scans.size() >= 4; }));
  EXPECT_EQ(scans[3].kind, ScanKind::kSscc);
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[0].substr(0, 2), "ok");
  EXPECT_EQ(states[1].substr(0, 7), "offline");
  EXPECT_EQ(states.back().substr(0, 2), "ok");
}

}  // namespace
}  // namespace floorlink::drivers
