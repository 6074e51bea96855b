// A keyboard-wedge scanner on an umockdev evdev node types a GS1 code with
// Ctrl+] as the separator; the transport grabs the device exclusively.
#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

#include "drivers/device_manager.h"
#include "drivers/scanner.h"
#include "tests/drivers/test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::drivers {
namespace {

using testing::runUntil;
using test::UmockdevTestbed;

void typeDigits(UmockdevTestbed& bed, const UmockdevTestbed::EvdevDevice& kbd, std::string_view digits) {
  static constexpr uint16_t kDigitKeys[] = {KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9};
  for (char c : digits) bed.tapKey(kbd, kDigitKeys[c - '0']);
}

TEST(EvdevScannerUmockdev, TypesGs1WithCtrlBracketOnGermanLayout) {
  UmockdevTestbed bed;
  auto kbd = bed.addEvdevKeyboard("event7", "usb-Honeywell_1950g_HID_KBW-event-kbd");
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto manager = DeviceManager::create(*loop, clock, Logger()).value();
  auto cfg = testing::scannerConfig("pack-scanner", "evdev:" + kbd.byId + "?layout=de", {{"suffix", "cr"}});
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  std::vector<ScanValue> scans;
  scanner->setHandlers({.onScan = [&](const ScanValue& v) { scans.push_back(v); },
                        .onBadScan = [](const Error& e, const std::string&) { ADD_FAILURE() << e.message; }});
  ASSERT_TRUE(manager->add(cfg, scanner->deviceClient()));
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pack-scanner")->status.state == DeviceState::kOk; }));
  EXPECT_TRUE(bed.grabbed(kbd));

  // (01)09501101530003(10)AB-12<GS>(21)Z9 typed on a German keyboard:
  // Y and Z swapped, '-' on the slash key, GS as Ctrl+].
  bed.tapKey(kbd, KEY_RIGHTBRACE, {KEY_LEFTCTRL});  // FNC1 in first position
  typeDigits(bed, kbd, "010950110153000310");
  bed.tapKey(kbd, KEY_A, {KEY_LEFTSHIFT});
  bed.tapKey(kbd, KEY_B, {KEY_LEFTSHIFT});
  bed.tapKey(kbd, KEY_SLASH);
  typeDigits(bed, kbd, "12");
  bed.tapKey(kbd, KEY_RIGHTBRACE, {KEY_LEFTCTRL});
  typeDigits(bed, kbd, "21");
  bed.tapKey(kbd, KEY_Y, {KEY_LEFTSHIFT});  // 'Z' on QWERTZ
  typeDigits(bed, kbd, "9");
  bed.tapKey(kbd, KEY_ENTER);
  ASSERT_TRUE(runUntil(*loop, [&] { return !scans.empty(); }));
  EXPECT_EQ(scans[0].kind, ScanKind::kGtin);
  EXPECT_EQ(scans[0].gtin, "09501101530003");
  EXPECT_EQ(scans[0].lot, "AB-12");
  EXPECT_EQ(scans[0].serial, "Z9");
  EXPECT_EQ(scans[0].raw, "\x1d" "010950110153000310AB-12\x1d" "21Z9");
  EXPECT_FALSE(scanner->supportsFeedback());
  EXPECT_NE(manager->device("pack-scanner")->transport.find("layout de (/dev/input/event7)"), std::string::npos);

  // Unplugged: offline, and the grab is gone with the device.
  bed.unplug(kbd);
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pack-scanner")->status.state == DeviceState::kOffline; }));
  EXPECT_FALSE(bed.grabbed(kbd));
  // Plugged into another port: a new event node, the same by-id name.
  auto again = bed.addEvdevKeyboard("event9", "usb-Honeywell_1950g_HID_KBW-event-kbd");
  ASSERT_TRUE(runUntil(*loop, [&] { return manager->device("pack-scanner")->status.state == DeviceState::kOk; }));
  EXPECT_TRUE(bed.grabbed(again));
  bed.tapKey(again, KEY_A);
  bed.tapKey(again, KEY_ENTER);
  ASSERT_TRUE(runUntil(*loop, [&] { return scans.size() >= 2; }));
  EXPECT_EQ(scans[1].data, "a");

  manager->remove("pack-scanner");
  EXPECT_FALSE(bed.grabbed(again));  // released on close
}

TEST(EvdevTransportUmockdev, GrabConflictIsAFault) {
  UmockdevTestbed bed;
  auto kbd = bed.addEvdevKeyboard("event8", "usb-Datalogic_QD2430-event-kbd");
  auto loop = EventLoop::create().value();
  auto address = config::parseAddress("evdev:" + kbd.byId).value();
  auto first = createTransport(*loop, address).value();
  ASSERT_TRUE(first->open({}));
  auto second = createTransport(*loop, address).value();
  auto s = second->open({});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kBusy);
  EXPECT_NE(s.error().message.find("holds the keyboard exclusively"), std::string::npos);
  EXPECT_FALSE(first->write(testing::bytesOf("x")));
}

}  // namespace
}  // namespace floorlink::drivers
