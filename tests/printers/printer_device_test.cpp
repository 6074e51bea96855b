// ZPL printers on emulated hardware (umockdev): libserialport really opens an
// emulated /dev/ttyUSB0 through its by-id link, libusb really enumerates and
// claims an emulated USB printer-class device and moves the label over bulk
// OUT URBs and the ~HS answers over bulk IN. The printer's side of the wire
// answers ~HS/~HI with printers' own reply formatting.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "fake_job_store.h"
#include "printers/label_printer.h"
#include "printers/print_service.h"
#include "test_util.h"
#include "tests/support/umockdev_testbed.h"

namespace floorlink::printers {
namespace {

using namespace std::chrono_literals;
using test::UmockdevTestbed;
using testing::FakeJobStore;

constexpr const char* kSerialById = "usb-Zebra_Technologies_ZTC_ZT410-203dpi_ZPL_XXQ123-if00-port0";

PrinterOptions fastOptions() {
  PrinterOptions o;
  o.pollInterval = 300ms;
  o.replyTimeout = 1000ms;  // generous: other builds share the CPU; only the silence cases wait it out
  o.confirmTimeout = 3s;
  o.confirmPoll = 20ms;
  o.reconnectMin = 50ms;
  o.reconnectMax = 200ms;
  return o;
}

// The printer's end of the cable. Takes the host's bytes like a Zebra's
// parser: ~HS and ~HI outside a format are answered (unless the printer is
// silent, as with the head open), every other byte is kept, so the label can
// be compared byte for byte. A received format is "printing" until the next
// ~HS reported it (one poll), or until paper is loaded again.
// Thread-safe: the USB responder runs on umockdev's thread.
class EmulatedZplPrinter {
 public:
  std::string consume(std::string_view bytes) {
    std::lock_guard lock(mutex_);
    pending_.append(bytes);
    std::string reply;
    size_t i = 0;
    while (i < pending_.size()) {
      if (!inFormat_ && pending_[i] == '~') {
        if (pending_.size() - i < 3) break;  // the rest of the command comes in the next chunk
        std::string_view cmd = std::string_view(pending_).substr(i, 3);
        if (cmd == "~HS") {
          ++statusQueries_;
          if (!silent_) {
            reply += statusLocked().reply();
            if (!paperOut_ && !holdFormats_ && formatsWaiting_ > 0) --formatsWaiting_;
          }
          i += 3;
          continue;
        }
        if (cmd == "~HI") {
          ++identificationQueries_;
          if (!silent_) reply += identification().reply();
          i += 3;
          continue;
        }
      }
      data_ += pending_[i++];
      if (data_.ends_with("^XA")) {
        inFormat_ = true;
      } else if (inFormat_ && data_.ends_with("^XZ")) {
        inFormat_ = false;
        ++formatsWaiting_;
        ++formatsReceived_;
      }
    }
    pending_.erase(0, i);
    return reply;
  }

  static HostIdentification identification() {
    HostIdentification id;
    id.model = "ZT410-203dpi";
    id.firmware = "V75.20.01Z";
    id.dotsPerMm = 8;
    id.memory = "8192KB";
    return id;
  }

  std::string data() const {
    std::lock_guard lock(mutex_);
    return data_;
  }
  int statusQueries() const {
    std::lock_guard lock(mutex_);
    return statusQueries_;
  }
  int identificationQueries() const {
    std::lock_guard lock(mutex_);
    return identificationQueries_;
  }
  int formatsReceived() const {
    std::lock_guard lock(mutex_);
    return formatsReceived_;
  }
  void setPaperOut(bool on) {
    std::lock_guard lock(mutex_);
    paperOut_ = on;
  }
  void setSilent(bool on) {
    std::lock_guard lock(mutex_);
    silent_ = on;
  }
  // Received formats keep "printing" (a long batch): ~HS reports them waiting.
  void setHoldFormats(bool on) {
    std::lock_guard lock(mutex_);
    holdFormats_ = on;
  }

