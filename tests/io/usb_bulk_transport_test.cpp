// The USB printer-class transport on an umockdev-emulated printer.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "io/transport.h"
#include "tests/io/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::io {
namespace {

using namespace std::chrono_literals;
using testing::runUntil;
using testing::waitUntil;
using test::UmockdevTestbed;

Result<std::unique_ptr<Transport>> printerTransport(EventLoop& loop, const std::string& address) {
  return createTransport(loop, config::parseAddress(address).value(), {.usb = UsbClass::kPrinter});
}

TEST(UsbBulkTransport, WritesLabelsAndReadsReplies) {
  UmockdevTestbed bed;
  auto dev = bed.addUsbPrinter({}, [](std::string_view bytes) { return bytes == "~HS" ? std::string("\x02OK\x03") : ""; });
  auto loop = EventLoop::create().value();
  auto t = printerTransport(*loop, "usb://0a5f:0164?serial=XXQ123").value();
  std::string got;
  bool connected = false;
  int flushed = 0;
  ASSERT_TRUE(t->open({.onData = [&](std::span<const uint8_t> b) { got.append(b.begin(), b.end()); },
                       .onClosed = {},
                       .onConnected = [&] { connected = true; },
                       .onFlushed = [&] { ++flushed; }}));
  ASSERT_TRUE(runUntil(*loop, [&] { return connected; }));
  EXPECT_TRUE(t->readsBack());
  EXPECT_EQ(t->node(), "/dev/bus/usb/001/007");
  ASSERT_TRUE(t->write(testing::bytesOf("~HS")));
  ASSERT_TRUE(runUntil(*loop, [&] { return got == "\x02OK\x03" && flushed > 0; }));
  EXPECT_EQ(t->bytesWritten(), 3u);
  EXPECT_EQ(bed.usbStats(dev).bulkOut, "~HS");
  t->close();
  ASSERT_TRUE(waitUntil([&] { return bed.usbStats(dev).releaseCount == 1; }));
}

TEST(UsbBulkTransport, StatusNoneDoesNotReadBack) {
  UmockdevTestbed bed;
  bed.addUsbPrinter({});
  auto loop = EventLoop::create().value();
  auto t = printerTransport(*loop, "usb://0a5f:0164?status=none").value();
  ASSERT_TRUE(t->open({}));
  EXPECT_FALSE(t->readsBack());
  EXPECT_FALSE(printerTransport(*loop, "usb://0a5f:0164?usage_page=0x8c"));  // a HID parameter
}

// The loop must not wait for a transfer the device is sitting on.
TEST(UsbBulkTransport, CloseReturnsAtOnceWhileTheWorkerIsInsideATransfer) {
  UmockdevTestbed bed;
  std::atomic<bool> inTransfer{false};
  auto dev = bed.addUsbPrinter({}, [&](std::string_view) {
    inTransfer = true;
    std::this_thread::sleep_for(1500ms);  // the printer holds the bulk OUT transfer
    return std::string();
  });
  auto loop = EventLoop::create().value();
  auto t = printerTransport(*loop, "usb://0a5f:0164?status=none").value();
  ASSERT_TRUE(t->open({}));
  ASSERT_TRUE(t->write(testing::bytesOf("^XA^FDlabel^FS^XZ")));
  ASSERT_TRUE(waitUntil([&] { return inTransfer.load(); }));
  auto start = std::chrono::steady_clock::now();
  t->close();
  t.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 50ms);
  // The worker releases the printer once the device lets go of the transfer.
  ASSERT_TRUE(waitUntil([&] { return bed.usbStats(dev).releaseCount == 1; }));
}

}  // namespace
}  // namespace floorlink::io
