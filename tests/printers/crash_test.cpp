// A crash between sending a label and the printer's confirmation must leave
// the job uncertain and never print it a second time by itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_job_store.h"
#include "printers/print_service.h"
#include "printers/testing/fake_zpl_printer.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

using namespace std::chrono_literals;
using testing::FakeJobStore;
using testing::runUntil;

LabelRequest crashRequest() {
  LabelRequest r;
  r.idempotencyKey = "T-7/label/1";
  r.printer = "lp1";
  r.templateName = "shipping";
  r.taskId = "T-7";
  r.station = "pack1";
  r.orderId = "O-7";
  r.fields = {{"customer", "ACME"}, {"street", "1 Dock Road"}, {"postal_code", "10115"}, {"city", "Berlin"}};
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

// The agent: prints one label and waits for the confirmation that never comes.
[[noreturn]] void runAgent(const std::filesystem::path& journal, const std::string& printerAddress) {
  SystemClock clock;
  FakeJobStore store(clock, journal);
  TemplateLibrary templates;
  auto t = LabelTemplate::load(testing::sourceDir() / "printers/templates/shipping.zpl");
  if (!t) _exit(3);
  templates.add(*t);
  auto loop = EventLoop::create();
  if (!loop) _exit(4);
  PrinterOptions po;
  po.replyTimeout = 60s;  // keep waiting for the post-job ~HS until killed
  auto printer = createLabelPrinter(**loop, testing::printerConfig(printerAddress), Logger(), po);
  if (!printer || !(*printer)->start(nullptr)) _exit(5);
  PrintService service(**loop, store, templates, clock, Logger(), serviceOptions());
  service.addPrinter(**printer);
  if (!runUntil(**loop, [&] { return (*printer)->status().state == PrinterState::kOk; })) _exit(6);
  service.submit(crashRequest(), [](const Result<PrintJob>&) { _exit(7); });  // must not finish
  (void)(*loop)->runFor(60s);
  _exit(8);
}

TEST(PrintCrash, KilledBetweenSendAndConfirmIsUncertainAndNeverPrintedTwice) {
  auto dir = testing::tempDir("crash");
  auto journal = dir / "journal.json";
  // Fork first, while single-threaded; the agent keeps reconnecting until
  // the fake listens on the port it was given.
  uint16_t port = testing::freeLoopbackPort();
  ASSERT_NE(port, 0);
  pid_t forked = ::fork();
  ASSERT_GE(forked, 0);
  if (forked == 0) runAgent(journal, "tcp://127.0.0.1:" + std::to_string(port));
  testing::ChildGuard child(forked);
  auto fake = FakeZplPrinter::start({.port = port, .silentAfterFirstFormat = true});
  ASSERT_TRUE(fake) << fake.error().describe();

  // The printer has the label; the agent is waiting for its confirmation. Kill it.
  ASSERT_TRUE((*fake)->waitForFormats(1, 20s));
  SystemClock clock;
  {
    FakeJobStore peek(clock, journal);
    auto sent = peek.list({.state = JobState::kSent, .printer = "", .limit = 10});
    ASSERT_TRUE(sent);
    ASSERT_EQ(sent->size(), 1u) << "the journal must say `sent` before the label goes out";
  }
  int status = child.kill();
  ASSERT_TRUE(WIFSIGNALED(status)) << "agent exited early with " << WEXITSTATUS(status);

  // Restart: the printer answers again; the agent recovers from its journal.
  fake->reset();
  fake = FakeZplPrinter::start({.port = port});
  ASSERT_TRUE(fake) << fake.error().describe();
  // (a fresh fake on the same port has an empty journal: count prints from here on)
  FakeJobStore store(clock, journal);
  TemplateLibrary templates;
  templates.add(testing::shippingTemplate());
  auto loop = std::move(*EventLoop::create());
  PrinterOptions po;
  po.replyTimeout = 500ms;
  po.confirmPoll = 20ms;
  auto printer = std::move(*createLabelPrinter(*loop, testing::printerConfig((*fake)->address()), Logger(), po));
  ASSERT_TRUE(printer->start(nullptr));
  PrintService service(*loop, store, templates, clock, Logger(), serviceOptions());
  service.addPrinter(*printer);
  auto recovered = service.recover();
  ASSERT_TRUE(recovered) << recovered.error().describe();
  EXPECT_EQ(*recovered, 1);
  ASSERT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));

  auto jobs = service.jobs({});
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  const PrintJob job = (*jobs)[0];
  EXPECT_EQ(job.state, JobState::kUncertain);
  EXPECT_EQ(job.attempts, 1);

  // The pack workflow asks for the same label again: it must not print.
  std::optional<Result<PrintJob>> again;
  service.submit(crashRequest(), [&](const Result<PrintJob>& j) { again = j; });
  ASSERT_TRUE(runUntil(*loop, [&] { return again.has_value(); }));
  ASSERT_TRUE(*again);
  EXPECT_EQ((*again)->jobId, job.jobId);
  EXPECT_EQ((*again)->state, JobState::kUncertain);
  (void)loop->runFor(300ms);
  EXPECT_TRUE((*fake)->formats().empty()) << "an uncertain label was printed again without an operator";

  // The operator looked: it did not print. Reprint: exactly one more label, same SSCC.
  std::optional<Result<PrintJob>> reprinted;
  service.reprint(job.jobId, [&](const Result<PrintJob>& j) { reprinted = j; });
  ASSERT_TRUE(runUntil(*loop, [&] { return reprinted.has_value(); }));
  ASSERT_TRUE(*reprinted);
  EXPECT_EQ((*reprinted)->state, JobState::kConfirmed) << (*reprinted)->detail;
  EXPECT_EQ((*reprinted)->sscc, job.sscc);
  EXPECT_EQ((*fake)->formats().size(), 1u);
}

}  // namespace
}  // namespace floorlink::printers
