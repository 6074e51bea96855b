// libusb really enumerates and reads an umockdev-emulated HID POS scanner:
// descriptors in sysfs, the usbdevfs ioctls answered by the test harness.
#include <gtest/gtest.h>

#include "io/transport.h"
#include "tests/io/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::io {
namespace {

using testing::runUntil;
using test::UmockdevTestbed;

TEST(UsbHidTransportUmockdev, ReadsReportsAndHandlesTheKernelDriver) {
  UmockdevTestbed bed;
  auto dev = bed.addUsbHidDevice({});
  auto loop = EventLoop::create().value();
  auto address = config::parseAddress("usb://0c2e:0b61?serial=20123B4567&usage_page=0x8c").value();
  auto t = createTransport(*loop, address).value();
  std::vector<std::vector<uint8_t>> reports;
  bool connected = false;
  auto s = t->open({.onData = [&](std::span<const uint8_t> r) { reports.emplace_back(r.begin(), r.end()); },
                    .onClosed = {},
                    .onConnected = [&] { connected = true; }});
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(t->describe(), "usb://0c2e:0b61 serial 20123B4567 (1950g HID POS)");
  auto stats = bed.usbStats(dev);
  EXPECT_EQ(stats.detachCount, 1);  // usbhid detached before claiming
  EXPECT_EQ(stats.claimCount, 1);
  bed.queueInputReport(dev, {0x02, 3, ']', 'C', '0', 'A', 'B', 'C', 0x00});
  ASSERT_TRUE(runUntil(*loop, [&] { return !reports.empty(); }));
  EXPECT_TRUE(connected);
  EXPECT_EQ(reports[0], (std::vector<uint8_t>{0x02, 3, ']', 'C', '0', 'A', 'B', 'C', 0x00}));
  ASSERT_TRUE(t->write(std::vector<uint8_t>{0x04, 0x01}));  // beeper output report
  ASSERT_TRUE(runUntil(*loop, [&] { return !bed.usbStats(dev).outReports.empty(); }));
  EXPECT_EQ(bed.usbStats(dev).outReports[0], (std::vector<uint8_t>{0x04, 0x01}));
  t->close();
  // The event thread hands the device back once the cancelled read is done.
  ASSERT_TRUE(testing::waitUntil([&] { return bed.usbStats(dev).releaseCount == 1; }));
  stats = bed.usbStats(dev);
  EXPECT_EQ(stats.releaseCount, 1);
  EXPECT_EQ(stats.attachCount, 1);  // usbhid gets the device back
}

TEST(UsbHidTransportUmockdev, WrongUsagePageOrSerialIsExplained) {
  UmockdevTestbed bed;
  bed.addUsbHidDevice({});
  auto loop = EventLoop::create().value();
  auto scale = createTransport(*loop, config::parseAddress("usb://0c2e:0b61?usage_page=0x8d").value()).value();
  auto s = scale->open({});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(s.error().message.find("usage page 0x8c, expected 0x8d"), std::string::npos) << s.error().message;
  auto other = createTransport(*loop, config::parseAddress("usb://0c2e:0b61?serial=NOPE").value()).value();
  s = other->open({});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_NE(s.error().message.find("with serial NOPE is connected"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace floorlink::io
