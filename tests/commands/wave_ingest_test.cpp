// Big waves in slices (C-C1, C-C2): a wave.assign of more than 1,000 tasks
// is staged in short transactions and made visible in one final one; in
// between the store serves stations; a crash at any point leaves the whole
// wave or none of it, and the OMS's resend applies it once.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "agent/store/salvage.h"
#include "agent/commands/commands.h"
#include "core/event_loop.h"
#include "tests/store/store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Ingest = StoreTest;

// Steps an application to its outcome; `between` runs between steps.
Result<sync::CommandOutcome> runSteps(sync::CommandApplication& app, int& steps,
                                      const std::function<void()>& between = {}) {
  for (;;) {
    auto r = app.step();
    ++steps;
    if (!r) return std::unexpected(r.error());
    if (r->has_value()) return **r;
    if (between) between();
  }
}

int64_t count(const std::filesystem::path& db, const std::string& sql) {
  SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
  return raw.execAndGet(sql).getInt64();
}

int resultEvents(TaskStore& store, const std::string& cmdId) {
  int n = 0;
  auto stored = store.eventsAfter(0, 10'000'000);
  for (const auto& e : *stored) {
    auto j = parse(e.payload);
    if (j["type"] == "cmd.result" && j["data"]["cmd_id"] == cmdId) ++n;
  }
  return n;
}

TEST_F(Ingest, C_C2_BigWaveIsInvisibleUntilItsFinalStepWhileStationsWork) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-small", "W-small", 1, pickTasks("S-", 50, "cart9"))));
  auto app = Commands(*store).start(waveAssign("c-big", "W-big", 1, pickTasks("B-", 5000, "cart1")));
  int steps = 0;
  int stationSteps = 0;
  auto outcome = runSteps(*app, steps, [&] {
    // Nothing of the wave is visible before the end.
    EXPECT_FALSE(store->findTask("B-0")->has_value());
    EXPECT_FALSE(store->nextTask("cart1", sync::TaskKind::kPick)->has_value());
    EXPECT_EQ(store->taskCounts()->pending + store->taskCounts()->done + store->taskCounts()->active, 50);
    // Another station works meanwhile, each step durable with its event.
    auto next = store->nextTask("cart9", sync::TaskKind::kPick);
    ASSERT_TRUE(next && next->has_value());
    auto tx = store->begin();
    ASSERT_TRUE(tx);
    bool finish = (*next)->state == TaskState::kActive;
    ASSERT_TRUE(tx->setTaskState((*next)->taskId, finish ? TaskState::kDone : TaskState::kActive,
                                 {.claimedBy = "cart9", .qtyDone = finish ? 2 : 0}));
    ASSERT_TRUE(tx->appendEvent({.type = finish ? "pick.confirmed" : "task.started", .station = "cart9",
                                 .taskId = (*next)->taskId, .waveId = "W-small"}));
    ASSERT_TRUE(tx->commit());
    ++stationSteps;
  });
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_FALSE(outcome->duplicate);
  EXPECT_GE(steps, 6);  // a check, five slices, the final step
  EXPECT_EQ(stationSteps, steps - 1);
  EXPECT_EQ(store->tasks({.waveId = "W-big", .limit = 10000})->size(), 5000u);
  EXPECT_EQ((*store->nextTask("cart1", sync::TaskKind::kPick))->taskId, "B-0");  // arrival order kept
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks WHERE id NOT IN (SELECT id FROM live_tasks)"), 0);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM ingests"), 0);
  // seq contiguous: cmd.results and station events interleaved, none lost.
  auto all = events(*store);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]["seq"], static_cast<int64_t>(i + 1));
  EXPECT_EQ(all.back()["type"], "cmd.result");
  EXPECT_EQ(all.back()["data"]["kept"], nlohmann::json::array());
  EXPECT_EQ(resultEvents(*store, "c-big"), 1);

  // C-C1: the same command again changes nothing, in one step.
  auto again = Commands(*store).start(waveAssign("c-big", "W-big", 1, pickTasks("B-", 5000, "cart1")));
  steps = 0;
  auto dup = runSteps(*again, steps);
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(store->tasks({.waveId = "W-big", .limit = 10000})->size(), 5000u);
}

