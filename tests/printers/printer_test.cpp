#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "core/clock.h"
#include "drivers/device_manager.h"
#include "printers/label_printer.h"
#include "printers/testing/fake_zpl_printer.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

using namespace std::chrono_literals;
using testing::runUntil;

PrinterOptions fastOptions() {
  PrinterOptions o;
  o.pollInterval = 200ms;
  o.replyTimeout = 400ms;
  o.confirmTimeout = 3s;
  o.confirmPoll = 20ms;
  o.reconnectMin = 50ms;
  o.reconnectMax = 200ms;
  return o;
}

const std::string kLabel = "^XA^CI28^FO50,50^A0N,40,40^FDhello^FS^XZ";

class PrinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = EventLoop::create();
    ASSERT_TRUE(l);
    loop = std::move(*l);
    auto f = FakeZplPrinter::start();
    ASSERT_TRUE(f) << f.error().describe();
    fake = std::move(*f);
  }

  std::unique_ptr<LabelPrinter> startPrinter(bool waitOk = true) {
    auto p = createLabelPrinter(*loop, testing::printerConfig(fake->address()), Logger(), fastOptions());
    EXPECT_TRUE(p) << (p ? "" : p.error().describe());
    auto printer = std::move(*p);
    EXPECT_TRUE(printer->start([this](const PrinterStatus& s) { statuses.push_back(s); }));
    if (waitOk) {
      EXPECT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));
    }
    return printer;
  }

  PrintResult printAndWait(LabelPrinter& p, const std::string& zpl, bool* beforeSendCalled = nullptr) {
    std::optional<PrintResult> result;
    p.print(
        zpl,
        [beforeSendCalled]() -> Status {
          if (beforeSendCalled) *beforeSendCalled = true;
          return ok();
        },
        [&](const PrintResult& r) { result = r; });
    EXPECT_TRUE(runUntil(*loop, [&] { return result.has_value(); }));
    return result.value_or(PrintResult{PrintOutcome::kNotSent, "timeout"});
  }

  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<FakeZplPrinter> fake;
  std::vector<PrinterStatus> statuses;
};

TEST_F(PrinterTest, LearnsResolutionAndPrintsConfirmed) {
  auto p = startPrinter();
  EXPECT_EQ(p->status().dotsPerMm, 8);
  ASSERT_TRUE(p->status().identity);
  EXPECT_EQ(p->status().identity->model, "ZT410-203dpi");
  EXPECT_NE(p->describe().find("ZT410"), std::string::npos);
  bool before = false;
  auto r = printAndWait(*p, kLabel, &before);
  EXPECT_EQ(r.outcome, PrintOutcome::kConfirmed) << r.detail;
  EXPECT_TRUE(before);
  ASSERT_EQ(fake->formats().size(), 1u);
  EXPECT_EQ(fake->formats()[0], kLabel);
  EXPECT_EQ(fake->labelsPrinted(), 1);
}

TEST_F(PrinterTest, PollsStatusWhileIdle) {
  auto p = startPrinter();
  auto before = fake->statusQueriesAnswered();
  EXPECT_TRUE(runUntil(*loop, [&] { return fake->statusQueriesAnswered() >= before + 2; }));
}

TEST_F(PrinterTest, FormatsSplitAcrossReadsAndJoinedInOneWrite) {
  auto p = startPrinter();
  fake->setSlowReads(2ms, 7);
  std::string two = kLabel + "\r\n" + "^XA^FO1,1^FDsecond^FS^PQ2^XZ";
  auto r = printAndWait(*p, two);
  EXPECT_EQ(r.outcome, PrintOutcome::kConfirmed) << r.detail;
  auto formats = fake->formats();
  ASSERT_EQ(formats.size(), 2u);
  EXPECT_EQ(formats[0], kLabel);
  EXPECT_EQ(formats[1], "^XA^FO1,1^FDsecond^FS^PQ2^XZ");
  EXPECT_EQ(fake->labelsPrinted(), 3);
}

TEST_F(PrinterTest, PaperOutStopsTheJobBeforeSending) {
  auto p = startPrinter();
  fake->setPaperOut(true);
  bool before = false;
  auto r = printAndWait(*p, kLabel, &before);
  EXPECT_EQ(r.outcome, PrintOutcome::kNotSent);
  EXPECT_NE(r.detail.find("paper out"), std::string::npos) << r.detail;
  EXPECT_FALSE(before);
  EXPECT_EQ(p->status().state, PrinterState::kFault);
  EXPECT_NE(p->status().reason.find("paper out"), std::string::npos);
  EXPECT_TRUE(fake->formats().empty());
  fake->setPaperOut(false);
  EXPECT_TRUE(runUntil(*loop, [&] { return p->status().state == PrinterState::kOk; }));
}

TEST_F(PrinterTest, PauseStopsTheJob) {
  auto p = startPrinter();
  fake->setPaused(true);
  auto r = printAndWait(*p, kLabel);
  EXPECT_EQ(r.outcome, PrintOutcome::kNotSent);
  EXPECT_NE(r.detail.find("paused"), std::string::npos) << r.detail;
  EXPECT_TRUE(fake->formats().empty());
}

