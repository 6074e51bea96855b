// libserialport really opens an emulated /dev/ttyUSB0 (umockdev: sysfs
// entry, pty, modem-line ioctls) through its /dev/serial/by-id link.
#include <gtest/gtest.h>

#include "io/transport.h"
#include "tests/io/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::io {
namespace {

using testing::runUntil;
using test::UmockdevTestbed;

constexpr const char* kById = "usb-Honeywell_Imaging_Mobility_1950g_20123B4567-if00-port0";

TEST(SerialTransportUmockdev, OpensConfiguresReadsAndWrites) {
  UmockdevTestbed bed;
  auto port = bed.addSerialPort("ttyUSB0", kById);
  auto loop = EventLoop::create().value();
  // A pty forces 8 data bits without parity (the kernel's pty_set_termios),
  // so the emulated port runs 8N1; 7E1 is checked on describe() below.
  auto address = config::parseAddress(std::string("serial:") + port.byId + "?baud=9600&format=8n1&flow=none").value();
  auto t = createTransport(*loop, address).value();
  std::string got;
  bool connected = false;
  auto opened = t->open({.onData = [&](std::span<const uint8_t> b) { got.append(reinterpret_cast<const char*>(b.data()), b.size()); },
                          .onClosed = {},
                          .onConnected = [&] { connected = true; }});
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(t->describe(), "serial:" + port.byId + " 9600 8N1 (/dev/ttyUSB0)");
  auto sevenE1 = createTransport(*loop, config::parseAddress("serial:/dev/ttyS0?baud=4800&format=7E1&flow=rtscts").value());
  ASSERT_TRUE(sevenE1);
  EXPECT_EQ((*sevenE1)->describe(), "serial:/dev/ttyS0 4800 7E1 rtscts");
  bed.sendFromDevice(port, "]C0HELLO\r");
  ASSERT_TRUE(runUntil(*loop, [&] { return got.size() >= 9; }));
  EXPECT_EQ(got, "]C0HELLO\r");
  EXPECT_TRUE(connected);
  ASSERT_TRUE(t->write(testing::bytesOf("\x16M\rBEPEXE1.")));
  (void)loop->runFor(std::chrono::milliseconds(20));
  EXPECT_EQ(bed.receiveFromHost(port, std::chrono::milliseconds(1000)), "\x16M\rBEPEXE1.");
  t->close();
  EXPECT_FALSE(t->isOpen());
}

TEST(SerialTransportUmockdev, MissingDeviceSaysWhatToCheck) {
  UmockdevTestbed bed;
  auto loop = EventLoop::create().value();
  auto t = createTransport(*loop, config::parseAddress("serial:/dev/serial/by-id/usb-gone-if00-port0").value()).value();
  auto s = t->open({});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_NE(s.error().message.find("is it plugged in? check the cable"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace floorlink::io
