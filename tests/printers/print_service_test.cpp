#include <gtest/gtest.h>

#include "fake_job_store.h"
#include "core/gs1.h"
#include "printers/print_service.h"
#include "printers/testing/fake_zpl_printer.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

using namespace std::chrono_literals;
using testing::FakeJobStore;
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

class PrintServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop = std::move(*EventLoop::create());
    auto f = FakeZplPrinter::start();
    ASSERT_TRUE(f);
    fake = std::move(*f);
    templates.add(testing::shippingTemplate());
    auto bad = LabelTemplate::parse("bad-barcode", "# dpi: 203\n^XA^PW812\n^FO40,40^A0N,30,30^FD{{sscc}}^FS\n"
                                                   "^FO40,100^BY3^BCN,200,Y,N,N,D^FD(00)006141411234567890^FS\n^XZ\n");
    ASSERT_TRUE(bad);
    templates.add(*bad);
    auto p = createLabelPrinter(*loop, testing::printerConfig(fake->address(), "lp1"), Logger(), fastOptions());
    ASSERT_TRUE(p);
    printer = std::move(*p);
    ASSERT_TRUE(printer->start(nullptr));
    ASSERT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));
    PrintServiceOptions o;
    o.site = "dc1";
    o.agent = "pc7";
    o.gs1CompanyPrefix = "0614141";
    o.extensionDigit = 1;
    o.jobExpiry = 24h;
    service = std::make_unique<PrintService>(*loop, store, templates, clock, Logger(), o);
    service->addPrinter(*printer);
  }

  LabelRequest request(std::string key = "T-1/label/1") {
    LabelRequest r;
    r.idempotencyKey = std::move(key);
    r.printer = "lp1";
    r.templateName = "shipping";
    r.taskId = "T-1";
    r.station = "pack1";
    r.orderId = "O-1";
    r.fields = {{"customer", "ACME"}, {"street", "1 Dock Road"}, {"postal_code", "10115"}, {"city", "Berlin"}};
    return r;
  }

  PrintJob submitAndWait(const LabelRequest& r) {
    std::optional<Result<PrintJob>> out;
    service->submit(r, [&](const Result<PrintJob>& j) { out = j; });
    EXPECT_TRUE(runUntil(*loop, [&] { return out.has_value(); }));
    EXPECT_TRUE(out && *out) << (out && !*out ? out->error().describe() : "");
    return out && *out ? **out : PrintJob{};
  }

  PrintJob reprintAndWait(const std::string& id) {
    std::optional<Result<PrintJob>> out;
    service->reprint(id, [&](const Result<PrintJob>& j) { out = j; });
    EXPECT_TRUE(runUntil(*loop, [&] { return out.has_value(); }));
    EXPECT_TRUE(out && *out) << (out && !*out ? out->error().describe() : "");
    return out && *out ? **out : PrintJob{};
  }

  FakeClock clock;
  FakeJobStore store{clock};
  TemplateLibrary templates;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<FakeZplPrinter> fake;
  std::unique_ptr<LabelPrinter> printer;
  std::unique_ptr<PrintService> service;
};

TEST_F(PrintServiceTest, PrintsOnceWithAGeneratedSscc) {
  auto job = submitAndWait(request());
  EXPECT_EQ(job.state, JobState::kConfirmed) << job.detail;
  EXPECT_TRUE(job.verified);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.sscc, *gs1::makeSscc("0614141", 1, 1));
  ASSERT_EQ(fake->formats().size(), 1u);
  EXPECT_EQ(fake->formats()[0] + "\n", job.zpl.substr(job.zpl.find("^XA")));
  EXPECT_NE(job.zpl.find(job.sscc), std::string::npos);
  EXPECT_EQ(store.history, (std::vector<std::string>{job.jobId + ":sent", job.jobId + ":confirmed"}));

  // The same request again (a retry, a duplicate command) prints nothing and burns no SSCC.
  auto again = submitAndWait(request());
  EXPECT_EQ(again.jobId, job.jobId);
  EXPECT_EQ(again.state, JobState::kConfirmed);
  (void)loop->runFor(100ms);
  EXPECT_EQ(fake->formats().size(), 1u);
  auto next = submitAndWait(request("T-2/label/1"));
  EXPECT_EQ(next.sscc, *gs1::makeSscc("0614141", 1, 2));
}

TEST_F(PrintServiceTest, SsccFromTheTaskIsUsedAndChecked) {
  auto r = request();
  r.sscc = "106141411234567897";
  auto job = submitAndWait(r);
  EXPECT_EQ(job.state, JobState::kConfirmed);
  EXPECT_EQ(job.sscc, r.sscc);
  r.idempotencyKey = "T-1/label/2";
  r.sscc = "106141411234567898";
  auto bad = submitAndWait(r);
  EXPECT_EQ(bad.state, JobState::kFailed);
  EXPECT_NE(bad.detail.find("check digit"), std::string::npos) << bad.detail;
}

