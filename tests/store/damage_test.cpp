// Damaged and full databases: corruption is detected at open, the file is
// moved aside (never deleted), salvage copies what is readable keeping seq;
// a full disk stops new work without losing anything committed (C-E5).
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "agent/store/salvage.h"
#include "agent/commands/commands.h"
#include "store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Damage = StoreTest;

void writeGarbage(const std::filesystem::path& file, int64_t offset, size_t length) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.is_open());
  f.seekp(offset);
  std::string garbage(length, '\0');
  uint32_t x = 12345;
  for (char& c : garbage) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

std::vector<std::string> payloads(TaskStore& store) {
  std::vector<std::string> out;
  auto stored = store.eventsAfter(0, 1000000);
  EXPECT_TRUE(stored);
  for (const auto& e : *stored) out.push_back(e.payload);
  return out;
}

// A store with `n` events of ~300 bytes and one wave, closed cleanly.
std::vector<std::string> fillAndClose(StoreTest& test, std::unique_ptr<TaskStore> store, int n) {
  EXPECT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, pickTasks("T-", 20))));
  for (int i = 1; i < n; ++i) {
    sync::EventDraft d;
    d.type = "device.status";
    d.dataJson = nlohmann::json{{"device", "scan1"}, {"detail", std::string(250, 'a' + i % 26)}}.dump();
    EXPECT_TRUE(store->appendEvent(d));
  }
  auto out = payloads(*store);
  (void)test;
  return out;
}

TEST_F(Damage, GarbageHeaderIsMovedAsideAndOpenFailsLoudly) {
  fillAndClose(*this, open(), 50);
  writeGarbage(options().path, 0, 200);
  auto store = TaskStore::open(options(), clock_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(store.error().message.find("moved aside"), std::string::npos);
  EXPECT_NE(store.error().message.find("floorlinkctl db salvage"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(options().path));
  auto copies = findCorruptCopies(options().path);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_NE(copies[0].filename().string().find("floorlink.db.corrupt-2025"), std::string::npos);
  EXPECT_GT(std::filesystem::file_size(copies[0]), 0u);

  // It does not silently start afresh (that would reuse seq numbers).
  auto again = TaskStore::open(options(), clock_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(again.error().message.find(copies[0].string()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(options().path));

  // Nothing readable: salvage says so instead of inventing a database.
  auto salvaged = salvageDatabase(copies[0], options().path, clock_);
  ASSERT_FALSE(salvaged);
  EXPECT_EQ(salvaged.error().code, ErrorCode::kCorrupt);
  EXPECT_TRUE(std::filesystem::exists(copies[0]));
}

TEST_F(Damage, DamagedPageIsDetectedAndSalvageKeepsEveryReadableRowAndSeq) {
  auto original = fillAndClose(*this, open(), 3000);
  ASSERT_EQ(original.size(), 3000u);
  auto size = std::filesystem::file_size(options().path);
  ASSERT_GT(size, 100u * 4096);
  // Garbage over one page in the middle of the events.
  writeGarbage(options().path, static_cast<int64_t>(size / 4096 / 2) * 4096, 4096);

  auto store = TaskStore::open(options(), clock_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kCorrupt);
  auto copies = findCorruptCopies(options().path);
  ASSERT_EQ(copies.size(), 1u);

  auto report = salvageDatabase(copies[0], options().path, clock_);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_FALSE(report->complete());
  EXPECT_EQ(report->lastSeq, 3000);
  EXPECT_GT(report->missingSeqCount, 0);
  EXPECT_LT(report->missingSeqCount, 200);
  EXPECT_NE(report->describe().find("LOST unacknowledged events"), std::string::npos);
  EXPECT_TRUE(findCorruptCopies(options().path).empty());
  EXPECT_TRUE(std::filesystem::exists(copies[0].string() + ".salvaged"));

  auto salvaged = open();
  ASSERT_NE(salvaged, nullptr);
  // Every event read back is byte-identical; the rest is reported missing.
  std::set<int64_t> missing(report->missingSeqs.begin(), report->missingSeqs.end());
  auto stored = salvaged->eventsAfter(0, 100000);
  ASSERT_TRUE(stored);
  ASSERT_FALSE(stored->empty());
  // The gap is announced once, above the old last seq (C-E6).
  auto announced = parse(stored->back().payload);
  EXPECT_EQ(announced["seq"], 3001);
  EXPECT_EQ(announced["type"], "store.salvaged");
  EXPECT_EQ(announced["data"]["missing_from"], report->missingSeqs.front());
  EXPECT_EQ(announced["data"]["missing_to"], report->missingSeqs.back());
  stored->pop_back();
  EXPECT_EQ(static_cast<int64_t>(stored->size()) + report->missingSeqCount, 3000);
  for (const auto& e : *stored) {
    EXPECT_EQ(e.payload, original[static_cast<size_t>(e.seq - 1)]);
    EXPECT_FALSE(missing.contains(e.seq));
  }
  auto stats = salvaged->outboxStats();
  EXPECT_EQ(stats->gapFrom, report->missingSeqs.front());
  EXPECT_EQ(stats->gapTo, report->missingSeqs.back());
  // seq continues after the old last seq: no number is reused.
  EXPECT_EQ(*salvaged->appendEvent({.type = "device.status"}), 3002);
  EXPECT_EQ(salvaged->taskCounts()->pending, 20);
}

TEST_F(Damage, SalvageOfAHealthyDatabaseIsComplete) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, pickTasks("T-", 5))));
  ASSERT_TRUE(store->nextSession());
  ASSERT_TRUE(store->acknowledge(1));
  ASSERT_TRUE(store->appendEvent({.type = "device.status"}));
  store.reset();
  auto target = dir_.path() / "copy.db";
  auto report = salvageDatabase(options().path, target, clock_);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_TRUE(report->complete()) << report->describe();
  EXPECT_EQ(report->lastSeq, 2);
  EXPECT_EQ(report->ackedThrough, 1);
  auto o = options();
  o.path = target;
  auto copy = open(o);
  EXPECT_EQ(copy->taskCounts()->pending, 5);
  EXPECT_EQ(*copy->nextSession(), 2u);
  EXPECT_EQ(*copy->appendEvent({.type = "device.status"}), 3);
  // A duplicate command is still recognised after salvage.
  EXPECT_TRUE(Commands(*copy).apply(waveAssign("c-1", "W-1", 1, {}))->duplicate);
}