 private:
  HostStatus statusLocked() const {
    HostStatus s;
    s.interfaceSettings = 30;
    s.paperOut = paperOut_;
    s.labelLengthDots = 1218;
    s.formatsInBuffer = formatsWaiting_;
    s.partialFormat = inFormat_;
    s.functionSettings = 1;
    s.thermalTransfer = true;
    s.printMode = 2;
    s.printWidthMode = 6;
    s.labelsRemaining = formatsWaiting_;
    s.password = 1234;
    return s;
  }

  mutable std::mutex mutex_;
  std::string pending_, data_;
  bool inFormat_ = false, paperOut_ = false, silent_ = false, holdFormats_ = false;
  int formatsWaiting_ = 0, formatsReceived_ = 0, statusQueries_ = 0, identificationQueries_ = 0;
};

// A label with UTF-8 and CR/LF as printers get them: a tty that translated
// line ends or stripped the high bit would show here.
const std::string kRawLabel =
    "^XA\r\n^CI28\r\n^FO40,40^A0N,40,40^FDZo\xc3\xab \xc3\x98\x64\x65g\xc3\xa5rd \xe6\x9d\xb1\xe4\xba\xac^FS\n"
    "^FO40,120^BY3^BCN,120,Y,N,N^FD4006381333931^FS\n^PQ1\n^XZ\n";

LabelRequest shippingRequest(const std::string& printer, std::string key = "T-1/label/1") {
  LabelRequest r;
  r.idempotencyKey = std::move(key);
  r.printer = printer;
  r.templateName = "shipping";
  r.taskId = "T-1";
  r.station = "pack1";
  r.orderId = "O-1";
  r.fields = {{"customer", "Zo\xc3\xab ^XZ^XA^FO0,0^FDX^FS"}, {"street", "1 Dock Road"}, {"postal_code", "10115"},
              {"city", "Berlin"}};
  return r;
}

PrintServiceOptions serviceOptions() {
  PrintServiceOptions o;
  o.site = "dc1";
  o.agent = "pc7";
  o.gs1CompanyPrefix = "0614141";
  o.extensionDigit = 1;
  return o;
}

// ---------------------------------------------------------------- serial

// The emulated serial printer is driven from the test thread: between loop
// turns it takes what the host wrote to the pty and writes its answers back.
class SerialPrinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port = bed.addSerialPort("ttyUSB0", kSerialById);
    loop = std::move(*EventLoop::create());
  }

  std::unique_ptr<LabelPrinter> makePrinter(const std::string& query = "?baud=9600&format=8N1&flow=xonxoff") {
    auto p = createLabelPrinter(*loop, testing::printerConfig("serial:" + port.byId + query, "lp-serial"), Logger(),
                                fastOptions());
    EXPECT_TRUE(p) << (p ? "" : p.error().describe());
    return p ? std::move(*p) : nullptr;
  }

  // Runs the loop and the emulated printer until `done` or the timeout.
  bool pumpUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      pumpOnce();
    }
    return true;
  }
  void pumpFor(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) pumpOnce();
  }
  void pumpOnce() {
    (void)loop->runFor(5ms);
    if (!plugged) return;
    std::string in = bed.receiveFromHost(port, 0ms);
    if (in.empty()) return;
    std::string reply = emulated.consume(in);
    if (!reply.empty()) bed.sendFromDevice(port, reply);
  }

  EmulatedZplPrinter emulated;
  UmockdevTestbed bed;
  UmockdevTestbed::SerialPort port;
  bool plugged = true;
  std::unique_ptr<EventLoop> loop;
};

