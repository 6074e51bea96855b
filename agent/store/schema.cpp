#include "agent/store/schema.h"

#include <array>

namespace floorlink::agent {
namespace {

// v1: the task queue, the inbox of applied commands and the outbox.
// (CHECKs on tasks use OR, not IN (...): SQLite evaluates an IN list through
// an ephemeral table per row, which halved the wave ingest rate.)
constexpr std::string_view kV1 = R"sql(
CREATE TABLE schema_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('acked_through', 0), ('session', 0);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE commands (
  cmd_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
  errors_json TEXT NOT NULL DEFAULT '[]',
  kept_json TEXT,
  wave_id TEXT NOT NULL DEFAULT '',
  task_id TEXT NOT NULL DEFAULT '',
  result_seq INTEGER NOT NULL,
  received_ms INTEGER NOT NULL
);
CREATE TABLE waves (
  wave_id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL CHECK (revision >= 1),
  priority INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('open', 'cancelled')),
  cmd_id TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL UNIQUE,
  wave_id TEXT NOT NULL REFERENCES waves (wave_id),
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'pick' OR kind = 'pack' OR kind = 'ship'),
  order_id TEXT NOT NULL DEFAULT '',
  station TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'active' OR state = 'done' OR
                             state = 'short' OR state = 'cancelled'),
  priority INTEGER NOT NULL DEFAULT 0,
  sequence INTEGER,
  seq_key INTEGER NOT NULL,
  bin TEXT NOT NULL DEFAULT '',
  sku TEXT NOT NULL DEFAULT '',
  qty INTEGER NOT NULL DEFAULT 0,
  qty_done INTEGER NOT NULL DEFAULT 0,
  operator TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  spec_json TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX tasks_next ON tasks (station, kind, priority DESC, seq_key, id) WHERE state = 'pending';
CREATE INDEX tasks_active ON tasks (claimed_by) WHERE state = 'active';
CREATE INDEX tasks_wave ON tasks (wave_id, state);
)sql";

// v2: the print journal and durable serial counters (printers::JobStore).
constexpr std::string_view kV2 = R"sql(
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE print_jobs (
  job_id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  printer TEXT NOT NULL,
  template TEXT NOT NULL DEFAULT '',
  task_id TEXT NOT NULL DEFAULT '',
  station TEXT NOT NULL DEFAULT '',
  wave_id TEXT NOT NULL DEFAULT '',
  zpl BLOB NOT NULL,
  sscc TEXT NOT NULL DEFAULT '',
  tracking TEXT NOT NULL DEFAULT '',
  verified INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'confirmed', 'failed', 'uncertain',
                                       'cancelled', 'expired')),
  detail TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX print_jobs_state ON print_jobs (state, printer);
)sql";

// v3: when each event was acknowledged, so retention counts from the ack
// (C-A4). Events acknowledged before the upgrade count from the upgrade.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE events ADD COLUMN acked_ms INTEGER;
UPDATE events SET acked_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE seq <= (SELECT value FROM meta WHERE key = 'acked_through');
CREATE INDEX events_acked ON events (acked_ms) WHERE acked_ms IS NOT NULL;
)sql";

// v4: acknowledgement times as one row per applied ack instead of a column
// on every event: applying an ack that covers hundreds of events rewrote each
// of their rows and index entries on the loop thread (several ms that a scan
// arriving meanwhile had to wait for). Event seq <= through_seq was acked at
// the first mark covering it, so retention needs only the marks.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE ack_marks (
  through_seq INTEGER PRIMARY KEY,
  acked_ms INTEGER NOT NULL
);
INSERT INTO ack_marks (through_seq, acked_ms)
  SELECT max(seq), acked_ms FROM events WHERE acked_ms IS NOT NULL GROUP BY acked_ms;
DROP INDEX events_acked;
ALTER TABLE events DROP COLUMN acked_ms;
)sql";

// v5: where each station stands in its workflow (committed with the step's
// task change and event, so a restart resumes there and re-runs nothing),
// and the codes pack and ship stations look tasks up by, indexed instead of
// a scan of every pending task; why a job failed before reaching the printer
// (so the operator is told to call a technician, not to fix the printer).
constexpr std::string_view kV5 = R"sql(
CREATE TABLE station_positions (
  station TEXT PRIMARY KEY,
  task_id TEXT NOT NULL DEFAULT '',
  step TEXT NOT NULL,
  data_json TEXT NOT NULL DEFAULT '{}',
  updated_ms INTEGER NOT NULL
);
ALTER TABLE tasks ADD COLUMN sscc TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN tracking TEXT NOT NULL DEFAULT '';
UPDATE tasks SET sscc = coalesce(json_extract(spec_json, '$.sscc'), ''),
                 tracking = coalesce(json_extract(spec_json, '$.tracking'), '')
  WHERE kind = 'ship' AND json_valid(spec_json);
CREATE INDEX tasks_pack_order ON tasks (order_id) WHERE kind = 'pack' AND state = 'pending';
CREATE INDEX tasks_ship_sscc ON tasks (sscc) WHERE kind = 'ship' AND state = 'pending';
CREATE INDEX tasks_ship_tracking ON tasks (tracking) WHERE kind = 'ship' AND state = 'pending';
ALTER TABLE print_jobs ADD COLUMN cause TEXT NOT NULL DEFAULT '';
)sql";