// With a time budget a slice ends early (1 ms is less than 1,000 inserts
// take here), and the wave is still whole and in arrival order.
TEST_F(Ingest, ASliceOverItsTimeBudgetEndsEarly) {
  auto o = options();
  o.ingestSliceBudget = std::chrono::milliseconds(1);
  auto store = open(o);
  auto app = Commands(*store).start(waveAssign("c-big", "W-big", 1, pickTasks("B-", 5000, "cart1")));
  int steps = 0;
  auto outcome = runSteps(*app, steps);
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_GT(steps, 7);  // more than the check, five slices of 1,000 and the final step
  EXPECT_EQ(store->tasks({.waveId = "W-big", .limit = 10000})->size(), 5000u);
  EXPECT_EQ((*store->nextTask("cart1", sync::TaskKind::kPick))->taskId, "B-0");
}

TEST_F(Ingest, TaskIdOfAnotherWaveRejectsTheWholeStagedWave) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("B-3000")})));
  auto app = Commands(*store).start(waveAssign("c-2", "W-2", 1, pickTasks("B-", 4000)));
  int steps = 0;
  auto outcome = runSteps(*app, steps);
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "rejected");
  auto result = events(*store).back();
  EXPECT_EQ(result["data"]["errors"][0]["path"], "tasks[3000].task_id");
  EXPECT_EQ(result["data"]["errors"][0]["code"], "duplicate_task_id");
  EXPECT_EQ(store->tasks({.waveId = "W-2"})->size(), 0u);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM waves WHERE wave_id = 'W-2'"), 0);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks WHERE wave_id = 'W-2'"), 0);  // swept
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM ingests"), 0);
}

TEST_F(Ingest, C_C3_StagedRevisionReplacesWhatNeverStartedAndKeepsTheRest) {
  auto store = open();
  auto first = Commands(*store).start(waveAssign("c-1", "W-1", 1, pickTasks("T-", 3000)));
  int steps = 0;
  ASSERT_TRUE(runSteps(*first, steps));
  for (const char* id : {"T-5", "T-7"}) {
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState(id, TaskState::kActive, {.claimedBy = "cart1"}));
    ASSERT_TRUE(tx->commit());
  }
  auto tasks = pickTasks("T-", 3500);
  for (auto& t : tasks) t.pick.qty = 9;
  auto second = Commands(*store).start(waveAssign("c-2", "W-1", 2, tasks));
  auto outcome = runSteps(*second, steps, [&] {
    // The old revision stays whole until the final step answers the
    // command (then the replaced rows are swept, a slice per step).
    if (resultEvents(*store, "c-2") > 0) {
      EXPECT_EQ((*store->findTask("T-2999"))->revision, 2);
      EXPECT_EQ(store->tasks({.waveId = "W-1", .limit = 10000})->size(), 3500u);
      return;
    }
    EXPECT_EQ((*store->findTask("T-2999"))->revision, 1);
    EXPECT_FALSE(store->findTask("T-3499")->has_value());
  });
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  auto result = events(*store).back();
  EXPECT_EQ(result["data"]["kept"], nlohmann::json::array({"T-5", "T-7"}));
  EXPECT_EQ(store->tasks({.waveId = "W-1", .limit = 10000})->size(), 3500u);
  EXPECT_EQ((*store->findTask("T-5"))->qty, 2);  // kept as it was
  EXPECT_EQ((*store->findTask("T-5"))->state, TaskState::kActive);
  EXPECT_EQ((*store->findTask("T-6"))->qty, 9);
  EXPECT_EQ((*store->findTask("T-6"))->revision, 2);
  EXPECT_EQ(count(options().path, "SELECT task_count FROM waves WHERE wave_id = 'W-1'"), 3500);
}

