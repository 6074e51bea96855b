// C-E6: whatever happens to the database file (damaged pages, truncation, a
// destroyed header, a lost counters row, the whole file gone), restart and
// salvage never reuse a seq or a session: they continue above the
// high-water file, and the gap is announced by one store.salvaged event and
// by seq_gap in the state until that event is acknowledged.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/store/high_water.h"
#include "agent/commands/commands.h"
#include "agent/store/salvage.h"
#include "store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using HighWater = StoreTest;

void garbage(const std::filesystem::path& file, int64_t offset, size_t length) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.is_open());
  f.seekp(offset);
  std::string bytes(length, '\0');
  uint32_t x = 777;
  for (char& c : bytes) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Used {
  int64_t maxSeq = 0;
  uint64_t maxSession = 0;
  int64_t acked = 0;
};

// What the OMS saw: `n` events (a wave and device events, 300 bytes each),
// two sessions, an ack of the first half. Closed cleanly (checkpointed).
Used useNumbers(StoreTest& test, std::unique_ptr<TaskStore> store, int n) {
  (void)test;
  Used used;
  used.maxSession = *store->nextSession();
  used.maxSession = *store->nextSession();
  EXPECT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, pickTasks("T-", 20))));
  for (int i = 1; i < n; ++i) {
    sync::EventDraft d;
    d.type = "device.status";
    d.dataJson = nlohmann::json{{"device", "scan1"}, {"detail", std::string(250, 'a' + i % 26)}}.dump();
    EXPECT_TRUE(store->appendEvent(d));
  }
  used.maxSeq = store->outboxStats()->lastSeq;
  used.acked = used.maxSeq / 2;
  EXPECT_TRUE(store->acknowledge(used.acked));
  EXPECT_EQ(used.maxSeq, n);
  return used;
}

// After the recovery: the store.salvaged event sits above every used seq,
// names a gap that covers the unacknowledged numbers that are gone, the
// state carries it until it is acknowledged, and new numbers are all new.
void expectContinuesAbove(TaskStore& store, const Used& used) {
  auto stored = store.eventsAfter(0, 10'000'000);
  ASSERT_TRUE(stored);
  std::optional<nlohmann::json> announced;
  for (const auto& e : *stored) {
    auto j = parse(e.payload);
    if (j["type"] == "store.salvaged") {
      EXPECT_FALSE(announced.has_value()) << "announced twice";
      announced = j;
    }
  }
  ASSERT_TRUE(announced.has_value());
  int64_t seq = (*announced)["seq"];
  int64_t from = (*announced)["data"]["missing_from"], to = (*announced)["data"]["missing_to"];
  EXPECT_GT(seq, used.maxSeq);
  EXPECT_LE(from, to);
  EXPECT_LT(to, seq);  // its own seq above the gap
  EXPECT_GE(to, used.maxSeq);
  EXPECT_FALSE((*announced)["data"]["reason"].get<std::string>().empty());
  auto stats = store.outboxStats();
  EXPECT_EQ(stats->gapFrom, from);
  EXPECT_EQ(stats->gapTo, to);
  // Every event still stored (or new) lies outside the gap.
  for (const auto& e : *stored) EXPECT_TRUE(e.seq < from || e.seq > to) << e.seq;
  // New numbers are new.
  auto next = store.appendEvent({.type = "device.status"});
  ASSERT_TRUE(next);
  EXPECT_GT(*next, seq);
  auto session = store.nextSession();
  ASSERT_TRUE(session);
  EXPECT_GT(*session, used.maxSession);
  // Acknowledging the announcement ends seq_gap in the state.
  ASSERT_TRUE(store.acknowledge(seq));
  EXPECT_EQ(store.outboxStats()->gapFrom, 0);
}

TEST_F(HighWater, C_E6_TheWholeFileGoneContinuesAboveTheHighWaterFile) {
  Used used = useNumbers(*this, open(), 11);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "floorlink.hw"));
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(options().path.string() + s);
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
  // The next restart is an ordinary one: nothing announced again.
  int64_t last = store->outboxStats()->lastSeq;
  store.reset();
  auto again = open();
  EXPECT_EQ(again->outboxStats()->lastSeq, last);
  EXPECT_EQ(*again->appendEvent({.type = "device.status"}), last + 1);
}