TEST_F(SerialPrinterTest, LearnsTheResolutionAndPrintsThroughTheJournalByteExact) {
  auto printer = makePrinter();
  ASSERT_TRUE(printer);
  std::vector<PrinterStatus> states;
  ASSERT_TRUE(printer->start([&](const PrinterStatus& s) { states.push_back(s); }));
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  EXPECT_EQ(emulated.identificationQueries(), 1);
  ASSERT_TRUE(printer->status().identity.has_value());
  EXPECT_EQ(printer->status().identity->model, "ZT410-203dpi");
  EXPECT_EQ(printer->status().dotsPerMm, 8);
  ASSERT_TRUE(printer->status().host.has_value());
  EXPECT_EQ(printer->status().host->labelLengthDots, 1218);
  // The serial transport of scanners and scales, with the printers' default flow control.
  EXPECT_EQ(printer->describe(),
            "serial:" + port.byId + " 9600 8N1 xonxoff (/dev/ttyUSB0) (ZT410-203dpi, V75.20.01Z), 8 dots/mm");

  FakeClock clock;
  FakeJobStore store{clock};
  TemplateLibrary templates;
  templates.add(testing::shippingTemplate());
  PrintService service(*loop, store, templates, clock, Logger(), serviceOptions());
  service.addPrinter(*printer);
  int queriesBefore = emulated.statusQueries();
  std::optional<Result<PrintJob>> out;
  service.submit(shippingRequest("lp-serial"), [&](const Result<PrintJob>& j) { out = j; });
  ASSERT_TRUE(pumpUntil([&] { return out.has_value(); }));
  ASSERT_TRUE(*out) << out->error().describe();
  const PrintJob& job = **out;
  EXPECT_EQ(job.state, JobState::kConfirmed) << job.detail;
  EXPECT_TRUE(job.verified);
  EXPECT_EQ(store.history, (std::vector<std::string>{job.jobId + ":sent", job.jobId + ":confirmed"}));
  // Everything the printer got besides its status queries is the journaled label, byte for byte.
  EXPECT_EQ(emulated.data(), job.zpl);
  EXPECT_EQ(emulated.formatsReceived(), 1);
  // The hostile customer name arrived hex-escaped, not as commands.
  EXPECT_EQ(job.zpl.find("^XZ^XA^FO0,0"), std::string::npos);
  // ~HS before the label, and at least twice after it (the printer reports
  // the format still printing on the first poll).
  EXPECT_GE(emulated.statusQueries() - queriesBefore, 3);

  // A label with raw UTF-8 and CR/LF straight through LabelPrinter::print.
  std::optional<PrintResult> raw;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { raw = r; });
  ASSERT_TRUE(pumpUntil([&] { return raw.has_value(); }));
  EXPECT_EQ(raw->outcome, PrintOutcome::kConfirmed) << raw->detail;
  EXPECT_EQ(emulated.data(), job.zpl + kRawLabel);
  EXPECT_EQ(states.front().state, PrinterState::kOk);
}

TEST_F(SerialPrinterTest, PaperOutIsAFaultWithItsReasonAndNothingIsSent) {
  auto printer = makePrinter();
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;

  emulated.setPaperOut(true);
  printer->pollNow();
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kFault; }));
  EXPECT_EQ(printer->status().reason, "paper out");
  ASSERT_TRUE(printer->status().host.has_value());
  EXPECT_TRUE(printer->status().host->paperOut);

  std::optional<PrintResult> result;
  bool beforeSendCalled = false;
  printer->print(kRawLabel, [&]() -> Status { beforeSendCalled = true; return ok(); },
                 [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(pumpUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(result->detail.find("paper out"), std::string::npos) << result->detail;
  EXPECT_FALSE(beforeSendCalled);
  pumpFor(50ms);
  EXPECT_EQ(emulated.data(), "");

  // Paper loaded: the idle poll sees it.
  emulated.setPaperOut(false);
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  EXPECT_EQ(printer->status().reason, "");
}

TEST_F(SerialPrinterTest, NoAnswerToHostStatusIsAPossibleFault) {
  auto printer = makePrinter();
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;

  emulated.setSilent(true);  // head open: a Zebra says nothing
  printer->pollNow();
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kFault; }));
  EXPECT_NE(printer->status().reason.find("no answer to ~HS"), std::string::npos) << printer->status().reason;
  EXPECT_NE(printer->status().reason.find("head may be open"), std::string::npos) << printer->status().reason;

  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(pumpUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(result->detail.find("no answer to ~HS"), std::string::npos) << result->detail;
  EXPECT_EQ(emulated.data(), "");

  emulated.setSilent(false);  // head closed
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
}