TEST_F(PrinterTest, HeadOpenSilenceIsAFault) {
  auto p = startPrinter();
  fake->setHeadOpen(true);
  auto r = printAndWait(*p, kLabel);
  EXPECT_EQ(r.outcome, PrintOutcome::kNotSent);
  EXPECT_NE(r.detail.find("no answer to ~HS"), std::string::npos) << r.detail;
  EXPECT_EQ(p->status().state, PrinterState::kFault);
  EXPECT_TRUE(fake->formats().empty());
  bool sawFault = false;
  for (const auto& s : statuses) sawFault |= s.state == PrinterState::kFault;
  EXPECT_TRUE(sawFault);
}

TEST_F(PrinterTest, ResetMidFormatMakesTheJobUncertain) {
  auto p = startPrinter();
  fake->resetMidFormat();
  bool before = false;
  auto r = printAndWait(*p, kLabel, &before);
  EXPECT_EQ(r.outcome, PrintOutcome::kUncertain) << r.detail;
  EXPECT_TRUE(before);
  EXPECT_TRUE(fake->formats().empty());
  // The printer comes back; the next label prints.
  EXPECT_TRUE(runUntil(*loop, [&] { return p->status().state == PrinterState::kOk; }));
  EXPECT_EQ(printAndWait(*p, kLabel).outcome, PrintOutcome::kConfirmed);
}

TEST_F(PrinterTest, DropAfterBytesMakesTheJobUncertain) {
  auto p = startPrinter();
  fake->dropAfterBytes(3 + 10);  // the ~HS of the pre-check, then 10 bytes of the label
  auto r = printAndWait(*p, kLabel);
  EXPECT_EQ(r.outcome, PrintOutcome::kUncertain) << r.detail;
  EXPECT_NE(r.detail.find("check whether it printed"), std::string::npos);
  EXPECT_TRUE(fake->formats().empty());
}

TEST_F(PrinterTest, RefusedConnectionIsOfflineAndNothingIsSent) {
  fake->setRefuseConnections(true);
  auto p = startPrinter(false);
  EXPECT_TRUE(runUntil(*loop, [&] { return !statuses.empty(); }));
  EXPECT_EQ(p->status().state, PrinterState::kOffline);
  EXPECT_NE(p->status().reason.find("refused"), std::string::npos) << p->status().reason;
  auto r = printAndWait(*p, kLabel);
  EXPECT_EQ(r.outcome, PrintOutcome::kNotSent);
  EXPECT_NE(r.detail.find("offline"), std::string::npos);
  fake->setRefuseConnections(false);
  EXPECT_TRUE(runUntil(*loop, [&] { return p->status().state == PrinterState::kOk; }));
  EXPECT_EQ(printAndWait(*p, kLabel).outcome, PrintOutcome::kConfirmed);
}

TEST_F(PrinterTest, OneJobAtATime) {
  auto p = startPrinter();
  std::optional<PrintResult> first, second;
  p->print(kLabel, nullptr, [&](const PrintResult& r) { first = r; });
  p->print(kLabel, nullptr, [&](const PrintResult& r) { second = r; });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(second->detail.find("busy"), std::string::npos);
  EXPECT_TRUE(runUntil(*loop, [&] { return first.has_value(); }));
  EXPECT_EQ(first->outcome, PrintOutcome::kConfirmed);
}