TEST_F(HighWater, C_E6_ALostCountersRowContinuesAbove) {
  Used used = useNumbers(*this, open(), 30);
  {
    SQLite::Database raw(options().path.string(), SQLite::OPEN_READWRITE);
    raw.exec("DELETE FROM meta WHERE key = 'last_seq'");
    raw.exec("DELETE FROM events WHERE seq > 20");  // the newest events went with it
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
}

TEST_F(HighWater, C_E6_AllCountersLostContinuesAbove) {
  Used used = useNumbers(*this, open(), 30);
  {
    SQLite::Database raw(options().path.string(), SQLite::OPEN_READWRITE);
    raw.exec("DELETE FROM meta");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
}

TEST_F(HighWater, C_E6_DamagedPagesThenSalvageContinueAbove) {
  Used used = useNumbers(*this, open(), 3000);
  // Heavy damage: garbage over every page of the counters and the events
  // (the schema pages survive, so salvage can run at all).
  std::vector<int64_t> pages;
  {
    SQLite::Database raw(options().path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement s(raw, "SELECT pageno FROM dbstat WHERE name IN ('meta', 'events', "
                             "'sqlite_autoindex_meta_1')");
    while (s.executeStep()) pages.push_back(s.getColumn(0).getInt64());
  }
  ASSERT_GT(pages.size(), 10u);
  for (int64_t page : pages) garbage(options().path, (page - 1) * 4096, 4096);
  auto failed = TaskStore::open(options(), clock_);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kCorrupt);
  // Running without the database, the agent still counts sessions up.
  auto session = nextSessionFromHighWater(options().path);
  ASSERT_TRUE(session);
  EXPECT_GT(*session, used.maxSession);
  used.maxSession = *session;
  auto copies = findCorruptCopies(options().path);
  ASSERT_EQ(copies.size(), 1u);
  auto report = salvageDatabase(copies[0], options().path, clock_);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_GE(report->lastSeq, used.maxSeq);
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
}

TEST_F(HighWater, C_E6_TruncatedFileThenSalvageContinueAbove) {
  Used used = useNumbers(*this, open(), 3000);
  auto size = std::filesystem::file_size(options().path);
  std::filesystem::resize_file(options().path, size / 3);
  auto failed = TaskStore::open(options(), clock_);
  ASSERT_FALSE(failed);
  auto copies = findCorruptCopies(options().path);
  ASSERT_EQ(copies.size(), 1u);
  auto report = salvageDatabase(copies[0], options().path, clock_);
  if (!report) {
    // Not even the table list survived: the technician moves the copy away.
    std::filesystem::rename(copies[0], dir_.path() / "kept-for-analysis.db");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
}

TEST_F(HighWater, C_E6_DestroyedHeaderThenTheCopyMovedAwayStartsAboveNotAtOne) {
  Used used = useNumbers(*this, open(), 50);
  garbage(options().path, 0, 200);
  ASSERT_FALSE(TaskStore::open(options(), clock_));
  auto copies = findCorruptCopies(options().path);
  ASSERT_EQ(copies.size(), 1u);
  ASSERT_FALSE(salvageDatabase(copies[0], options().path, clock_));  // nothing readable
  // The technician moves the copy away: an empty database, but not seq 1.
  std::filesystem::rename(copies[0], dir_.path() / "kept-for-analysis.db");
  auto store = open();
  ASSERT_NE(store, nullptr);
  expectContinuesAbove(*store, used);
}

TEST_F(HighWater, AHealthyRestartAnnouncesNothingAndReservesInBlocks) {
  auto store = open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->appendEvent({.type = "device.status"}));
  auto marks = readHighWater(highWaterPath(options().path));
  ASSERT_TRUE(marks && marks->has_value());
  EXPECT_EQ((*marks)->seqCeiling, 1 + kSeqBlock);  // reserved once, not per event
  store.reset();
  auto again = open();
  EXPECT_EQ(*again->appendEvent({.type = "device.status"}), 6);
  EXPECT_EQ(again->outboxStats()->gapFrom, 0);
  for (const auto& e : events(*again)) EXPECT_NE(e["type"], "store.salvaged");
}

TEST_F(HighWater, ADatabaseWithoutAHighWaterFileKeepsItsNumbers) {
  // An agent upgraded from before the file existed, or the file deleted.
  Used used = useNumbers(*this, open(), 20);
  std::filesystem::remove(highWaterPath(options().path));
  auto store = open();
  EXPECT_EQ(*store->appendEvent({.type = "device.status"}), used.maxSeq + 1);
  EXPECT_GT(*store->nextSession(), used.maxSession);
  EXPECT_TRUE(std::filesystem::exists(highWaterPath(options().path)));
}

}  // namespace
}  // namespace floorlink::agent::testing