TEST_F(SerialPrinterTest, UnplugGoesOfflineAndReplugUnderANewNodeComesBack) {
  auto printer = makePrinter();
  ASSERT_TRUE(printer);
  std::vector<PrinterState> states;
  ASSERT_TRUE(printer->start([&](const PrinterStatus& s) { states.push_back(s.state); }));
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;

  plugged = false;
  bed.unplug(port);
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOffline; }))
      << toString(printer->status().state) << ": " << printer->status().reason;
  EXPECT_NE(printer->status().reason.find(port.byId), std::string::npos) << printer->status().reason;
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(result->detail.find("offline"), std::string::npos) << result->detail;

  // The kernel names it ttyUSB1 this time; the by-id path is the same.
  port = bed.addSerialPort("ttyUSB1", kSerialById);
  plugged = true;
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  std::optional<PrintResult> again;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { again = r; });
  ASSERT_TRUE(pumpUntil([&] { return again.has_value(); }));
  EXPECT_EQ(again->outcome, PrintOutcome::kConfirmed) << again->detail;
  EXPECT_EQ(emulated.data(), kRawLabel);
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[0], PrinterState::kOk);
  EXPECT_EQ(states[1], PrinterState::kOffline);
  EXPECT_EQ(states.back(), PrinterState::kOk);
}

TEST_F(SerialPrinterTest, UnpluggedBetweenSendAndConfirmationIsUncertain) {
  auto printer = makePrinter();
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(pumpUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  emulated.setHoldFormats(true);
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  int queries = emulated.statusQueries();
  // The label is in and the printer has said at least once that it is still printing it.
  ASSERT_TRUE(pumpUntil([&] { return emulated.formatsReceived() == 1 && emulated.statusQueries() >= queries + 2; }));
  ASSERT_FALSE(result.has_value()) << result->detail;
  plugged = false;
  bed.unplug(port);
  ASSERT_TRUE(pumpUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kUncertain) << result->detail;
  EXPECT_NE(result->detail.find("check whether it printed"), std::string::npos) << result->detail;
  EXPECT_EQ(emulated.data(), kRawLabel);
  EXPECT_EQ(printer->status().state, PrinterState::kOffline);
}

TEST_F(SerialPrinterTest, MissingPortIsOfflineWithTheReason) {
  auto p = createLabelPrinter(*loop, testing::printerConfig("serial:/dev/serial/by-id/usb-nothing-if00-port0", "lp9"),
                              Logger(), fastOptions());
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->start(nullptr));
  pumpFor(20ms);
  EXPECT_EQ((*p)->status().state, PrinterState::kOffline);
  EXPECT_NE((*p)->status().reason.find("/dev/serial/by-id/usb-nothing-if00-port0"), std::string::npos)
      << (*p)->status().reason;
  EXPECT_NE((*p)->status().reason.find("check the cable"), std::string::npos) << (*p)->status().reason;
}

// ---------------------------------------------------------------- USB

class UsbPrinterTest : public ::testing::Test {
 protected:
  void SetUp() override { loop = std::move(*EventLoop::create()); }

  UmockdevTestbed::UsbHidDevice plugIn(UmockdevTestbed::UsbPrinterSpec spec = {}) {
    return bed.addUsbPrinter(spec, [this](std::string_view bytes) { return emulated.consume(bytes); });
  }
  std::unique_ptr<LabelPrinter> makePrinter(const std::string& address) {
    auto p = createLabelPrinter(*loop, testing::printerConfig(address, "lp-usb"), Logger(), fastOptions());
    EXPECT_TRUE(p) << (p ? "" : p.error().describe());
    return p ? std::move(*p) : nullptr;
  }
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    return testing::runUntil(*loop, done, timeout);
  }

  // Declared before the testbed: the responder uses it until the testbed is gone.
  EmulatedZplPrinter emulated;
  UmockdevTestbed bed;
  std::unique_ptr<EventLoop> loop;
};