TEST_F(PrintServiceTest, VerificationFailureFailsTheJobWithoutPrinting) {
  auto r = request();
  r.templateName = "bad-barcode";
  auto job = submitAndWait(r);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_FALSE(job.verified);
  EXPECT_NE(job.detail.find("barcode verification failed"), std::string::npos) << job.detail;
  EXPECT_NE(job.detail.find("006141411234567890"), std::string::npos) << job.detail;
  EXPECT_TRUE(fake->formats().empty());
}

TEST_F(PrintServiceTest, MissingFieldAndUnknownTemplateOrPrinterFailTheJob) {
  auto r = request();
  r.fields.erase("city");
  auto job = submitAndWait(r);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.detail.find("'city'"), std::string::npos) << job.detail;
  r = request("T-1/label/2");
  r.templateName = "nope";
  EXPECT_NE(submitAndWait(r).detail.find("no label template 'nope'"), std::string::npos);
  r = request("T-1/label/3");
  r.printer = "lp9";
  EXPECT_NE(submitAndWait(r).detail.find("no printer 'lp9'"), std::string::npos);
  EXPECT_TRUE(fake->formats().empty());
}

TEST_F(PrintServiceTest, OfflinePrinterFailsTheJobWithoutPrinting) {
  auto p2 = createLabelPrinter(*loop, testing::printerConfig("tcp://127.0.0.1:1", "lp2"), Logger(), fastOptions());
  ASSERT_TRUE(p2);
  ASSERT_TRUE((*p2)->start(nullptr));
  ASSERT_TRUE(runUntil(*loop, [&] { return (*p2)->status().reason.find("refused") != std::string::npos; }));
  service->addPrinter(**p2);
  auto r = request();
  r.printer = "lp2";
  auto job = submitAndWait(r);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.detail.find("offline"), std::string::npos) << job.detail;
  EXPECT_TRUE(fake->formats().empty());
}

TEST_F(PrintServiceTest, PrinterFaultsReachTheJob) {
  fake->setPaperOut(true);
  auto job = submitAndWait(request());
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.detail.find("paper out"), std::string::npos) << job.detail;
  fake->setPaperOut(false);

  fake->setHeadOpen(true);
  job = submitAndWait(request("T-1/label/2"));
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_NE(job.detail.find("head may be open"), std::string::npos) << job.detail;
  fake->setHeadOpen(false);
  ASSERT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));

  fake->resetMidFormat();
  job = submitAndWait(request("T-1/label/3"));
  EXPECT_EQ(job.state, JobState::kUncertain) << job.detail;
  EXPECT_TRUE(fake->formats().empty());
  // The operator decides: reprint. Same job, same bytes, second attempt.
  ASSERT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));
  auto again = reprintAndWait(job.jobId);
  EXPECT_EQ(again.jobId, job.jobId);
  EXPECT_EQ(again.state, JobState::kConfirmed) << again.detail;
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(fake->formats().size(), 1u);
}

TEST_F(PrintServiceTest, OperatorConfirmsAnUncertainJob) {
  fake->dropAfterBytes(3 + 20);
  auto job = submitAndWait(request());
  ASSERT_EQ(job.state, JobState::kUncertain) << job.detail;
  auto confirmed = service->confirm(job.jobId);
  ASSERT_TRUE(confirmed) << confirmed.error().describe();
  EXPECT_EQ(confirmed->state, JobState::kConfirmed);
  EXPECT_FALSE(service->confirm(job.jobId));  // only uncertain jobs
  EXPECT_FALSE(service->cancel(job.jobId));
}

TEST_F(PrintServiceTest, QueuedJobsWaitTheirTurnAndCanBeCancelled) {
  std::optional<Result<PrintJob>> a, b;
  service->submit(request("A"), [&](const Result<PrintJob>& j) { a = j; });
  service->submit(request("B"), [&](const Result<PrintJob>& j) { b = j; });
  auto listed = service->jobs({});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  auto cancelled = service->cancel((*listed)[1].jobId);
  ASSERT_TRUE(cancelled) << cancelled.error().describe();
  ASSERT_TRUE(runUntil(*loop, [&] { return a && b; }));
  EXPECT_EQ((*a)->state, JobState::kConfirmed);
  EXPECT_EQ((*b)->state, JobState::kCancelled);
  EXPECT_EQ(fake->formats().size(), 1u);
}

