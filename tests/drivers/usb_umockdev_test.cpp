// libusb really enumerates and reads an umockdev-emulated HID POS scanner:
// descriptors in sysfs, the usbdevfs ioctls answered by the test harness.
#include <gtest/gtest.h>

#include "drivers/device_manager.h"
#include "drivers/scanner.h"
#include "tests/drivers/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::drivers {
namespace {

using testing::runUntil;
using test::UmockdevTestbed;

TEST(UsbScannerUmockdev, HidPosScanAcrossTwoReports) {
  UmockdevTestbed bed;
  auto dev = bed.addUsbHidDevice({});
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto manager = DeviceManager::create(*loop, clock, Logger()).value();
  auto cfg = testing::scannerConfig("ship-scanner", "usb://0c2e:0b61?serial=20123B4567");
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  std::vector<ScanValue> scans;
  scanner->setHandlers({.onScan = [&](const ScanValue& v) { scans.push_back(v); },
                        .onBadScan = [](const Error& e, const std::string&) { ADD_FAILURE() << e.message; }});
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("ship-scanner")->status.state == DeviceState::kOk; }));
  // 90 bytes: more than one 64-byte report carries.
  std::string data = "0109501101530003" "17240200" "10LOT-12\x1d" "91" + std::string(40, 'X') + "\x1d" "21SERIAL-0001";
  for (auto& r : test::hidPosScannerReports("]d2", data)) bed.queueInputReport(dev, r);
  ASSERT_TRUE(runUntil(*loop, [&] { return !scans.empty(); }));
  EXPECT_EQ(scans[0].kind, ScanKind::kGtin);
  EXPECT_EQ(scans[0].symbology, Symbology::kGs1DataMatrix);
  EXPECT_EQ(scans[0].lot, "LOT-12");
  EXPECT_EQ(scans[0].gs1->find("91")->value, std::string(40, 'X'));
  EXPECT_EQ(scans[0].serial, "SERIAL-0001");
  EXPECT_EQ(manager->device("ship-scanner")->identity, "usb 0c2e:0b61 serial 20123B4567");
}

TEST(UsbScannerUmockdev, PluggedInLaterIsPickedUpWithoutWaitingForTheBackoff) {
  UmockdevTestbed bed;
  auto loop = EventLoop::create().value();
  FakeClock clock;
  // A backoff far longer than the test: only hotplug detection can open it.
  auto manager = DeviceManager::create(*loop, clock, Logger(),
                                       {.backoffMin = std::chrono::seconds(60), .backoffMax = std::chrono::seconds(60)})
                     .value();
  auto cfg = testing::scannerConfig("late-scanner", "usb://0c2e:0b61");
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  auto info = manager->device("late-scanner").value();
  EXPECT_EQ(info.status.state, DeviceState::kOffline);
  EXPECT_NE(info.status.detail.find("no USB device 0c2e:0b61"), std::string::npos) << info.status.detail;
  (void)loop->runFor(std::chrono::milliseconds(50));
  bed.addUsbHidDevice({});
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("late-scanner")->status.state == DeviceState::kOk; },
                       std::chrono::milliseconds(5000)))
      << manager->device("late-scanner")->status.detail;
}

TEST(UsbScannerUmockdev, UnplugAndReplugElsewhere) {
  UmockdevTestbed bed;
  auto dev = bed.addUsbHidDevice({});
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto manager = DeviceManager::create(*loop, clock, Logger(),
                                       {.backoffMin = std::chrono::seconds(60), .backoffMax = std::chrono::seconds(60)})
                     .value();
  auto cfg = testing::scannerConfig("ship-scanner", "usb://0c2e:0b61?serial=20123B4567");
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  std::vector<ScanValue> scans;
  scanner->setHandlers({.onScan = [&](const ScanValue& v) { scans.push_back(v); }, .onBadScan = {}});
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("ship-scanner")->status.state == DeviceState::kOk; }));
  bed.unplug(dev);
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("ship-scanner")->status.state == DeviceState::kOffline; }));
  EXPECT_NE(manager->device("ship-scanner")->status.detail.find("usb 0c2e:0b61 serial 20123B4567 was unplugged"),
            std::string::npos)
      << manager->device("ship-scanner")->status.detail;
  // Another port: another bus and device number, the same identity.
  UmockdevTestbed::UsbHidSpec moved;
  moved.busNumber = 2;
  moved.deviceNumber = 9;
  auto again = bed.addUsbHidDevice(moved);
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("ship-scanner")->status.state == DeviceState::kOk; }))
      << manager->device("ship-scanner")->status.detail;
  for (auto& r : test::hidPosScannerReports("]E0", "4006381333931")) bed.queueInputReport(again, r);
  ASSERT_TRUE(runUntil(*loop, [&] { return !scans.empty(); }));
  EXPECT_EQ(scans[0].gtin, "04006381333931");
  EXPECT_EQ(manager->device("ship-scanner")->reconnects, 1u);
}

}  // namespace
}  // namespace floorlink::drivers