TEST_F(UsbPrinterTest, LabelGoesOutOnBulkOutAndStatusComesBackOnBulkIn) {
  auto dev = plugIn();
  auto printer = makePrinter("usb://0a5f:0164?serial=XXQ123");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  EXPECT_EQ(emulated.identificationQueries(), 1);
  ASSERT_TRUE(printer->status().identity.has_value());
  EXPECT_EQ(printer->status().dotsPerMm, 8);
  auto stats = bed.usbStats(dev);
  EXPECT_EQ(stats.detachCount, 1);  // usblp let go before the claim
  EXPECT_EQ(stats.claimCount, 1);

  FakeClock clock;
  FakeJobStore store{clock};
  TemplateLibrary templates;
  templates.add(testing::shippingTemplate());
  PrintService service(*loop, store, templates, clock, Logger(), serviceOptions());
  service.addPrinter(*printer);
  std::optional<Result<PrintJob>> out;
  service.submit(shippingRequest("lp-usb"), [&](const Result<PrintJob>& j) { out = j; });
  ASSERT_TRUE(runUntil([&] { return out.has_value(); }));
  ASSERT_TRUE(*out) << out->error().describe();
  const PrintJob& job = **out;
  EXPECT_EQ(job.state, JobState::kConfirmed) << job.detail;
  EXPECT_EQ(store.history, (std::vector<std::string>{job.jobId + ":sent", job.jobId + ":confirmed"}));
  EXPECT_EQ(emulated.data(), job.zpl);
  EXPECT_EQ(emulated.formatsReceived(), 1);

  std::optional<PrintResult> raw;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { raw = r; });
  ASSERT_TRUE(runUntil([&] { return raw.has_value(); }));
  EXPECT_EQ(raw->outcome, PrintOutcome::kConfirmed) << raw->detail;
  EXPECT_EQ(emulated.data(), job.zpl + kRawLabel);
  // Bulk OUT carried exactly the queries and the labels, nothing else.
  std::string wire = bed.usbStats(dev).bulkOut;
  std::string stripped;
  for (size_t i = 0; i < wire.size();) {
    if (wire.compare(i, 3, "~HS") == 0 || wire.compare(i, 3, "~HI") == 0) {
      i += 3;
      continue;
    }
    stripped += wire[i++];
  }
  EXPECT_EQ(stripped, job.zpl + kRawLabel);

  printer->stop();
  // The transport's worker hands the printer back once it is out of its transfer.
  auto end = std::chrono::steady_clock::now() + 5s;
  while (bed.usbStats(dev).releaseCount == 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(5ms);
  stats = bed.usbStats(dev);
  EXPECT_EQ(stats.releaseCount, 1);
  EXPECT_EQ(stats.attachCount, 1);  // usblp gets the printer back
}

TEST_F(UsbPrinterTest, PaperOutAndSilenceAreFaultsAndStopTheLabel) {
  plugIn();
  auto printer = makePrinter("usb://0a5f:0164");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;

  emulated.setPaperOut(true);
  printer->pollNow();
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kFault; }));
  EXPECT_EQ(printer->status().reason, "paper out");
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kNotSent);
  EXPECT_NE(result->detail.find("paper out"), std::string::npos) << result->detail;
  emulated.setPaperOut(false);
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;

  emulated.setSilent(true);
  printer->pollNow();
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kFault; }));
  EXPECT_NE(printer->status().reason.find("no answer to ~HS"), std::string::npos) << printer->status().reason;
  result.reset();
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kNotSent);
  EXPECT_EQ(emulated.data(), "");
  EXPECT_EQ(emulated.formatsReceived(), 0);
}

TEST_F(UsbPrinterTest, StatusNoneWritesTheLabelWithoutReadingBack) {
  auto dev = plugIn();
  auto printer = makePrinter("usb://0a5f:0164?status=none");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kConfirmed) << result->detail;
  EXPECT_NE(result->detail.find("reports no status"), std::string::npos) << result->detail;
  (void)loop->runFor(400ms);  // past an idle poll interval (300 ms): still nothing asked
  // Only the label went out: no ~HI, no ~HS.
  EXPECT_EQ(bed.usbStats(dev).bulkOut, kRawLabel);
  EXPECT_EQ(emulated.statusQueries(), 0);
  EXPECT_EQ(emulated.identificationQueries(), 0);
}

