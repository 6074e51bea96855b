// IppDocumentPrinter against real components: ippeveprinter (an IPP
// Everywhere printer) and a private cupsd (tests/support). No timing
// assertions: every wait is for a condition, with a generous deadline.
#include "printers/ipp_document_printer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "config/loader.h"
#include "tests/printers/test_util.h"
#include "tests/support/cups_server.h"
#include "tests/support/ippeve_printer.h"
#include "tests/support/mosquitto_broker.h"

namespace floorlink::printers {
namespace {

using floorlink::testing::CupsServer;
using floorlink::testing::IppEvePrinter;
using floorlink::testing::IppEvePrinterOptions;
using floorlink::testing::JobBehavior;
using floorlink::testing::makeTestPdf;
using testing::runUntil;
using namespace std::chrono_literals;

constexpr auto kWait = std::chrono::seconds(60);

// A docprinter as the loader makes it (the loader is the only validator).
config::DeviceConfig docPrinter(const std::string& address, const std::string& options = "",
                                const std::string& id = "docs1") {
  std::string text = "[agent]\nsite = \"dc1\"\nid = \"pc7\"\n[[devices]]\nid = \"" + id +
                     "\"\nkind = \"docprinter\"\naddress = \"" + address + "\"\n[devices.options]\n" + options;
  auto c = config::loadString(text, "test.toml");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? c->devices.front() : config::DeviceConfig{};
}

// One printer object on a loop, and what it reported.
struct Rig {
  std::unique_ptr<EventLoop> loop = std::move(*EventLoop::create());
  std::unique_ptr<IppDocumentPrinter> printer;
  std::vector<DocumentPrinterStatus> statuses;

  explicit Rig(const config::DeviceConfig& device, IppPrinterTuning tuning = {}) {
    auto p = IppDocumentPrinter::create(*loop, device, {}, tuning);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    if (!p) return;
    printer = std::move(*p);
    EXPECT_TRUE(printer->start([this](const DocumentPrinterStatus& s) { statuses.push_back(s); }));
  }
  ~Rig() { printer.reset(); }

  struct Job {
    std::vector<DocumentUpdate> updates;
    std::optional<DocumentResult> result;
  };
  std::shared_ptr<Job> submit(DocumentJob job) {
    auto j = std::make_shared<Job>();
    auto s = printer->submit(std::move(job), {.onProgress = [j](const DocumentUpdate& u) { j->updates.push_back(u); },
                                              .onDone = [j](const DocumentResult& r) { j->result = r; }});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return j;
  }
  DocumentResult wait(const std::shared_ptr<Job>& j) {
    EXPECT_TRUE(runUntil(*loop, [&] { return j->result.has_value(); }, kWait)) << "no outcome";
    return j->result.value_or(DocumentResult{.reason = "no outcome within the deadline"});
  }
  DocumentResult print(DocumentJob job) { return wait(submit(std::move(job))); }
  bool waitForStatus(const std::function<bool(const DocumentPrinterStatus&)>& want) {
    return runUntil(*loop, [&] { return want(printer->status()); }, kWait);
  }
};

DocumentJob pdfJob(const std::string& docId, size_t size = 4096) {
  return DocumentJob{.docId = docId, .bytes = makeTestPdf(docId, size)};
}

std::unique_ptr<IppEvePrinter> startPrinter(IppEvePrinterOptions options = {}) {
  auto p = IppEvePrinter::start(std::move(options));
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? std::move(*p) : nullptr;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(IppDocumentPrinter, PrintsExactlyTheBytesItWasGiven) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  Rig rig(docPrinter(eve->uri()));
  ASSERT_TRUE(rig.printer);
  EXPECT_EQ(rig.printer->describe(), eve->uri());
  DocumentJob job = pdfJob("slip-1", 200 * 1024);
  std::string bytes = job.bytes;
  auto j = rig.submit(std::move(job));
  DocumentResult r = rig.wait(j);
  EXPECT_EQ(r.outcome, DocumentOutcome::kCompleted) << r.reason;
  EXPECT_EQ(r.jobState, "completed");
  ASSERT_FALSE(j->updates.empty());
  EXPECT_EQ(j->updates.back().progress, DocumentProgress::kAccepted);
  EXPECT_GT(r.ippJobId, 0);
  EXPECT_EQ(j->updates.back().ippJobId, r.ippJobId);
  auto got = eve->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].jobId, r.ippJobId);
  EXPECT_EQ(got[0].bytes.size(), bytes.size());
  EXPECT_TRUE(got[0].bytes == bytes) << "the printer kept other bytes than were sent";
  EXPECT_EQ(got[0].attributes["CONTENT_TYPE"], "application/pdf");
  EXPECT_EQ(rig.printer->status().state, PrinterState::kOk) << rig.printer->status().reason;
}

