// Schema, pragmas and forward-only migrations from every past version.
#include <gtest/gtest.h>

#include "agent/store/schema.h"
#include "agent/commands/commands.h"
#include "store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Schema = StoreTest;

// A database as an older agent left it: migrations 1..version and some rows.
void createAtVersion(const std::filesystem::path& path, int version) {
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  for (const Migration& m : migrations()) {
    if (m.version > version) break;
    db.exec(std::string(m.sql));
    db.exec("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, " + std::to_string(m.version) + ")");
  }
  if (version >= 1) {
    db.exec("INSERT INTO waves (wave_id, revision, priority, state, cmd_id, task_count, created_ms, updated_ms) "
            "VALUES ('W-old', 1, 3, 'open', 'c-old', 2, 1, 1)");
    db.exec("INSERT INTO tasks (task_id, wave_id, revision, kind, station, state, priority, seq_key, "
            "spec_json, created_ms, updated_ms) VALUES "
            "('T-old1', 'W-old', 1, 'pick', 'cart1', 'pending', 3, 5, '{}', 1, 1), "
            "('T-old2', 'W-old', 1, 'pick', 'cart1', 'done', 3, 6, '{}', 1, 1)");
    db.exec("INSERT INTO commands VALUES ('c-old', 'wave.assign', 'accepted', '[]', '[]', 'W-old', '', 1, 1)");
    db.exec("INSERT INTO events (seq, type, payload, created_ms) VALUES "
            "(1, 'cmd.result', '{\"seq\":1}', 1), (2, 'device.status', '{\"seq\":2}', 2)");
    db.exec("UPDATE meta SET value = 2 WHERE key = 'last_seq'");
    db.exec("UPDATE meta SET value = 1 WHERE key = 'acked_through'");
    db.exec("UPDATE meta SET value = 41 WHERE key = 'session'");
  }
  if (version >= 2) {
    db.exec("INSERT INTO counters VALUES ('serial:sscc', 77)");
    db.exec("INSERT INTO print_jobs (job_id, idempotency_key, printer, zpl, state, created_ms, "
            "updated_ms) VALUES ('J-1', 'T-old2/label/1', 'zpl1', x'5e58415e585a', 'confirmed', 1, 1)");
  }
  if (version == 3) {
    db.exec("UPDATE events SET acked_ms = 1000 WHERE seq = 1");  // acked long ago
  }
  if (version >= 4) {
    db.exec("INSERT INTO ack_marks VALUES (1, 1000)");  // acked long ago
  }
  if (version >= 1 && version < 5) {
    // A ship task from before the lookup columns: v5 fills them from its spec.
    db.exec("INSERT INTO tasks (task_id, wave_id, revision, kind, station, state, priority, seq_key, "
            "spec_json, created_ms, updated_ms) VALUES ('S-old', 'W-old', 1, 'ship', '', 'pending', 3, 7, "
            "'{\"task_id\":\"S-old\",\"kind\":\"ship\",\"order_id\":\"O-1\",\"tracking\":\"1ZOLD\"}', 1, 1)");
  }
  if (version >= 5) {
    db.exec("INSERT INTO station_positions VALUES ('cart1', 'T-old1', 'scan_bin', '{}', 1)");
  }
  if (version >= 1 && version < 8) {
    // Before v8 a ship task's door was kept in bin: v8 moves it to door.
    db.exec("INSERT INTO tasks (task_id, wave_id, revision, kind, station, state, priority, seq_key, bin, "
            "spec_json, created_ms, updated_ms) VALUES ('S-door', 'W-old', 1, 'ship', '', 'done', 3, 8, 'D-3', "
            "'{\"task_id\":\"S-door\",\"kind\":\"ship\",\"door\":\"D-3\"}', 1, 1)");
  }
}

TEST_F(Schema, MigrationsAreNumberedOneByOne) {
  int expected = 1;
  for (const Migration& m : migrations()) {
    EXPECT_EQ(m.version, expected++);
    EXPECT_FALSE(m.description.empty());
  }
  EXPECT_EQ(latestSchemaVersion(), expected - 1);
}

TEST_F(Schema, NewDatabaseIsAtTheLatestVersionWithDurablePragmas) {
  auto store = open();
  EXPECT_EQ(store->schemaVersion(), latestSchemaVersion());
  auto info = store->info();
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->journalMode, "wal");
  EXPECT_EQ(info->synchronous, "full");
  EXPECT_TRUE(info->foreignKeys);
  EXPECT_EQ(info->busyTimeoutMs, 5000);
  SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT version FROM schema_version").getInt(), latestSchemaVersion());
}

TEST_F(Schema, SynchronousNormalAndBusyTimeoutAreConfigurable) {
  auto o = options();
  o.synchronous = config::SyncMode::kNormal;
  o.busyTimeout = std::chrono::milliseconds(1234);
  auto store = open(o);
  auto info = store->info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->synchronous, "normal");
  EXPECT_EQ(info->busyTimeoutMs, 1234);
}

