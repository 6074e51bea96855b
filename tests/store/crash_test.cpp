// Crash safety: a child process applies waves and task steps as fast as it
// can and is SIGKILLed at random moments; after every kill the database is
// intact, every step the child reported committed is there, seq has no gap
// and no wave is half applied.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "store_test_support.h"
#include "agent/commands/commands.h"

namespace floorlink::agent::testing {
namespace {

constexpr int kTasksPerWave = 10;

void report(int fd, const std::string& line) {
  std::string out = line + "\n";
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n <= 0) ::_exit(4);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Runs in the child until killed.
[[noreturn]] void workHard(const StoreOptions& options, int round, int fd) {
  FakeClock clock;
  auto opened = TaskStore::open(options, clock);
  if (!opened) ::_exit(3);
  TaskStore& store = **opened;
  for (int i = 0;; ++i) {
    std::string wave = "W-" + std::to_string(round) + "-" + std::to_string(i);
    auto outcome = Commands(store).apply(
        waveAssign("c-" + wave, wave, 1, pickTasks("T-" + std::to_string(round) + "-" + std::to_string(i) + "-",
                                                   kTasksPerWave)));
    if (!outcome || outcome->status != "accepted") ::_exit(5);
    report(fd, "W " + wave + " " + std::to_string(outcome->resultSeq));
    for (int step = 0; step < 6; ++step) {
      auto next = store.nextTask("cart1", sync::TaskKind::kPick);
      if (!next) ::_exit(6);
      if (!next->has_value()) break;
      const Task& task = **next;
      auto tx = store.begin();
      if (!tx) ::_exit(7);
      bool finish = task.state == TaskState::kActive;
      if (!tx->setTaskState(task.taskId, finish ? TaskState::kDone : TaskState::kActive,
                            {.claimedBy = "cart1", .qtyDone = finish ? task.qty : 0})) {
        ::_exit(8);
      }
      auto seq = tx->appendEvent({.type = finish ? "pick.confirmed" : "task.started", .station = "cart1",
                                  .taskId = task.taskId, .waveId = task.waveId});
      if (!seq || !tx->commit()) ::_exit(9);
      report(fd, std::string(finish ? "D " : "A ") + task.taskId + " " + std::to_string(*seq));
    }
  }
}

struct Reported {
  std::map<std::string, int64_t> waves;        // wave -> seq of its cmd.result
  std::map<std::string, TaskState> tasks;      // latest reported state
  std::map<int64_t, std::string> seqs;         // seq -> expected type
  int64_t maxSeq = 0;
  int64_t steps = 0;
};

void parseLines(const std::string& text, Reported& r) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line cut by the kill is not a report
    std::istringstream words(line);
    std::string kind, id;
    int64_t seq = 0;
    words >> kind >> id >> seq;
    ++r.steps;
    r.maxSeq = std::max(r.maxSeq, seq);
    if (kind == "W") {
      r.waves[id] = seq;
      r.seqs[seq] = "cmd.result";
    } else if (kind == "A") {
      r.tasks[id] = TaskState::kActive;
      r.seqs[seq] = "task.started";
    } else if (kind == "D") {
      r.tasks[id] = TaskState::kDone;
      r.seqs[seq] = "pick.confirmed";
    }
  }
}

using Crash = StoreTest;

TEST_F(Crash, SigkillAtRandomMomentsLosesNoCommittedStep) {
  const int kRounds = 60;
  std::random_device device;
  const unsigned seed = device();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delayMs(5, 250);
  Reported reported;
  int killedMidWork = 0;

  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      workHard(options(), round, fds[1]);
    }
    ::close(fds[1]);
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delayMs(rng));
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (::poll(&p, 1, std::max(left, 0)) > 0) {
        ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        text.append(buffer, static_cast<size_t>(n));
      }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    // Killed, not failed on its own.
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
    ::close(fds[0]);
    int64_t before = reported.steps;
    parseLines(text, reported);
    if (reported.steps > before) ++killedMidWork;

    if (!std::filesystem::exists(options().path)) {
      EXPECT_EQ(reported.steps, 0);  // killed before it created the database
      continue;
    }
    // Restart: the file is intact (a plain connection recovers the WAL).
    bool created = true;
    {
      SQLite::Database raw(options().path.string(), SQLite::OPEN_READWRITE);
      ASSERT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok") << "round " << round;
      // Killed inside the very first open: the file exists but the schema
      // was never committed. The next open must create it (below).
      created = raw.tableExists("events");
      if (!created) {
        EXPECT_EQ(reported.steps, 0) << "round " << round;
      }
    }
    if (created) {
      SQLite::Database raw(options().path.string(), SQLite::OPEN_READWRITE);
      // seq: 1..last without a gap, last == the counter.
      SQLite::Statement seqs(raw, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM events");
      ASSERT_TRUE(seqs.executeStep());
      int64_t count = seqs.getColumn(0).getInt64(), min = seqs.getColumn(1).getInt64(),
              max = seqs.getColumn(2).getInt64();
      EXPECT_EQ(count, max) << "round " << round;
      if (count > 0) {
        EXPECT_EQ(min, 1);
        EXPECT_EQ(raw.execAndGet("SELECT value FROM meta WHERE key = 'last_seq'").getInt64(), max);
      }
      EXPECT_GE(max, reported.maxSeq) << "round " << round;
      // No half-applied wave.
      SQLite::Statement waves(raw,
                              "SELECT w.wave_id, w.task_count, (SELECT count(*) FROM tasks t WHERE "
                              "t.wave_id = w.wave_id) FROM waves w");
      while (waves.executeStep()) {
        EXPECT_EQ(waves.getColumn(1).getInt64(), kTasksPerWave) << waves.getColumn(0).getString();
        EXPECT_EQ(waves.getColumn(2).getInt64(), kTasksPerWave) << waves.getColumn(0).getString();
      }
    }
    auto store = open();
    ASSERT_NE(store, nullptr) << "round " << round;
    for (const auto& [wave, seq] : reported.waves) {
      auto tasks = store->tasks({.waveId = wave});
      ASSERT_TRUE(tasks);
      EXPECT_EQ(tasks->size(), static_cast<size_t>(kTasksPerWave)) << wave;
    }
    for (const auto& [taskId, state] : reported.tasks) {
      auto task = store->findTask(taskId);
      ASSERT_TRUE(task && task->has_value()) << taskId;
      if (state == TaskState::kDone) {
        EXPECT_EQ((*task)->state, TaskState::kDone) << taskId;
      } else {
        EXPECT_TRUE((*task)->state == TaskState::kActive || (*task)->state == TaskState::kDone) << taskId;
      }
    }
    auto stored = store->eventsAfter(0, 10000000);
    ASSERT_TRUE(stored);
    for (const auto& [seq, type] : reported.seqs) {
      ASSERT_LE(seq, static_cast<int64_t>(stored->size()));
      auto e = parse((*stored)[static_cast<size_t>(seq - 1)].payload);
      EXPECT_EQ(e["seq"], seq);
      EXPECT_EQ(e["type"], type) << "seq " << seq;
    }
  }
  // The test means something only if the children got work done.
  EXPECT_GE(killedMidWork, kRounds / 2);
  EXPECT_GT(reported.steps, 100);
  RecordProperty("reported_steps", std::to_string(reported.steps));
  std::printf("crash test: %d kills, %d in the middle of work, %lld committed steps reported and found\n",
              kRounds, killedMidWork, static_cast<long long>(reported.steps));
}

}  // namespace
}  // namespace floorlink::agent::testing