TEST_F(PrinterTest, BeforeSendErrorStopsTheJob) {
  auto p = startPrinter();
  std::optional<PrintResult> r;
  p->print(kLabel, []() -> Status { return fail(ErrorCode::kDiskFull, "journal disk full"); },
           [&](const PrintResult& res) { r = res; });
  ASSERT_TRUE(runUntil(*loop, [&] { return r.has_value(); }));
  EXPECT_EQ(r->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(r->detail.find("disk full"), std::string::npos);
  EXPECT_TRUE(fake->formats().empty());
}

// The fake answers byte-exactly, whatever the client.
std::string rawExchange(uint16_t port, const std::string& send, size_t expectBytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  for (char c : send) EXPECT_EQ(::send(fd, &c, 1, 0), 1);  // one byte per write: split commands
  std::string got;
  auto end = std::chrono::steady_clock::now() + 3s;
  while (got.size() < expectBytes && std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST(FakeZplPrinter, AnswersHsHiAndHqesByteExactly) {
  auto fake = FakeZplPrinter::start({.dotsPerMm = 12});
  ASSERT_TRUE(fake);
  const std::string hs =
      "\x02" "030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n"
      "\x02" "001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n"
      "\x02" "1234,0\x03\r\n";
  EXPECT_EQ((*fake)->hostStatusReply(), hs);
  EXPECT_EQ(rawExchange((*fake)->port(), "~HS", hs.size()), hs);
  const std::string hi = "\x02ZT410-300dpi,V75.20.01Z,12,8192KB\x03\r\n";
  EXPECT_EQ(rawExchange((*fake)->port(), "~HI", hi.size()), hi);
  (*fake)->setPaperOut(true);
  (*fake)->setPaused(true);
  const std::string hq =
      "\x02\r\n PRINTER STATUS\r\n   ERRORS:         1 00000000 00000001\r\n"
      "   WARNINGS:       0 00000000 00000000\r\n\x03\r\n";
  EXPECT_EQ(rawExchange((*fake)->port(), "~HQES", hq.size()), hq);
  // A format held by the fault shows in the buffer counts; ~HS inside a format is answered at once.
  const std::string held =
      "\x02" "030,1,1,1218,001,0,0,0,000,0,0,0\x03\r\n"
      "\x02" "001,0,0,0,1,2,6,0,00000003,1,000\x03\r\n"
      "\x02" "1234,0\x03\r\n";
  EXPECT_EQ(rawExchange((*fake)->port(), "^XA^FDx^PQ3^XZ~HS", held.size()), held);
  EXPECT_EQ((*fake)->labelsPrinted(), 0);
  (*fake)->setPaperOut(false);
  (*fake)->setPaused(false);
  EXPECT_EQ((*fake)->labelsPrinted(), 3);
  (*fake)->setHeadOpen(true);
  EXPECT_EQ(rawExchange((*fake)->port(), "~HS", 1), "");  // silent, as Zebra printers are
}

TEST(FilePrinterTest, WritesLabelsToTheFile) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  auto dir = testing::tempDir("fileprinter");
  auto p = createLabelPrinter(**loop, testing::printerConfig("file:" + (dir / "labels.zpl").string()));
  ASSERT_TRUE(p) << p.error().describe();
  ASSERT_TRUE((*p)->start(nullptr));
  ASSERT_TRUE(runUntil(**loop, [&] { return (*p)->status().state == PrinterState::kOk; }));
  EXPECT_EQ((*p)->status().dotsPerMm, 8);
  std::optional<PrintResult> r;
  (*p)->print(kLabel, nullptr, [&](const PrintResult& res) { r = res; });
  ASSERT_TRUE(runUntil(**loop, [&] { return r.has_value(); }));
  EXPECT_EQ(r->outcome, PrintOutcome::kConfirmed) << r->detail;
  std::ifstream in(dir / "labels.zpl");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, kLabel);
}

TEST(PrinterFactory, RejectsWhatIsNotAPrinterAndReportsMissingDevices) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  auto cfg = testing::printerConfig("tcp://127.0.0.1:9100");
  cfg.protocol = "epl";
  EXPECT_FALSE(createLabelPrinter(**loop, cfg));
  cfg = testing::printerConfig("tcp://127.0.0.1:9100");
  cfg.options["dpi"] = config::OptionValue{"250", {}};
  EXPECT_FALSE(createLabelPrinter(**loop, cfg));
  cfg.kind = config::DeviceKind::kScale;
  EXPECT_FALSE(createLabelPrinter(**loop, cfg));

  for (const char* address : {"serial:/dev/floorlink-no-such-tty", "usb://0a5f:ffff"}) {
    auto p = createLabelPrinter(**loop, testing::printerConfig(address));
    ASSERT_TRUE(p) << address;
    std::vector<PrinterStatus> seen;
    ASSERT_TRUE((*p)->start([&](const PrinterStatus& s) { seen.push_back(s); }));
    ASSERT_TRUE(runUntil(**loop, [&] { return !seen.empty(); }, 3s)) << address;
    EXPECT_EQ((*p)->status().state, PrinterState::kOffline) << address;
    EXPECT_FALSE((*p)->status().reason.empty());
    std::optional<PrintResult> r;
    (*p)->print(kLabel, nullptr, [&](const PrintResult& res) { r = res; });
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcome, PrintOutcome::kNotSent);
  }
}

// serial: means the same for a printer and a scanner: one validator.
TEST(PrinterAddress, BadSerialParametersAreRejectedLikeAScanners) {
  auto loop = EventLoop::create().value();
  SystemClock clock;
  auto manager = drivers::DeviceManager::create(*loop, clock, Logger()).value();
  for (const char* address : {"serial:/dev/ttyS0?baud=fast", "serial:/dev/ttyS0?baud=9600&flow=hardware",
                              "serial:/dev/ttyS0?format=9X1", "serial:/dev/ttyS0?parity=E"}) {
    auto printer = testing::printerConfig(address, "dev1");
    auto scanner = printer;
    scanner.kind = config::DeviceKind::kScanner;
    scanner.protocol = "generic";
    auto asPrinter = createLabelPrinter(*loop, printer);
    auto asScanner = manager->add(scanner, drivers::DeviceClient{});
    ASSERT_FALSE(asPrinter) << address;
    ASSERT_FALSE(asScanner) << address;
    EXPECT_EQ(asPrinter.error().code, ErrorCode::kInvalidArgument) << address;
    EXPECT_EQ(asPrinter.error().message, asScanner.error().message);
  }
}

}  // namespace
}  // namespace floorlink::printers