// A task claimed while its wave's revision is staged stays the station's,
// once (its staged copy goes); a kept task put back to pending later stays
// visible (it joins the new generation).
TEST_F(Ingest, C_C3_TaskClaimedWhileTheRevisionIsStagedIsKeptOnce) {
  auto store = open();
  auto first = Commands(*store).start(waveAssign("c-1", "W-1", 1, pickTasks("T-", 3000)));
  int steps = 0;
  ASSERT_TRUE(runSteps(*first, steps));
  auto tasks = pickTasks("T-", 3000);
  for (auto& t : tasks) t.pick.qty = 9;
  auto second = Commands(*store).start(waveAssign("c-2", "W-1", 2, tasks));
  bool claimed = false;
  auto outcome = runSteps(*second, steps, [&] {
    if (claimed || count(options().path, "SELECT count(*) FROM tasks WHERE revision = 2") == 0) return;
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-2500", TaskState::kActive, {.claimedBy = "cart1"}));
    ASSERT_TRUE(tx->commit());
    claimed = true;
  });
  ASSERT_TRUE(outcome) << outcome.error().describe();
  ASSERT_TRUE(claimed);
  EXPECT_EQ(events(*store).back()["data"]["kept"], nlohmann::json::array({"T-2500"}));
  auto all = *store->tasks({.waveId = "W-1", .limit = 10000});
  EXPECT_EQ(all.size(), 3000u);
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const Task& t) { return t.taskId == "T-2500"; }), 1);
  EXPECT_EQ((*store->findTask("T-2500"))->state, TaskState::kActive);
  EXPECT_EQ((*store->findTask("T-2500"))->qty, 2);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks"), 3000);  // replaced rows swept
  EXPECT_EQ(count(options().path, "SELECT task_count FROM waves WHERE wave_id = 'W-1'"), 3000);
  // Released back to the queue: still there, once.
  auto tx = store->begin();
  ASSERT_TRUE(tx->setTaskState("T-2500", TaskState::kPending, {}));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*store->findTask("T-2500"))->state, TaskState::kPending);
  EXPECT_EQ(store->taskCounts()->pending, 3000);
  // A third revision replaces it like any pending task, leaving one row.
  auto third = Commands(*store).start(waveAssign("c-3", "W-1", 3, pickTasks("T-", 3000)));
  ASSERT_TRUE(runSteps(*third, steps));
  EXPECT_EQ(store->tasks({.waveId = "W-1", .limit = 10000})->size(), 3000u);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks WHERE task_id = 'T-2500'"), 1);
}

TEST_F(Ingest, AnAbandonedIngestLeavesNothingAndTheResendAppliesOnce) {
  auto store = open();
  {
    auto app = Commands(*store).start(waveAssign("c-1", "W-1", 1, pickTasks("T-", 3000)));
    ASSERT_TRUE(app->step());
    ASSERT_TRUE(app->step());
    EXPECT_GT(count(options().path, "SELECT count(*) FROM tasks WHERE id NOT IN (SELECT id FROM live_tasks)"), 0);
  }
  // Staged rows stay invisible until the next ingest (or open) sweeps them.
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM ingests"), 1);
  EXPECT_EQ(store->taskCounts()->pending, 0);
  EXPECT_EQ(store->tasks({.waveId = "W-1"})->size(), 0u);
  EXPECT_TRUE(events(*store).empty());  // no cmd.result: the OMS sends it again
  auto app = Commands(*store).start(waveAssign("c-1", "W-1", 1, pickTasks("T-", 3000)));
  int steps = 0;
  auto outcome = runSteps(*app, steps);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->duplicate);
  EXPECT_EQ(store->taskCounts()->pending, 3000);
  EXPECT_EQ(resultEvents(*store, "c-1"), 1);
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks"), 3000);  // the abandoned rows swept
  EXPECT_EQ(count(options().path, "SELECT count(*) FROM ingests"), 0);
}