TEST_F(PrintServiceTest, BackToBackJobsEachAskTheirOwnStatus) {
  // Each job: one ~HS before, one after. A queued job starts from the previous
  // job's last status answer; its query must go out once, with its own timer.
  auto before = fake->statusQueriesAnswered();
  std::vector<Result<PrintJob>> done;
  for (int i = 0; i < 6; ++i)
    service->submit(request("K-" + std::to_string(i)), [&](const Result<PrintJob>& j) { done.push_back(j); });
  ASSERT_TRUE(runUntil(*loop, [&] { return done.size() == 6; }));
  for (const auto& j : done) {
    ASSERT_TRUE(j);
    EXPECT_EQ(j->state, JobState::kConfirmed) << j->detail;
  }
  EXPECT_EQ(fake->statusQueriesAnswered() - before, 12u);
  EXPECT_EQ(fake->formats().size(), 6u);
  // Nothing left behind that would fail a later query.
  (void)loop->runFor(600ms);
  EXPECT_EQ(printer->status().state, PrinterState::kOk) << printer->status().reason;
}

TEST_F(PrintServiceTest, ReprintOfAFinalJobIsANewJournalEntry) {
  auto job = submitAndWait(request());
  ASSERT_EQ(job.state, JobState::kConfirmed);
  auto copy = reprintAndWait(job.jobId);
  EXPECT_NE(copy.jobId, job.jobId);
  EXPECT_EQ(copy.idempotencyKey, "T-1/label/1/reprint-1");
  EXPECT_EQ(copy.sscc, job.sscc);
  EXPECT_EQ(copy.state, JobState::kConfirmed);
  EXPECT_EQ(fake->formats().size(), 2u);
}

TEST_F(PrintServiceTest, RecoverTurnsSentIntoUncertainAndJobsExpire) {
  PrintJob j;
  j.idempotencyKey = "T-9/label/1";
  j.printer = "lp1";
  j.zpl = "^XA^XZ";
  auto stored = store.createOrGet(j);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(store.updateState(stored->jobId, JobState::kSent, "", 1));
  j.idempotencyKey = "T-10/label/1";
  auto queued = store.createOrGet(j);
  ASSERT_TRUE(queued);
  auto n = service->recover();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  auto after = store.find(stored->jobId);
  EXPECT_EQ((*after)->state, JobState::kUncertain);
  EXPECT_NE((*after)->detail.find("confirm"), std::string::npos);
  EXPECT_TRUE(fake->formats().empty());  // never resent by itself
  clock.advance(25h);
  auto expired = service->expireOld();
  ASSERT_TRUE(expired);
  EXPECT_EQ(*expired, 2);
  EXPECT_EQ((*store.find(queued->jobId))->state, JobState::kExpired);
}

TEST_F(PrintServiceTest, TestLabelCarriesPrinterAndAgentFacts) {
  std::optional<Result<PrintJob>> out;
  service->testPrint("lp1", {.agentVersion = "0.1.0", .hostname = "wh-pc7", .addresses = {"eth0 10.1.2.7"}},
                     [&](const Result<PrintJob>& j) { out = j; });
  ASSERT_TRUE(runUntil(*loop, [&] { return out.has_value(); }));
  ASSERT_TRUE(*out) << out->error().describe();
  EXPECT_EQ((*out)->state, JobState::kConfirmed) << (*out)->detail;
  ASSERT_EQ(fake->formats().size(), 1u);
  auto layout = zpl::interpret(fake->formats()[0]);
  ASSERT_TRUE(layout);
  std::string all;
  for (const auto& t : layout->texts) all += t.text + "\n";
  for (auto want : {"floorlink printer test", "ZT410-203dpi", "8 dots/mm", "dc1/pc7", "wh-pc7", "10.1.2.7", "ok"})
    EXPECT_NE(all.find(want), std::string::npos) << want << " in\n" << all;
  std::optional<Result<PrintJob>> none;
  service->testPrint("lp9", {}, [&](const Result<PrintJob>& j) { none = j; });
  ASSERT_TRUE(none && !*none);
}

// Two `floorlinkctl print test` in the same millisecond are two labels.
TEST_F(PrintServiceTest, EachTestPrintIsItsOwnJob) {
  std::vector<Result<PrintJob>> out;
  for (int i = 0; i < 2; ++i) service->testPrint("lp1", {}, [&](const Result<PrintJob>& j) { out.push_back(j); });
  ASSERT_TRUE(runUntil(*loop, [&] { return out.size() == 2; }));
  ASSERT_TRUE(out[0] && out[1]);
  EXPECT_NE(out[0]->jobId, out[1]->jobId);
  EXPECT_NE(out[0]->idempotencyKey, out[1]->idempotencyKey);
  EXPECT_EQ(out[0]->state, JobState::kConfirmed);
  EXPECT_EQ(out[1]->state, JobState::kConfirmed);
  EXPECT_EQ(fake->formats().size(), 2u);
}

TEST_F(PrintServiceTest, PreviewIsAPngAndUsesNoSerial) {
  auto png = service->previewPng(request());
  ASSERT_TRUE(png) << png.error().describe();
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ((*png)[1], 'P');
  auto job = submitAndWait(request());
  EXPECT_EQ(job.sscc, *gs1::makeSscc("0614141", 1, 1));  // the preview took no serial
}

}  // namespace
}  // namespace floorlink::printers
