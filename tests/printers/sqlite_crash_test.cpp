// The crash test again, over the agent's real SQLite journal (agent/store):
// killed between send and confirm -> uncertain after restart, never printed a
// second time by itself; the operator's reprint is confirmed and reported
// with exactly one label.printed event.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/store/sqlite_job_store.h"
#include "agent/store/task_store.h"
#include "printers/print_service.h"
#include "printers/testing/fake_zpl_printer.h"
#include "test_util.h"

namespace floorlink::printers {
namespace {

using namespace std::chrono_literals;
using testing::runUntil;

LabelRequest request() {
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

agent::StoreOptions storeOptions(const std::filesystem::path& db) {
  agent::StoreOptions o;
  o.path = db;
  o.site = "dc1";
  o.agentId = "pc7";
  return o;
}

[[noreturn]] void runAgent(const std::filesystem::path& db, const std::string& address) {
  SystemClock clock;
  auto store = agent::TaskStore::open(storeOptions(db), clock);
  if (!store) _exit(3);
  agent::SqliteJobStore jobs(**store);
  TemplateLibrary templates;
  auto t = LabelTemplate::load(testing::sourceDir() / "printers/templates/shipping.zpl");
  if (!t) _exit(4);
  templates.add(*t);
  auto loop = EventLoop::create();
  if (!loop) _exit(5);
  PrinterOptions po;
  po.replyTimeout = 60s;
  auto printer = createLabelPrinter(**loop, testing::printerConfig(address), Logger(), po);
  if (!printer || !(*printer)->start(nullptr)) _exit(6);
  PrintService service(**loop, jobs, templates, clock, Logger(), serviceOptions());
  service.addPrinter(**printer);
  if (!runUntil(**loop, [&] { return (*printer)->status().state == PrinterState::kOk; })) _exit(7);
  service.submit(request(), [](const Result<PrintJob>&) { _exit(8); });
  (void)(*loop)->runFor(60s);
  _exit(9);
}

int countEvents(agent::TaskStore& store, std::string_view type) {
  auto events = store.eventsAfter(0, 1000);
  EXPECT_TRUE(events);
  int n = 0;
  for (const auto& e : *events) n += e.payload.find("\"type\":\"" + std::string(type) + "\"") != std::string::npos;
  return n;
}

TEST(PrintCrashSqlite, KilledBetweenSendAndConfirmIsUncertainAndNeverPrintedTwice) {
  auto dir = testing::tempDir("crash-sqlite");
  auto db = dir / "agent.db";
  // Fork first, while single-threaded; the agent keeps reconnecting until
  // the fake listens on the port it was given.
  uint16_t port = testing::freeLoopbackPort();
  ASSERT_NE(port, 0);
  pid_t forked = ::fork();
  ASSERT_GE(forked, 0);
  if (forked == 0) runAgent(db, "tcp://127.0.0.1:" + std::to_string(port));
  testing::ChildGuard child(forked);
  auto fake = FakeZplPrinter::start({.port = port, .silentAfterFirstFormat = true});
  ASSERT_TRUE(fake) << fake.error().describe();
  ASSERT_TRUE((*fake)->waitForFormats(1, 20s));
  int status = child.kill();
  ASSERT_TRUE(WIFSIGNALED(status)) << "agent exited early with " << WEXITSTATUS(status);

  fake->reset();
  fake = FakeZplPrinter::start({.port = port});
  ASSERT_TRUE(fake);
  SystemClock clock;
  auto store = agent::TaskStore::open(storeOptions(db), clock);
  ASSERT_TRUE(store) << store.error().describe();
  agent::SqliteJobStore jobs(**store);
  TemplateLibrary templates;
  templates.add(testing::shippingTemplate());
  auto loop = std::move(*EventLoop::create());
  PrinterOptions po;
  po.replyTimeout = 500ms;
  po.confirmPoll = 20ms;
  auto printer = std::move(*createLabelPrinter(*loop, testing::printerConfig((*fake)->address()), Logger(), po));
  ASSERT_TRUE(printer->start(nullptr));
  PrintService service(*loop, jobs, templates, clock, Logger(), serviceOptions());
  service.addPrinter(*printer);
  auto recovered = service.recover();
  ASSERT_TRUE(recovered) << recovered.error().describe();
  EXPECT_EQ(*recovered, 1);
  ASSERT_TRUE(runUntil(*loop, [&] { return printer->status().state == PrinterState::kOk; }));

  std::optional<Result<PrintJob>> again;
  service.submit(request(), [&](const Result<PrintJob>& j) { again = j; });
  ASSERT_TRUE(runUntil(*loop, [&] { return again.has_value(); }));
  ASSERT_TRUE(*again) << again->error().describe();
  EXPECT_EQ((*again)->state, JobState::kUncertain);
  (void)loop->runFor(300ms);
  EXPECT_TRUE((*fake)->formats().empty());
  EXPECT_EQ(countEvents(**store, "label.printed"), 0);

  std::optional<Result<PrintJob>> reprinted;
  service.reprint((*again)->jobId, [&](const Result<PrintJob>& j) { reprinted = j; });
  ASSERT_TRUE(runUntil(*loop, [&] { return reprinted.has_value(); }));
  ASSERT_TRUE(*reprinted) << reprinted->error().describe();
  EXPECT_EQ((*reprinted)->state, JobState::kConfirmed) << (*reprinted)->detail;
  EXPECT_TRUE((*reprinted)->verified);
  EXPECT_EQ((*fake)->formats().size(), 1u);
  EXPECT_EQ(countEvents(**store, "label.printed"), 1);
}

}  // namespace
}  // namespace floorlink::printers