// Salvage of a database with an unfinished ingest: the staged rows (no wave
// row yet) are swept, not taken for tasks whose wave row was lost; the
// generation counter continues above every generation found.
TEST_F(Ingest, SalvageSweepsAnUnfinishedIngestInsteadOfInventingAWave) {
  {
    auto store = open();
    ASSERT_TRUE(Commands(*store).apply(waveAssign("c-0", "W-0", 1, pickTasks("K-", 10))));
    auto app = Commands(*store).start(waveAssign("c-1", "W-1", 1, pickTasks("T-", 3000)));
    ASSERT_TRUE(app->step());
    ASSERT_TRUE(app->step());
    ASSERT_TRUE(app->step());
    EXPECT_EQ(count(options().path, "SELECT count(*) FROM tasks WHERE wave_id = 'W-1'"), 2000);
  }
  auto target = dir_.path() / "salvaged.db";
  auto report = salvageDatabase(options().path, target, clock_);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(count(target, "SELECT count(*) FROM tasks WHERE wave_id = 'W-1'"), 0);
  EXPECT_EQ(count(target, "SELECT count(*) FROM waves WHERE wave_id = 'W-1'"), 0);
  EXPECT_EQ(count(target, "SELECT count(*) FROM ingests"), 0);
  EXPECT_EQ(count(target, "SELECT count(*) FROM live_tasks"), 10);
  EXPECT_GE(count(target, "SELECT value FROM meta WHERE key = 'gen'"), 1);
  for (const auto& e : report->problems) EXPECT_EQ(e.find("W-1"), std::string::npos) << e;
}

TEST_F(Ingest, ScansAtAnotherStationDuringA50000TaskIngestOnTheLoop) {
  // The agent's shape: one loop thread; the ingest posts its next slice,
  // a timer stands in for a picker scanning at another station.
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-small", "W-small", 1, pickTasks("S-", 2000, "cart9"))));
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  auto app = Commands(*store).start(waveAssign("c-big", "W-big", 1, pickTasks("B-", 50000, "cart1")));
  std::optional<Result<sync::CommandOutcome>> done;
  std::function<void()> step = [&] {
    auto r = app->step();
    if (!r) {
      done = std::unexpected(r.error());
    } else if (r->has_value()) {
      done = **r;
    } else {
      (*loop)->post(step);
    }
  };
  (*loop)->post(step);
  std::vector<int64_t> stationSeqs;
  int failures = 0;
  (*loop)->addTimer(std::chrono::milliseconds(2), [&] {
    if (done) return;
    auto next = store->nextTask("cart9", sync::TaskKind::kPick);
    if (!next || !next->has_value()) {
      ++failures;
      return;
    }
    auto tx = store->begin();
    bool finish = (*next)->state == TaskState::kActive;
    if (!tx || !tx->setTaskState((*next)->taskId, finish ? TaskState::kDone : TaskState::kActive,
                                 {.claimedBy = "cart9", .qtyDone = finish ? 2 : 0})) {
      ++failures;
      return;
    }
    auto seq = tx->appendEvent({.type = finish ? "pick.confirmed" : "task.started", .station = "cart9",
                                .taskId = (*next)->taskId, .waveId = "W-small"});
    if (!seq || !tx->commit()) {
      ++failures;
      return;
    }
    stationSeqs.push_back(*seq);
  }, std::chrono::milliseconds(2));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!done && std::chrono::steady_clock::now() < deadline) ASSERT_TRUE((*loop)->runFor(std::chrono::milliseconds(50)));
  ASSERT_TRUE(done.has_value());
  ASSERT_TRUE(*done) << done->error().describe();
  EXPECT_EQ((*done)->status, "accepted");
  EXPECT_EQ(failures, 0);
  EXPECT_GT(stationSeqs.size(), 0u);  // the station was served during the ingest
  EXPECT_EQ(store->taskCounts()->pending + store->taskCounts()->active + store->taskCounts()->done, 52000);
  EXPECT_EQ(store->tasks({.waveId = "W-big", .limit = 60000})->size(), 50000u);
  // Every station step is stored under its seq, the wave's result after them.
  auto all = events(*store);
  ASSERT_EQ(all.size(), stationSeqs.size() + 2);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]["seq"], static_cast<int64_t>(i + 1));
  for (int64_t seq : stationSeqs) EXPECT_EQ(all[static_cast<size_t>(seq - 1)]["station"], "cart9");
  EXPECT_EQ(all.back()["data"]["cmd_id"], "c-big");
}