TEST(IppDocumentPrinter, CopiesSidesAndMediaArriveAsJobAttributes) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  ASSERT_TRUE(eve->setJobBehavior({.impressions = 6}));
  Rig rig(docPrinter(eve->uri()));
  DocumentJob job = pdfJob("invoice-7");
  job.copies = 3;
  job.sides = "two-sided-long-edge";
  job.media = "iso_a4_210x297mm";
  DocumentResult r = rig.print(job);
  EXPECT_EQ(r.outcome, DocumentOutcome::kCompleted) << r.reason;
  EXPECT_EQ(r.impressions, 6);  // job-impressions-completed as the printer reported it
  auto got = eve->received();
  ASSERT_EQ(got.size(), 1u);  // one IPP job carries all copies
  EXPECT_EQ(got[0].attributes["IPP_COPIES"], "3");
  EXPECT_EQ(got[0].attributes["IPP_SIDES"], "two-sided-long-edge");
  EXPECT_EQ(got[0].attributes["IPP_MEDIA"], "iso_a4_210x297mm");
  EXPECT_EQ(got[0].attributes["IPP_JOB_NAME"], "invoice-7");
}

TEST(IppDocumentPrinter, APrinterWithoutPdfIsNotSentItAndTheReasonSaysWhatToDo) {
  auto eve = startPrinter({.formats = {"image/pwg-raster"}});
  ASSERT_TRUE(eve);
  Rig rig(docPrinter(eve->uri()));
  DocumentResult r = rig.print(pdfJob("slip-2"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotAccepted);
  EXPECT_TRUE(has(r.reason, "printer does not accept application/pdf")) << r.reason;
  EXPECT_TRUE(has(r.reason, "set up a local CUPS queue (cups:QUEUE), which converts")) << r.reason;
  EXPECT_EQ(r.ippJobId, 0);
  EXPECT_TRUE(eve->received().empty());
}

TEST(IppDocumentPrinter, SidesThePrinterCannotDoAreRefusedBeforeSending) {
  auto eve = startPrinter({.duplex = false});
  ASSERT_TRUE(eve);
  Rig rig(docPrinter(eve->uri()));
  DocumentJob job = pdfJob("slip-3");
  job.sides = "two-sided-long-edge";
  DocumentResult r = rig.print(job);
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotAccepted);
  EXPECT_TRUE(has(r.reason, "cannot print sides=two-sided-long-edge")) << r.reason;
  EXPECT_TRUE(eve->received().empty());
}

TEST(IppDocumentPrinter, AKilledPrinterIsOfflineAndGetsNothing) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  Rig rig(docPrinter(eve->uri()));
  ASSERT_TRUE(rig.waitForStatus([](const auto& s) { return s.state == PrinterState::kOk; }));
  ASSERT_TRUE(eve->kill());
  DocumentResult r = rig.print(pdfJob("slip-4"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotSent);
  EXPECT_TRUE(has(r.reason, "cannot reach the printer at 127.0.0.1:" + std::to_string(eve->port()))) << r.reason;
  EXPECT_TRUE(has(r.reason, "nothing was sent")) << r.reason;
  EXPECT_EQ(rig.printer->status().state, PrinterState::kOffline);
  EXPECT_TRUE(eve->received().empty());
}