TEST_F(UsbPrinterTest, UnidirectionalPrinterIsWrittenWithoutReadingBack) {
  UmockdevTestbed::UsbPrinterSpec spec;
  spec.interfaceProtocol = 1;  // bulk OUT only
  auto dev = plugIn(spec);
  auto printer = makePrinter("usb://0a5f:0164");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kConfirmed) << result->detail;
  EXPECT_EQ(bed.usbStats(dev).bulkOut, kRawLabel);
}

TEST_F(UsbPrinterTest, UnplugGoesOfflineAndReplugComesBack) {
  auto dev = plugIn();
  auto printer = makePrinter("usb://0a5f:0164?serial=XXQ123");
  ASSERT_TRUE(printer);
  std::vector<PrinterState> states;
  ASSERT_TRUE(printer->start([&](const PrinterStatus& s) { states.push_back(s.state); }));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  bed.unplug(dev);
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOffline; }))
      << toString(printer->status().state) << ": " << printer->status().reason;
  EXPECT_NE(printer->status().reason.find("unplugged"), std::string::npos) << printer->status().reason;

  // Another port: another device number, the same printer.
  UmockdevTestbed::UsbPrinterSpec moved;
  moved.deviceNumber = 12;
  auto again = plugIn(moved);
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kConfirmed) << result->detail;
  EXPECT_EQ(emulated.data(), kRawLabel);
  ASSERT_GE(states.size(), 3u);
  EXPECT_EQ(states[1], PrinterState::kOffline);
  EXPECT_EQ(states.back(), PrinterState::kOk);
}

TEST_F(UsbPrinterTest, UnpluggedBetweenSendAndConfirmationIsUncertain) {
  auto dev = plugIn();
  auto printer = makePrinter("usb://0a5f:0164");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  emulated.setHoldFormats(true);
  std::optional<PrintResult> result;
  printer->print(kRawLabel, nullptr, [&](const PrintResult& r) { result = r; });
  int queries = emulated.statusQueries();
  ASSERT_TRUE(runUntil([&] { return emulated.formatsReceived() == 1 && emulated.statusQueries() >= queries + 2; }));
  ASSERT_FALSE(result.has_value()) << result->detail;
  bed.unplug(dev);
  ASSERT_TRUE(runUntil([&] { return result.has_value(); }));
  EXPECT_EQ(result->outcome, PrintOutcome::kUncertain) << result->detail;
  EXPECT_NE(result->detail.find("unplugged"), std::string::npos) << result->detail;
  EXPECT_EQ(emulated.data(), kRawLabel);
  EXPECT_EQ(printer->status().state, PrinterState::kOffline);
}

TEST_F(UsbPrinterTest, UnplugWithoutStatusChannelGoesOfflineToo) {
  auto dev = plugIn();
  auto printer = makePrinter("usb://0a5f:0164?status=none");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOk; })) << printer->status().reason;
  bed.unplug(dev);
  // Nothing is being written or read: the link must notice the device is gone by itself.
  ASSERT_TRUE(runUntil([&] { return printer->status().state == PrinterState::kOffline; }, 3s))
      << toString(printer->status().state) << ": " << printer->status().reason;
  EXPECT_NE(printer->status().reason.find("unplugged"), std::string::npos) << printer->status().reason;
}

TEST_F(UsbPrinterTest, WrongSerialIsOfflineWithTheReason) {
  plugIn();
  auto printer = makePrinter("usb://0a5f:0164?serial=NOPE");
  ASSERT_TRUE(printer);
  ASSERT_TRUE(printer->start(nullptr));
  (void)loop->runFor(20ms);
  EXPECT_EQ(printer->status().state, PrinterState::kOffline);
  EXPECT_NE(printer->status().reason.find("no USB printer 0a5f:0164 serial NOPE"), std::string::npos)
      << printer->status().reason;
}

}  // namespace
}  // namespace floorlink::printers