// --- crashes --------------------------------------------------------------------

void say(int fd, const std::string& line) {
  std::string out = line + "\n";
  if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) ::_exit(4);
}

// Child: applies `command` in steps, saying "step N" after each.
[[noreturn]] void ingestAndReport(const StoreOptions& options, const sync::Command& command, int fd) {
  FakeClock clock;
  auto opened = TaskStore::open(options, clock);
  if (!opened) ::_exit(3);
  auto app = Commands(**opened).start(command);
  for (int n = 1;; ++n) {
    auto r = app->step();
    if (!r) ::_exit(5);
    say(fd, "step " + std::to_string(n));
    if (r->has_value()) {
      say(fd, "done");
      for (;;) ::pause();
    }
  }
}

// Runs the child and kills it after it reported `killAfterStep` steps plus
// `extraUs` microseconds (0 steps: while it opens / checks).
void killDuring(const StoreOptions& options, const sync::Command& command, int killAfterStep, int extraUs) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ingestAndReport(options, command, fds[1]);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[256];
  int reported = 0;
  while (reported < killAfterStep) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 120000) <= 0) break;
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    reported = 0;
    for (size_t at = 0; (at = text.find("step ", at)) != std::string::npos; ++at) ++reported;
  }
  if (extraUs > 0) ::usleep(static_cast<useconds_t>(extraUs));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ::close(fds[0]);
}

// After a crash: the whole wave at `revision` or none of it (still at
// `before`, 0: absent), and the OMS's resend leaves it applied exactly once.
void checkAllOrNothing(const Clock& clock, const StoreOptions& options, const sync::Command& command,
                       int64_t before, size_t expectedTasks, const std::string& round) {
  SCOPED_TRACE(round);
  const auto& wave = std::get<sync::WaveAssign>(command.body);
  auto opened = TaskStore::open(options, clock);
  ASSERT_TRUE(opened) << opened.error().describe();
  TaskStore& store = **opened;
  EXPECT_EQ(count(options.path, "SELECT count(*) FROM tasks WHERE id NOT IN (SELECT id FROM live_tasks)"), 0);
  EXPECT_EQ(count(options.path, "SELECT count(*) FROM ingests"), 0);
  int64_t revision = count(options.path, "SELECT coalesce(max(revision), 0) FROM waves WHERE wave_id = '" +
                                             wave.waveId + "'");
  int64_t ofRevision = count(options.path, "SELECT count(*) FROM tasks WHERE wave_id = '" + wave.waveId +
                                               "' AND revision = " + std::to_string(wave.revision));
  int results = resultEvents(store, command.cmdId);
  if (revision == wave.revision) {
    // Applied: every task of it and one cmd.result.
    EXPECT_EQ(results, 1);
    EXPECT_EQ(store.tasks({.waveId = wave.waveId, .limit = 100000})->size(), expectedTasks);
  } else {
    EXPECT_EQ(revision, before);
    EXPECT_EQ(results, 0);
    EXPECT_EQ(ofRevision, 0);
  }
  // The OMS sends it again (no cmd.result, or it was not acknowledged).
  auto app = Commands(store).start(command);
  int steps = 0;
  auto outcome = runSteps(*app, steps);
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_EQ(outcome->duplicate, revision == wave.revision);
  EXPECT_EQ(store.tasks({.waveId = wave.waveId, .limit = 100000})->size(), expectedTasks);
  int64_t newRevision = count(options.path, "SELECT revision FROM waves WHERE wave_id = '" + wave.waveId + "'");
  EXPECT_EQ(newRevision, wave.revision);
  // Exactly one first answer: one non-duplicate cmd.result for the cmd_id.
  int firsts = 0;
  auto stored = store.eventsAfter(0, 10'000'000);
  ASSERT_TRUE(stored);
  for (const auto& e : *stored) {
    auto j = parse(e.payload);
    if (j["type"] == "cmd.result" && j["data"]["cmd_id"] == command.cmdId && j["data"]["duplicate"] == false) ++firsts;
  }
  EXPECT_EQ(firsts, 1);
  // seq without gap or reuse.
  auto all = store.eventsAfter(0, 10'000'000);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].seq, static_cast<int64_t>(i + 1));
}