TEST_F(Damage, SalvageNeverOverwritesADatabase) {
  open().reset();
  auto report = salvageDatabase(options().path, options().path, clock_);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(Damage, C_E5_FullDiskStopsNewWorkAndLosesNothing) {
  auto o = options();
  o.maxSizeBytes = 512 * 1024;
  auto store = open(o);
  int accepted = 0;
  Error failure;
  for (int wave = 0; wave < 1000; ++wave) {
    auto outcome = Commands(*store).apply(waveAssign("c-" + std::to_string(wave), "W-" + std::to_string(wave),
                                                  1, pickTasks("T" + std::to_string(wave) + "-", 100)));
    if (!outcome) {
      failure = outcome.error();
      break;
    }
    ASSERT_EQ(outcome->status, "accepted");
    ++accepted;
  }
  ASSERT_GT(accepted, 0);
  EXPECT_EQ(failure.code, ErrorCode::kDiskFull);
  EXPECT_NE(failure.message.find("full"), std::string::npos);
  auto health = store->health();
  EXPECT_FALSE(health.acceptingWork);
  EXPECT_NE(health.detail.find("disk full"), std::string::npos);

  // Everything committed is intact and readable; the failed wave left nothing.
  auto stats = store->outboxStats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->lastSeq, accepted);
  EXPECT_EQ(stats->depth, accepted);
  EXPECT_EQ(store->taskCounts()->pending, accepted * 100);
  EXPECT_FALSE(store->findTask("T" + std::to_string(accepted) + "-0")->has_value());
  store.reset();

  // With room again the agent works on, seq continuing without a gap.
  auto roomy = open();
  EXPECT_TRUE(roomy->health().acceptingWork);
  auto outcome = Commands(*roomy).apply(waveAssign("c-x", "W-x", 1, pickTasks("X-", 100)));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->resultSeq, accepted + 1);
  SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST_F(Damage, WritesThatFitAgainClearTheFullFlag) {
  auto o = options();
  o.maxSizeBytes = 256 * 1024;
  auto store = open(o);
  for (int wave = 0; wave < 1000; ++wave) {
    if (!Commands(*store).apply(waveAssign("c-" + std::to_string(wave), "W-" + std::to_string(wave), 1,
                                        pickTasks("T" + std::to_string(wave) + "-", 200)))) {
      break;
    }
  }
  ASSERT_FALSE(store->health().acceptingWork);
  // Acknowledged and pruned events free pages for a small write.
  auto stats = store->outboxStats();
  ASSERT_TRUE(store->acknowledge(stats->lastSeq));
  clock_.advance(std::chrono::hours(24 * 8));
  auto pruned = store->pruneAcked();
  ASSERT_TRUE(pruned) << pruned.error().describe();
  EXPECT_TRUE(store->health().acceptingWork);
}

}  // namespace
}  // namespace floorlink::agent::testing