TEST(IppDocumentPrinter, AFrozenPrinterIsOfflineAndTheDocumentIsNotSent) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  Rig rig(docPrinter(eve->uri(), "timeout_ms = 1000\n"));
  ASSERT_TRUE(rig.waitForStatus([](const auto& s) { return s.state == PrinterState::kOk; }));
  ASSERT_TRUE(eve->freeze());  // SIGSTOP: the kernel still accepts, nothing answers
  DocumentResult r = rig.print(pdfJob("slip-5"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotSent) << r.reason;
  EXPECT_TRUE(has(r.reason, "no answer from the printer")) << r.reason;
  EXPECT_EQ(rig.printer->status().state, PrinterState::kOffline);
  // Thawed, it answers what was asked (attributes) and prints only the next document.
  ASSERT_TRUE(eve->thaw());
  DocumentResult next = rig.print(pdfJob("slip-6"));
  EXPECT_EQ(next.outcome, DocumentOutcome::kCompleted) << next.reason;
  auto got = eve->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attributes["IPP_JOB_NAME"], "slip-6");
}

TEST(IppDocumentPrinter, APrinterKilledAfterTakingTheJobLeavesItUnknownAndItIsNotResent) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  ASSERT_TRUE(eve->setJobBehavior({.gate = true}));
  Rig rig(docPrinter(eve->uri(), "lost_s = 2\ntimeout_ms = 1000\n"));
  auto j = rig.submit(pdfJob("slip-7"));
  ASSERT_TRUE(runUntil(*rig.loop, [&] { return !j->updates.empty(); }, kWait));
  EXPECT_EQ(j->updates.back().progress, DocumentProgress::kAccepted);
  ASSERT_TRUE(eve->waitForJobs(1, 0, kWait));  // the print command runs
  ASSERT_TRUE(eve->kill());
  DocumentResult r = rig.wait(j);
  EXPECT_EQ(r.outcome, DocumentOutcome::kUnknown) << r.reason;
  EXPECT_EQ(r.ippJobId, j->updates.back().ippJobId);
  EXPECT_TRUE(has(r.reason, "it may have printed")) << r.reason;
  // Exactly one Print-Job reached the printer: the outcome is final, not a retry.
  std::string log = eve->log();
  size_t printJobs = 0;
  for (size_t at = 0; (at = log.find("Print-Job successful-ok", at)) != std::string::npos; ++at) ++printJobs;
  EXPECT_EQ(printJobs, 1u) << log;
}

TEST(IppDocumentPrinter, AFailingPrintIsAborted) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  ASSERT_TRUE(eve->setJobBehavior({.exitCode = 3, .error = "paper path jam"}));
  Rig rig(docPrinter(eve->uri()));
  DocumentResult r = rig.print(pdfJob("slip-8"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kAborted) << r.reason;
  EXPECT_EQ(r.jobState, "aborted");
  EXPECT_TRUE(has(r.reason, "paper path jam")) << r.reason;
  EXPECT_GT(r.ippJobId, 0);
}

TEST(IppDocumentPrinter, MediaEmptyIsAFaultAndStopsTheNextDocumentBeforeSending) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  // The print command tells ippeveprinter "STATE: +media-empty", as a real
  // printer's status would; the job itself completes.
  ASSERT_TRUE(eve->setJobBehavior({.state = "+media-empty"}));
  Rig rig(docPrinter(eve->uri()));
  EXPECT_EQ(rig.print(pdfJob("slip-9")).outcome, DocumentOutcome::kCompleted);
  rig.printer->pollNow();
  ASSERT_TRUE(rig.waitForStatus([](const auto& s) { return s.state == PrinterState::kFault; }))
      << rig.printer->status().reason;
  const auto& s = rig.printer->status();
  EXPECT_TRUE(has(s.reason, "out of paper: load paper (media-empty")) << s.reason;
  DocumentResult r = rig.print(pdfJob("slip-10"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotSent);
  EXPECT_TRUE(has(r.reason, "printer not ready: out of paper")) << r.reason;
  EXPECT_EQ(eve->received().size(), 1u);
}