using IngestCrash = StoreTest;

TEST_F(IngestCrash, C_C2_SigkillAtEveryPhaseOfA50000TaskWaveLeavesAllOrNothing) {
  const auto command = waveAssign("c-big", "W-big", 1, pickTasks("B-", 50000));
  // 52 steps: the check, 50 slices, the final transaction. Kill while
  // opening, after the check, at the first, a middle and the last slice,
  // inside the final transaction (a few delays after its start) and after it.
  std::random_device device;
  std::mt19937 rng(device());
  std::uniform_int_distribution<int> insideFinal(0, 60000);
  struct Point {
    int afterStep, extraUs;
  };
  std::vector<Point> points{{0, 0}, {1, 0}, {2, 0}, {26, 0}, {51, 0}, {51, insideFinal(rng)},
                            {51, insideFinal(rng)}, {52, 0}};
  int round = 0;
  for (const auto& p : points) {
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directories(dir_.path());
    killDuring(options(), command, p.afterStep, p.extraUs);
    checkAllOrNothing(clock_, options(), command, 0, 50000,
                      "round " + std::to_string(round++) + ": killed after step " + std::to_string(p.afterStep) +
                          " + " + std::to_string(p.extraUs) + " us");
  }
}

TEST_F(IngestCrash, C_C3_SigkillDuringARevisionKeepsTheOldRevisionWholeOrAppliesTheNew) {
  auto tasks = pickTasks("T-", 20000);
  {
    auto store = open();
    auto app = Commands(*store).start(waveAssign("c-1", "W-1", 1, tasks));
    int steps = 0;
    ASSERT_TRUE(runSteps(*app, steps));
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-3", TaskState::kActive, {.claimedBy = "cart1"}));
    ASSERT_TRUE(tx->commit());
  }
  for (auto& t : tasks) t.pick.qty = 5;
  std::random_device device;
  std::mt19937 rng(device());
  std::uniform_int_distribution<int> insideFinal(0, 40000);
  int round = 0;
  for (int revision = 2; revision <= 7; ++revision) {
    const auto command = waveAssign("c-" + std::to_string(revision), "W-1", revision, tasks);
    // check, a slice, the final (twice), right after it, amid the sweep of
    // the replaced rows (steps 23..42)
    const int points[] = {1, 10, 21, 21, 22, 30};
    int at = points[revision - 2];
    killDuring(options(), command, at, at == 21 ? insideFinal(rng) : 0);
    checkAllOrNothing(clock_, options(), command, revision - 1, 20000,
                      "revision round " + std::to_string(round++) + ": killed after step " + std::to_string(at));
    auto store = open();
    EXPECT_EQ((*store->findTask("T-3"))->state, TaskState::kActive);  // kept across every revision
    EXPECT_EQ((*store->findTask("T-3"))->revision, 1);
    EXPECT_EQ((*store->findTask("T-4"))->revision, revision);
  }
}

}  // namespace
}  // namespace floorlink::agent::testing