// v6: a big wave.assign is written in slices into wave_stage (no index, so
// each slice is short) and moved into tasks in one final transaction, so
// the loop serves stations between slices and the wave stays all or nothing
// (C-C2). meta 'epoch' names this database in the high-water file
// (agent/store/high_water.h); the gap rows say which seq numbers a damaged
// or lost database could not send again (C-E6, store.salvaged).
constexpr std::string_view kV6 = R"sql(
CREATE TABLE wave_stage (
  id INTEGER PRIMARY KEY,
  cmd_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  order_id TEXT NOT NULL,
  station TEXT NOT NULL,
  sequence INTEGER,
  seq_key INTEGER NOT NULL,
  bin TEXT NOT NULL,
  sku TEXT NOT NULL,
  qty INTEGER NOT NULL,
  spec_json TEXT NOT NULL,
  sscc TEXT NOT NULL,
  tracking TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('epoch', abs(random() % 9007199254740991) + 1);
)sql";

// v7: a big wave is written straight into tasks, in slices, under a
// generation of its own (ingests), and becomes visible when its wave row
// takes that generation: one short final transaction whatever the wave's
// size (C-C2). live_tasks is what every query reads: the rows of the
// wave's generation, and rows of earlier ones that had started (kept by a
// revision). task_id is no longer UNIQUE (a staged revision's row shares it
// with the row it replaces until the sweep deletes the old one); the store
// checks it against live_tasks instead. tasks no longer REFERENCES waves: a
// new wave's rows are staged before its wave row exists.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE tasks_v7 (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL,
  wave_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'pick' OR kind = 'pack' OR kind = 'ship'),
  order_id TEXT NOT NULL DEFAULT '',
  station TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'active' OR state = 'done' OR
                             state = 'short' OR state = 'cancelled'),
  priority INTEGER NOT NULL DEFAULT 0,
  sequence INTEGER,
  seq_key INTEGER NOT NULL,
  bin TEXT NOT NULL DEFAULT '',
  sku TEXT NOT NULL DEFAULT '',
  qty INTEGER NOT NULL DEFAULT 0,
  qty_done INTEGER NOT NULL DEFAULT 0,
  operator TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  spec_json TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL,
  sscc TEXT NOT NULL DEFAULT '',
  tracking TEXT NOT NULL DEFAULT '',
  gen INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tasks_v7 (id, task_id, wave_id, revision, kind, order_id, station, claimed_by, state,
                      priority, sequence, seq_key, bin, sku, qty, qty_done, operator, reason,
                      spec_json, created_ms, started_ms, updated_ms, sscc, tracking, gen)
  SELECT id, task_id, wave_id, revision, kind, order_id, station, claimed_by, state, priority,
         sequence, seq_key, bin, sku, qty, qty_done, operator, reason, spec_json, created_ms,
         started_ms, updated_ms, sscc, tracking, 0 FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v7 RENAME TO tasks;
CREATE INDEX tasks_id ON tasks (task_id);
CREATE INDEX tasks_next ON tasks (station, kind, priority DESC, seq_key, id) WHERE state = 'pending';
CREATE INDEX tasks_active ON tasks (claimed_by) WHERE state = 'active';
CREATE INDEX tasks_wave ON tasks (wave_id, state);
CREATE INDEX tasks_pack_order ON tasks (order_id) WHERE kind = 'pack' AND state = 'pending';
CREATE INDEX tasks_ship_sscc ON tasks (sscc) WHERE kind = 'ship' AND state = 'pending';
CREATE INDEX tasks_ship_tracking ON tasks (tracking) WHERE kind = 'ship' AND state = 'pending';
ALTER TABLE waves ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
DROP TABLE wave_stage;
CREATE TABLE ingests (
  gen INTEGER PRIMARY KEY,
  wave_id TEXT NOT NULL,
  cmd_id TEXT NOT NULL,
  flipped INTEGER NOT NULL DEFAULT 0
);
INSERT INTO meta (key, value) VALUES ('gen', 0);
CREATE VIEW live_tasks AS
  SELECT t.* FROM tasks t JOIN waves w ON w.wave_id = t.wave_id
  WHERE t.gen = w.gen OR
        (t.gen < w.gen AND NOT (t.state = 'pending' OR (t.state = 'cancelled' AND t.started_ms = 0)));
)sql";

// v8: a ship task's dock door in a column of its own (it was kept in `bin`,
// which means a pick location).
constexpr std::string_view kShipDoorFromBin = "UPDATE tasks SET door = bin, bin = '' WHERE kind = 'ship';";
constexpr std::string_view kV8 = R"sql(
ALTER TABLE tasks ADD COLUMN door TEXT NOT NULL DEFAULT '';
UPDATE tasks SET door = bin, bin = '' WHERE kind = 'ship';
)sql";

constexpr std::array kMigrations{
    Migration{1, "task queue, inbox and outbox", kV1},
    Migration{2, "print journal and serial counters", kV2},
    Migration{3, "acknowledgement times for event retention", kV3},
    Migration{4, "acknowledgement times per ack, not per event", kV4},
    Migration{5, "station positions and indexed pack/ship lookups", kV5},
    Migration{6, "staged wave ingest and the database epoch for high-water marks", kV6},
    Migration{7, "wave ingest by generation: staged in tasks, visible through live_tasks", kV7},
    Migration{8, "the dock door of ship tasks in its own column", kV8},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }
int latestSchemaVersion() { return kMigrations.back().version; }
std::string_view shipDoorFromBinSql() { return kShipDoorFromBin; }

}  // namespace floorlink::agent