TEST(IppDocumentPrinter, TonerLowIsAWarningNotAFault) {
  auto eve = startPrinter();
  ASSERT_TRUE(eve);
  ASSERT_TRUE(eve->setJobBehavior({.state = "+toner-low"}));
  Rig rig(docPrinter(eve->uri()));
  EXPECT_EQ(rig.print(pdfJob("slip-11")).outcome, DocumentOutcome::kCompleted);
  rig.printer->pollNow();
  ASSERT_TRUE(rig.waitForStatus([](const auto& s) { return has(s.reason, "toner-low"); }))
      << rig.printer->status().reason;
  EXPECT_EQ(rig.printer->status().state, PrinterState::kOk);
  EXPECT_TRUE(has(rig.printer->status().reason, "toner low")) << rig.printer->status().reason;
  EXPECT_EQ(rig.print(pdfJob("slip-12")).outcome, DocumentOutcome::kCompleted);
}

// Two agents' printers on one device: the first one's job holds the
// printer (at the print command's gate), so the second finds it busy.
struct BusyRig {
  std::unique_ptr<IppEvePrinter> eve = startPrinter();
  std::optional<Rig> first, second;
  std::shared_ptr<Rig::Job> holding;
  explicit BusyRig(const std::string& secondOptions) {
    if (!eve || !eve->setJobBehavior({.gate = true})) return;
    first.emplace(docPrinter(eve->uri(), "", "docs1"));
    second.emplace(docPrinter(eve->uri(), secondOptions, "docs2"));
    holding = first->submit(pdfJob("slip-holding"));
    if (!eve->waitForJobs(1, 0, kWait)) holding.reset();
  }
  explicit operator bool() const { return holding != nullptr; }
};

TEST(IppDocumentPrinter, ABusyPrinterIsAskedAgainUntilBothDocumentsComplete) {
  BusyRig rig("");
  ASSERT_TRUE(rig);
  auto b = rig.second->submit(pdfJob("slip-b"));
  ASSERT_TRUE(runUntil(*rig.second->loop, [&] { return !b->updates.empty(); }, kWait));
  ASSERT_TRUE(rig.eve->openGate());
  DocumentResult rb = rig.second->wait(b);
  DocumentResult ra = rig.first->wait(rig.holding);
  EXPECT_EQ(ra.outcome, DocumentOutcome::kCompleted) << ra.reason;
  EXPECT_EQ(rb.outcome, DocumentOutcome::kCompleted) << rb.reason;
  EXPECT_EQ(b->updates.front().progress, DocumentProgress::kBusyRetrying);
  EXPECT_TRUE(has(b->updates.front().detail, "server-error-busy")) << b->updates.front().detail;
  EXPECT_GT(b->updates.front().retryIn.count(), 0);
  EXPECT_EQ(b->updates.back().progress, DocumentProgress::kAccepted);
  EXPECT_EQ(rig.eve->received().size(), 2u);
}

TEST(IppDocumentPrinter, BusyLongerThanTheRetryLimitExpiresUnsent) {
  BusyRig rig("busy_retry_max_s = 1\n");
  ASSERT_TRUE(rig);
  DocumentResult r = rig.second->print(pdfJob("slip-d"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kExpired) << r.reason;
  EXPECT_TRUE(has(r.reason, "nothing was printed")) << r.reason;
  EXPECT_EQ(rig.eve->received().size(), 1u);
}

struct CupsRig {
  std::unique_ptr<IppEvePrinter> eve;
  std::unique_ptr<CupsServer> cups;
  explicit CupsRig(IppEvePrinterOptions options = {}) {
    eve = startPrinter(std::move(options));
    auto c = CupsServer::start();
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    if (c) cups = std::move(*c);
  }
  explicit operator bool() const { return eve && cups; }
};

TEST(IppDocumentPrinter, ARawCupsQueuePassesTheBytesThrough) {
  CupsRig rig;
  ASSERT_TRUE(rig);
  ASSERT_TRUE(rig.cups->addQueue("Raw", rig.eve->uri(), ""));
  Rig p(docPrinter("cups:Raw", "server = \"" + rig.cups->server() + "\"\n"));
  EXPECT_EQ(p.printer->describe(), "cups:Raw on " + rig.cups->server());
  DocumentJob job = pdfJob("slip-13", 64 * 1024);
  std::string bytes = job.bytes;
  DocumentResult r = p.print(job);
  EXPECT_EQ(r.outcome, DocumentOutcome::kCompleted) << r.reason << "\n" << rig.cups->errorLog();
  ASSERT_TRUE(rig.eve->waitForJobs(1, 1, kWait));
  auto got = rig.eve->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].bytes == bytes) << "CUPS changed the bytes of a raw queue";
}

