#include "drivers/scanner.h"

#include <gtest/gtest.h>

#include "drivers/device_manager.h"
#include "tests/drivers/test_util.h"

namespace floorlink::drivers {
namespace {

using testing::FakeTransport;
using testing::runUntil;
using testing::scannerConfig;

TEST(ScannerOptions, ErrorsQuoteTheConfigLine) {
  auto loop = EventLoop::create().value();
  auto bad = [&](std::map<std::string, std::string> options, std::string_view part,
                 std::string address = "serial:/dev/serial/by-id/x") {
    auto s = createScanner(*loop, scannerConfig("s", address, options), Logger());
    ASSERT_FALSE(s) << "accepted";
    EXPECT_NE(s.error().message.find(part), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("floorlink.toml:1"), std::string::npos) << s.error().message;
  };
  bad({{"suffix", "tab"}}, "devices[0].options.suffix: suffix \"tab\" is not one of cr, lf, crlf, none");
  bad({{"length", "0"}}, "options.length: \"0\" is not a whole number from 1 to 4096");
  bad({{"timeout_ms", "fast"}}, "options.timeout_ms");
  bad({{"bin_pattern", "(["}}, "options.bin_pattern: bin label pattern");
  bad({{"prefix", "\\q"}}, "unknown escape \\q");
  bad({{"good_read", "\\x1"}}, "two hex digits");
  bad({{"beep", "yes"}}, "unknown scanner option \"beep\"");
  bad({{"suffix", "none"}}, "needs length = N or timeout_ms = N");
  bad({{"length", "12"}, {"suffix", "cr"}}, "length= frames need suffix = \"none\"");
  bad({{"good_read", "\\x07"}}, "keyboard-wedge scanner cannot receive", "evdev:/dev/input/by-id/kbd");
  auto d = scannerConfig("s", "serial:/dev/x");
  d.protocol = "zebra-snapi";
  auto s = createScanner(*loop, d, Logger());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("floorlink.toml:10: devices[0]: scanner \"s\": protocol \"zebra-snapi\""), std::string::npos);
  EXPECT_EQ(unescapeOption("a\\r\\n\\t\\\\\\x1d").value(), "a\r\n\t\\\x1d");
}

class ScannerPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    loop = EventLoop::create().value();
    manager = DeviceManager::create(*loop, clock, Logger()).value();
  }
  void start(std::map<std::string, std::string> options, std::string address = "tcp://127.0.0.1:1") {
    auto cfg = scannerConfig("scan-1", address, std::move(options));
    scanner = createScanner(*loop, cfg, Logger()).value();
    scanner->setHandlers({.onScan = [this](const ScanValue& v) { scans.push_back(v); },
                          .onBadScan = [this](const Error& e, const std::string&) { bad.push_back(e.message); }});
    ASSERT_TRUE(manager->add(cfg, std::make_unique<FakeTransport>(state), scanner->deviceClient()));
  }
  void feed(std::string_view s) { state->handlers.onData(testing::bytesOf(s)); }

  FakeClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<DeviceManager> manager;
  std::shared_ptr<FakeTransport::State> state = std::make_shared<FakeTransport::State>();
  std::unique_ptr<Scanner> scanner;
  std::vector<ScanValue> scans;
  std::vector<std::string> bad;
};

TEST_F(ScannerPipeline, TypedScansAndBadReadFeedback) {
  start({{"suffix", "crlf"}, {"prefix", "\\x02"}, {"bin_pattern", "^[A-Z]\\d{2}-\\d{2}$"},
         {"good_read", "\\x1bG"}, {"bad_read", "\\x1bB"}});
  feed("\x02]C100106141412345678908\r\n\x02]d20109501101530003" "10L1\x1d" "17260100\r\n");
  feed("\x02" "A01-02\r\n\x02]C10109501101530004\r\n");
  ASSERT_EQ(scans.size(), 3u);
  EXPECT_EQ(scans[0].kind, ScanKind::kSscc);
  EXPECT_EQ(scans[1].kind, ScanKind::kGtin);
  EXPECT_EQ(scans[1].lot, "L1");
  EXPECT_EQ(scans[1].expiry->day, 31);
  EXPECT_EQ(scans[2].kind, ScanKind::kBinLabel);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("check digit"), std::string::npos);
  EXPECT_EQ(state->written, "\x1b" "B");  // the bad read beeped by itself
  ASSERT_TRUE(scanner->feedback(true));
  EXPECT_EQ(state->written, "\x1b" "B\x1b" "G");
  EXPECT_TRUE(scanner->supportsFeedback());
  auto raw = manager->raw("scan-1");
  EXPECT_EQ(raw.size(), 4u);  // two reads, two writes
}

TEST_F(ScannerPipeline, IdleTimeoutFraming) {
  start({{"timeout_ms", "20"}});
  feed("]E0400638");
  feed("1333931");
  EXPECT_TRUE(scans.empty());
  ASSERT_TRUE(runUntil(*loop, [&] { return !scans.empty(); }));
  EXPECT_EQ(scans[0].gtin, "04006381333931");
}

TEST_F(ScannerPipeline, FeedbackUnsupportedOrDisconnected) {
  start({});
  auto r = scanner->feedback(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_FALSE(scanner->supportsFeedback());
}

TEST_F(ScannerPipeline, UsbScannerDecodesHidPosReports) {
  start({}, "usb://0c2e:0b61");
  std::vector<uint8_t> r(64, 0);
  r[0] = 2;
  r[1] = 13;
  std::memcpy(&r[2], "]E0", 3);
  std::memcpy(&r[5], "4006381333931", 13);
  state->handlers.onData(r);
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_EQ(scans[0].gtin, "04006381333931");
  EXPECT_EQ(scans[0].symbology, Symbology::kEan13);
}

}  // namespace
}  // namespace floorlink::drivers
