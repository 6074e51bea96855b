// Address parameters: one validator for every device kind.
#include <gtest/gtest.h>

#include "io/transport.h"
#include "tests/io/test_util.h"

namespace floorlink::io {
namespace {

Error errorOf(const std::string& address, UsbClass usb = UsbClass::kHid) {
  auto loop = EventLoop::create().value();
  auto t = createTransport(*loop, config::parseAddress(address).value(), {.usb = usb});
  EXPECT_FALSE(t) << address;
  return t ? Error{} : t.error();
}

TEST(TransportParams, SerialBaudFormatAndFlowAreValidated) {
  EXPECT_EQ(errorOf("serial:/dev/ttyS0?baud=fast").message,
            "address \"serial:/dev/ttyS0?baud=fast\": baud=fast is not a number from 50 to 4000000");
  EXPECT_EQ(errorOf("serial:/dev/ttyS0?format=9N1").code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(errorOf("serial:/dev/ttyS0?flow=hardware").message,
            "address \"serial:/dev/ttyS0?flow=hardware\": flow=hardware is not one of none, xonxoff, rtscts, dtrdsr");
  EXPECT_EQ(errorOf("serial:/dev/ttyS0?parity=E").message,
            "address \"serial:/dev/ttyS0?parity=E\": unknown serial parameter \"parity\" (known: baud, format, flow)");
}

TEST(TransportParams, UnknownParametersAreNamedPerScheme) {
  EXPECT_EQ(errorOf("tcp://10.0.0.1:9100?retries=3").message,
            "address \"tcp://10.0.0.1:9100?retries=3\": unknown tcp parameter \"retries\" (known: connect_timeout_ms)");
  EXPECT_EQ(errorOf("usb://0a5f:0164?status=none").code, ErrorCode::kInvalidArgument);  // not a HID parameter
  EXPECT_EQ(errorOf("usb://0c2e:0b61?usage_page=0x8c", UsbClass::kPrinter).message,
            "address \"usb://0c2e:0b61?usage_page=0x8c\": unknown usb printer parameter \"usage_page\" (known: serial, "
            "status)");
  EXPECT_EQ(errorOf("usb://0c2e:0b61?interface=300").message,
            "address \"usb://0c2e:0b61?interface=300\": interface=300 is not a number from 0 to 255");
}

TEST(TransportParams, SchemesWithoutAByteStreamAreRefused) {
  EXPECT_EQ(errorOf("evdev:/dev/input/event3").code, ErrorCode::kUnsupported);
  auto loop = EventLoop::create().value();
  EXPECT_TRUE(createTransport(*loop, config::parseAddress("file:/tmp/labels.zpl").value()));
}

}  // namespace
}  // namespace floorlink::io