TEST(IppDocumentPrinter, ACupsQueueConvertsPdfForAPrinterThatTakesOnlyRaster) {
  CupsRig rig({.formats = {"image/pwg-raster"}});
  ASSERT_TRUE(rig);
  ASSERT_TRUE(rig.cups->addQueue("Slips", rig.eve->uri(), "everywhere"));
  // CUPS_SERVER is how a technician points libcups at another server; the
  // printer reads it when it is made.
  ::setenv("CUPS_SERVER", rig.cups->server().c_str(), 1);
  Rig p(docPrinter("cups:Slips"));
  ::unsetenv("CUPS_SERVER");
  DocumentResult r = p.print(pdfJob("slip-14"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kCompleted) << r.reason << "\n" << rig.cups->errorLog();
  ASSERT_TRUE(rig.eve->waitForJobs(1, 1, kWait)) << rig.cups->errorLog() << rig.eve->log();
  auto got = rig.eve->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attributes["CONTENT_TYPE"], "image/pwg-raster");
  EXPECT_TRUE(got[0].bytes.starts_with("RaS2")) << "not PWG raster";
}

TEST(IppDocumentPrinter, AStoppedCupsQueueIsAFaultAndAMissingOneIsNamed) {
  CupsRig rig;
  ASSERT_TRUE(rig);
  ASSERT_TRUE(rig.cups->addQueue("Slips", rig.eve->uri(), ""));
  ASSERT_TRUE(rig.cups->disableQueue("Slips"));
  std::string server = "server = \"" + rig.cups->server() + "\"\n";
  Rig p(docPrinter("cups:Slips", server));
  ASSERT_TRUE(p.waitForStatus([](const auto& s) { return s.state == PrinterState::kFault; }));
  EXPECT_TRUE(has(p.printer->status().reason, "paused")) << p.printer->status().reason;
  DocumentResult r = p.print(pdfJob("slip-15"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotSent) << r.reason;
  Rig missing(docPrinter("cups:Nope", server, "docs2"));
  ASSERT_TRUE(missing.waitForStatus([](const auto& s) { return s.state == PrinterState::kFault; }));
  EXPECT_TRUE(has(missing.printer->status().reason, "has no queue Nope")) << missing.printer->status().reason;
  DocumentResult m = missing.print(pdfJob("slip-16"));
  EXPECT_EQ(m.outcome, DocumentOutcome::kNotAccepted) << m.reason;
  EXPECT_TRUE(rig.eve->received().empty());
}

struct TlsRig {
  std::string dir;
  floorlink::testing::TestPki pki;
  std::unique_ptr<IppEvePrinter> eve;
  TlsRig() {
    auto d = floorlink::testing::makeTempDir("floorlink-ipps");
    EXPECT_TRUE(d);
    dir = d.value_or("/tmp");
    auto p = floorlink::testing::makeTestPki(dir);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    if (!p) return;
    pki = *p;
    eve = startPrinter({.certFile = pki.serverCert, .keyFile = pki.serverKey});
  }
  ~TlsRig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

TEST(IppDocumentPrinter, IppsPrintsWhenTheCertificateChainsToTheConfiguredCa) {
  TlsRig tls;
  ASSERT_TRUE(tls.eve);
  Rig rig(docPrinter(tls.eve->ippsUri(), "ca_file = \"" + tls.pki.caFile + "\"\n"));
  DocumentResult r = rig.print(pdfJob("slip-17"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kCompleted) << r.reason;
  EXPECT_EQ(tls.eve->received().size(), 1u);
}

TEST(IppDocumentPrinter, IppsRefusesAPrinterItCannotVerifyUnlessTold) {
  TlsRig tls;
  ASSERT_TRUE(tls.eve);
  // Verification is on by default: the test CA is not among the system's.
  Rig strict(docPrinter(tls.eve->ippsUri()));
  DocumentResult r = strict.print(pdfJob("slip-18"));
  EXPECT_EQ(r.outcome, DocumentOutcome::kNotSent) << r.reason;
  EXPECT_TRUE(has(r.reason, "TLS certificate for localhost is rejected")) << r.reason;
  EXPECT_EQ(strict.printer->status().state, PrinterState::kOffline);
  EXPECT_TRUE(tls.eve->received().empty());
  // Off only by explicit configuration.
  Rig lax(docPrinter(tls.eve->ippsUri(), "verify_tls = false\n", "docs2"));
  DocumentResult l = lax.print(pdfJob("slip-19"));
  EXPECT_EQ(l.outcome, DocumentOutcome::kCompleted) << l.reason;
  EXPECT_EQ(tls.eve->received().size(), 1u);
}

TEST(IppDocumentPrinter, JobsTheCallerGetsWrongAreRefusedAtOnce) {
  auto loop = std::move(*EventLoop::create());
  auto p = IppDocumentPrinter::create(*loop, docPrinter("ipp://127.0.0.1:9/ipp/print"));
  ASSERT_TRUE(p);
  EXPECT_FALSE((*p)->submit(pdfJob("early"), {}));  // not started
  ASSERT_TRUE((*p)->start({}));
  DocumentJob noCopies = pdfJob("x");
  noCopies.copies = 0;
  EXPECT_FALSE((*p)->submit(noCopies, {}));
  DocumentJob tooMany = pdfJob("y");
  tooMany.copies = 21;
  EXPECT_FALSE((*p)->submit(tooMany, {}));
  EXPECT_FALSE((*p)->submit(DocumentJob{.docId = "empty"}, {}));
  config::DeviceConfig label = docPrinter("ipp://127.0.0.1:9/ipp/print");
  label.kind = config::DeviceKind::kPrinter;
  EXPECT_FALSE(IppDocumentPrinter::create(*loop, label));
}

TEST(IppTargetOf, AddressesBecomeRequestTargets) {
  auto ipps = ippTargetOf(docPrinter("ipps://printer.dc1:8443/ipp/print"));
  ASSERT_TRUE(ipps);
  EXPECT_TRUE(ipps->tls);
  EXPECT_TRUE(ipps->verifyTls);
  EXPECT_EQ(ipps->uri(), "ipps://printer.dc1:8443/ipp/print");
  EXPECT_EQ(ipps->cupsQueue, "");
  auto cups = ippTargetOf(docPrinter("cups:Slips", "server = \"127.0.0.1:6310\"\n"));
  ASSERT_TRUE(cups);
  EXPECT_EQ(cups->host, "127.0.0.1");
  EXPECT_EQ(cups->port, 6310);
  EXPECT_EQ(cups->resource, "/printers/Slips");
  EXPECT_EQ(cups->cupsQueue, "Slips");
  EXPECT_EQ(cups->uri(), "ipp://127.0.0.1:6310/printers/Slips");
  auto socket = ippTargetOf(docPrinter("cups:Slips", "server = \"/run/cups/cups.sock\"\n"));
  ASSERT_TRUE(socket);
  EXPECT_EQ(socket->host, "/run/cups/cups.sock");
  EXPECT_EQ(socket->uri(), "ipp://localhost:631/printers/Slips");
  ::setenv("CUPS_SERVER", "127.0.0.1:6999", 1);
  auto env = ippTargetOf(docPrinter("cups:Slips"));
  ::unsetenv("CUPS_SERVER");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->host, "127.0.0.1");
  EXPECT_EQ(env->port, 6999);
}

}  // namespace
}  // namespace floorlink::printers