TEST_F(Schema, FromConfigUsesDataDirAndStorageSection) {
  config::Config c;
  c.agent.site = "dc1";
  c.agent.id = "pc7";
  c.agent.dataDir = dir_.path() / "data";
  c.storage.synchronous = config::SyncMode::kNormal;
  c.storage.retention = std::chrono::hours(48);
  StoreOptions o = StoreOptions::fromConfig(c);
  EXPECT_EQ(o.path, dir_.path() / "data" / "floorlink.db");
  EXPECT_EQ(o.site, "dc1");
  EXPECT_EQ(o.agentId, "pc7");
  EXPECT_EQ(o.synchronous, config::SyncMode::kNormal);
  EXPECT_EQ(o.retention, std::chrono::hours(48));
  auto store = open(o);  // creates the data directory
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(o.path));
}

class SchemaUpgrade : public StoreTest, public ::testing::WithParamInterface<int> {};

TEST_P(SchemaUpgrade, UpgradesKeepingEveryRow) {
  const int from = GetParam();
  createAtVersion(options().path, from);
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schemaVersion(), latestSchemaVersion());
  {
    SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT version FROM schema_version").getInt(), latestSchemaVersion());
    if (from >= 1) {
      // Events acknowledged before the upgrade got an ack time (v3), kept
      // as a mark covering them (v4); the unacknowledged one has none.
      EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ack_marks WHERE through_seq >= 1").getInt(), 1);
      EXPECT_EQ(db.execAndGet("SELECT max(through_seq) FROM ack_marks").getInt(), 1);
    }
    // v6: the database has an epoch for the high-water file; an upgraded
    // agent announces no gap (it has no file yet). v7: every task of before
    // is live, no ingest is open.
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM ingests").getInt(), 0);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM live_tasks").getInt(),
              db.execAndGet("SELECT count(*) FROM tasks").getInt());
    EXPECT_GT(db.execAndGet("SELECT value FROM meta WHERE key = 'epoch'").getInt64(), 0);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events WHERE type = 'store.salvaged'").getInt(), 0);
    if (from >= 5) {
      EXPECT_EQ(db.execAndGet("SELECT step FROM station_positions WHERE station = 'cart1'").getString(), "scan_bin");
    }
    if (from >= 1) {
      EXPECT_EQ(db.execAndGet("SELECT door FROM tasks WHERE task_id = 'S-door'").getString(), "D-3");
      EXPECT_EQ(db.execAndGet("SELECT bin FROM tasks WHERE task_id = 'S-door'").getString(), "");
    }
  }
  if (from >= 1) {
    auto t = store->findTask("T-old1");
    ASSERT_TRUE(t && t->has_value());
    EXPECT_EQ((*t)->priority, 3);
    EXPECT_EQ((*store->nextTask("cart1", sync::TaskKind::kPick))->taskId, "T-old1");
    EXPECT_EQ(store->outboxStats()->lastSeq, 2);
    EXPECT_EQ(store->outboxStats()->ackedThrough, 1);
    EXPECT_EQ(*store->nextSession(), 42u);
    if (from < 5) {
      auto parcel = store->findPendingShip("ship1", "1ZOLD");
      ASSERT_TRUE(parcel && parcel->has_value());
      EXPECT_EQ((*parcel)->taskId, "S-old");
    }
    // The old inbox still deduplicates.
    auto again = Commands(*store).apply(waveAssign("c-old", "W-old", 1, {pickTask("T-x")}));
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->resultSeq, 3);
    if (from == 3) {
      // The v3 ack time survived as a mark: past the retention, seq 1 goes
      // and the unacknowledged seq 2 stays.
      EXPECT_EQ(store->pruneAcked()->eventsPruned, 1);
      auto left = store->eventsAfter(0, 10);
      ASSERT_TRUE(left && !left->empty());
      EXPECT_EQ(left->front().seq, 2);
    }
  } else {
    EXPECT_EQ(*store->appendEvent({.type = "device.status"}), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPastVersion, SchemaUpgrade, ::testing::Range(0, latestSchemaVersion()),
                         [](const auto& param) { return "FromV" + std::to_string(param.param); });

TEST_F(Schema, NewerSchemaIsRefusedWithoutTouchingIt) {
  createAtVersion(options().path, latestSchemaVersion());
  {
    SQLite::Database db(options().path.string(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE schema_version SET version = 99");
  }
  auto store = TaskStore::open(options(), clock_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find("99"), std::string::npos);
  SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT version FROM schema_version").getInt(), 99);
}

TEST_F(Schema, AForeignDatabaseIsRefused) {
  {
    SQLite::Database db(options().path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE something (x)");
  }
  auto store = TaskStore::open(options(), clock_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("not a floorlink"), std::string::npos);
}

}  // namespace
}  // namespace floorlink::agent::testing
