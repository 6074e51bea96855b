// The rows agent/commands applies commands with: stored answers, waves, a
// wave's tasks and the staged ingests of big waves (StoreTransaction's
// "commands" section). Storage only; the rules are in agent/commands.
#include <limits>
#include <nlohmann/json.hpp>

#include "agent/store/store_impl.h"

namespace floorlink::agent {

using Json = nlohmann::json;

namespace {

// Rows a revision replaced are deleted this many per transaction.
constexpr int64_t kSweepSliceRows = 1000;

constexpr const char* kInsertTask =
    "INSERT INTO tasks (task_id, wave_id, revision, kind, order_id, station, state, priority, "
    "sequence, seq_key, bin, sku, qty, spec_json, created_ms, updated_ms, sscc, tracking, gen, door) "
    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// A task row is replaceable by a revision when it never started (schema v7,
// live_tasks): the same condition in SQL, for the statements below.
#define FL_REPLACEABLE "(state = 'pending' OR (state = 'cancelled' AND started_ms = 0))"

// The columns of a task row derived from its spec (pointers into the spec).
struct TaskRow {
  const std::string* bin;
  const std::string* door;
  const std::string* sku;
  const std::string* sscc;
  const std::string* tracking;
  int64_t qty = 0;
  std::optional<int64_t> sequence;
};

TaskRow taskRow(const sync::TaskSpec& t) {
  static const std::string kEmpty;
  TaskRow r{&kEmpty, &kEmpty, &kEmpty, &kEmpty, &kEmpty, 0, std::nullopt};
  switch (t.kind) {
    case sync::TaskKind::kPick:
      r.bin = &t.pick.bin;
      r.sku = &t.pick.sku;
      r.qty = t.pick.qty;
      r.sequence = t.pick.sequence;
      break;
    case sync::TaskKind::kPack:
      for (const auto& line : t.pack.lines) r.qty += line.qty;
      if (t.pack.lines.size() == 1) r.sku = &t.pack.lines.front().sku;
      break;
    case sync::TaskKind::kShip:
      r.door = &t.ship.door;
      r.sscc = &t.ship.sscc;
      r.tracking = &t.ship.tracking;
      break;
  }
  return r;
}

WaveTask waveTask(SQLite::Statement& s, int first) {
  // columns from `first`: task_id, station, claimed_by, state, started_ms
  std::string claimed = s.getColumn(first + 2).getString();
  return WaveTask{s.getColumn(first).getString(),
                  parseTaskState(s.getColumn(first + 3).getString()).value_or(TaskState::kPending),
                  s.getColumn(first + 4).getInt64() != 0,
                  claimed.empty() ? s.getColumn(first + 1).getString() : claimed};
}

// The open transaction's store, or why there is none.
Result<TaskStore::Impl*> open(const std::unique_ptr<StoreTransaction::State>& state) {
  if (!state || !state->scope.open()) {
    return fail(ErrorCode::kInvalidArgument, "the transaction is already committed or rolled back");
  }
  return state->impl;
}

}  // namespace

Result<std::optional<StoredAnswer>> StoreTransaction::answer(const std::string& cmdId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("reading the answer to command " + cmdId, [&]() -> Result<std::optional<StoredAnswer>> {
    SQLite::Statement& s =
        (*d)->cached("SELECT status, errors_json, kept_json, wave_id, task_id FROM commands WHERE cmd_id = ?");
    ResetOnExit reset{s};
    s.bind(1, cmdId);
    if (!s.executeStep()) return std::optional<StoredAnswer>{};
    StoredAnswer a;
    a.status = s.getColumn(0).getString();
    a.errorsJson = s.getColumn(1).getString();
    if (!s.getColumn(2).isNull()) {
      Json kept = Json::parse(s.getColumn(2).getString(), nullptr, false);
      a.kept.emplace();
      if (kept.is_array()) {
        for (const auto& k : kept) {
          if (k.is_string()) a.kept->push_back(k.get<std::string>());
        }
      }
    }
    a.waveId = s.getColumn(3).getString();
    a.taskId = s.getColumn(4).getString();
    return std::optional<StoredAnswer>{std::move(a)};
  });
}

Status StoreTransaction::storeAnswer(const std::string& cmdId, std::string_view type, const StoredAnswer& answer,
                                     int64_t resultSeq) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("storing the answer to command " + cmdId, [&]() -> Status {
    SQLite::Statement& s = (*d)->cached(
        "INSERT INTO commands (cmd_id, type, status, errors_json, kept_json, wave_id, task_id, "
        "result_seq, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, cmdId);
    s.bind(2, std::string(type));
    s.bind(3, answer.status);
    s.bind(4, answer.errorsJson);
    if (answer.kept) {
      s.bind(5, Json(*answer.kept).dump());
    } else {
      s.bind(5);
    }
    s.bind(6, answer.waveId);
    s.bind(7, answer.taskId);
    s.bind(8, static_cast<int64_t>(resultSeq));
    s.bind(9, static_cast<int64_t>((*d)->clock.nowMs()));
    s.exec();
    return ok();
  });
}

Result<std::optional<WaveRecord>> StoreTransaction::wave(const std::string& waveId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("reading wave " + waveId, [&]() -> Result<std::optional<WaveRecord>> {
    SQLite::Statement& s =
        (*d)->cached("SELECT revision, priority, cmd_id, task_count, gen FROM waves WHERE wave_id = ?");
    ResetOnExit reset{s};
    s.bind(1, waveId);
    if (!s.executeStep()) return std::optional<WaveRecord>{};
    return std::optional<WaveRecord>{WaveRecord{waveId, s.getColumn(0).getInt64(), s.getColumn(1).getInt64(),
                                                s.getColumn(2).getString(), s.getColumn(3).getInt64(),
                                                s.getColumn(4).getInt64()}};
  });
}

Status StoreTransaction::putWave(const WaveRecord& wave) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("storing wave " + wave.waveId, [&]() -> Status {
    SQLite::Statement& s = (*d)->cached(
        "INSERT INTO waves (wave_id, revision, priority, state, cmd_id, task_count, created_ms, updated_ms, gen) "
        "VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?6, ?7) ON CONFLICT (wave_id) DO UPDATE SET "
        "revision = excluded.revision, priority = excluded.priority, state = 'open', cmd_id = excluded.cmd_id, "
        "task_count = excluded.task_count, updated_ms = excluded.updated_ms, gen = excluded.gen");
    s.bind(1, wave.waveId);
    s.bind(2, static_cast<int64_t>(wave.revision));
    s.bind(3, static_cast<int64_t>(wave.priority));
    s.bind(4, wave.cmdId);
    s.bind(5, static_cast<int64_t>(wave.taskCount));
    s.bind(6, static_cast<int64_t>((*d)->clock.nowMs()));
    s.bind(7, static_cast<int64_t>(wave.gen));
    s.exec();
    return ok();
  });
}

Result<std::vector<WaveTask>> StoreTransaction::cancelWave(const std::string& waveId, const std::string& reason) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  TaskStore::Impl& impl = **d;
  return impl.guarded("cancelling wave " + waveId, [&]() -> Result<std::vector<WaveTask>> {
    std::vector<WaveTask> open;
    {
      SQLite::Statement& s = impl.cached(
          "SELECT task_id, station, claimed_by, state, started_ms FROM live_tasks WHERE wave_id = ? AND state IN "
          "('pending', 'active') ORDER BY id");
      ResetOnExit reset{s};
      s.bind(1, waveId);
      while (s.executeStep()) open.push_back(waveTask(s, 0));
    }
    const int64_t now = impl.clock.nowMs();
    SQLite::Statement& up = impl.cached(
        "UPDATE tasks SET state = 'cancelled', reason = ?, updated_ms = ? WHERE id IN (SELECT id FROM "
        "live_tasks WHERE wave_id = ? AND state IN ('pending', 'active'))");
    up.bind(1, reason);
    up.bind(2, static_cast<int64_t>(now));
    up.bind(3, waveId);
    up.exec();
    SQLite::Statement& w = impl.cached("UPDATE waves SET state = 'cancelled', updated_ms = ? WHERE wave_id = ?");
    w.bind(1, static_cast<int64_t>(now));
    w.bind(2, waveId);
    w.exec();
    for (const WaveTask& t : open) {
      impl.txnChanges.push_back(TaskChange{t.taskId, waveId, t.holder, t.state, TaskState::kCancelled});
    }
    return open;
  });
}

Result<std::vector<WaveTask>> StoreTransaction::liveTasks(const std::string& waveId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("reading the tasks of wave " + waveId, [&]() -> Result<std::vector<WaveTask>> {
    SQLite::Statement& s = (*d)->cached(
        "SELECT task_id, station, claimed_by, state, started_ms FROM live_tasks WHERE wave_id = ? ORDER BY id");
    ResetOnExit reset{s};
    s.bind(1, waveId);
    std::vector<WaveTask> out;
    while (s.executeStep()) out.push_back(waveTask(s, 0));
    return out;
  });
}

Status StoreTransaction::dropUnstarted(const std::string& waveId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  TaskStore::Impl& impl = **d;
  return impl.guarded("replacing the tasks of wave " + waveId, [&]() -> Status {
    {
      SQLite::Statement& s = impl.cached(
          "SELECT task_id, station, claimed_by, state, started_ms FROM live_tasks WHERE wave_id = ? AND "
          FL_REPLACEABLE " ORDER BY id");
      ResetOnExit reset{s};
      s.bind(1, waveId);
      while (s.executeStep()) {
        WaveTask t = waveTask(s, 0);
        impl.txnChanges.push_back(TaskChange{t.taskId, waveId, t.holder, t.state, std::nullopt});
      }
    }
    SQLite::Statement& del = impl.cached("DELETE FROM tasks WHERE wave_id = ? AND " FL_REPLACEABLE);
    del.bind(1, waveId);
    del.exec();
    return ok();
  });
}

Result<std::optional<std::string>> StoreTransaction::liveOwnerElsewhere(const std::string& taskId,
                                                                        const std::string& waveId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("looking up task " + taskId, [&]() -> Result<std::optional<std::string>> {
    SQLite::Statement& s =
        (*d)->cached("SELECT wave_id FROM live_tasks WHERE task_id = ? AND wave_id <> ? LIMIT 1");
    ResetOnExit reset{s};
    s.bindNoCopy(1, taskId);
    s.bindNoCopy(2, waveId);
    if (!s.executeStep()) return std::optional<std::string>{};
    return std::optional<std::string>{s.getColumn(0).getString()};
  });
}

Status StoreTransaction::insertTask(const sync::TaskSpec& t, const TaskPlacement& where) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  TaskStore::Impl& impl = **d;
  return impl.guarded("storing a task of a wave", [&]() -> Status {
    // The hot loop of an ingest: its statement is kept at hand rather than
    // looked up by its text for every task.
    if (!impl.insertTask) impl.insertTask = std::make_unique<SQLite::Statement>(*impl.db, kInsertTask);
    SQLite::Statement& s = *impl.insertTask;
    s.reset();
    TaskRow row = taskRow(t);
    // The spec and the placement outlive exec(), so strings are bound without copies.
    s.bindNoCopy(1, t.taskId);
    s.bindNoCopy(2, where.waveId);
    s.bind(3, static_cast<int64_t>(where.revision));
    s.bindNoCopy(4, sync::toString(t.kind).data());  // a NUL-terminated literal
    s.bindNoCopy(5, t.orderId);
    s.bindNoCopy(6, t.station);
    s.bind(7, static_cast<int64_t>(where.priority));
    if (row.sequence) {
      s.bind(8, static_cast<int64_t>(*row.sequence));
    } else {
      s.bind(8);
    }
    s.bind(9, static_cast<int64_t>(row.sequence.value_or(std::numeric_limits<int64_t>::max())));
    s.bindNoCopy(10, *row.bin);
    s.bindNoCopy(11, *row.sku);
    s.bind(12, static_cast<int64_t>(row.qty));
    s.bindNoCopy(13, t.json);
    s.bind(14, static_cast<int64_t>(where.nowMs));
    s.bind(15, static_cast<int64_t>(where.nowMs));
    s.bindNoCopy(16, *row.sscc);
    s.bindNoCopy(17, *row.tracking);
    s.bind(18, static_cast<int64_t>(where.gen));
    s.bindNoCopy(19, *row.door);
    s.exec();
    return ok();
  });
}

// ---------------------------------------------------------------------------
// Staged ingests

Result<int64_t> StoreTransaction::beginIngest(const std::string& waveId, const std::string& cmdId) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  TaskStore::Impl& impl = **d;
  return impl.guarded("starting the ingest of wave " + waveId, [&]() -> Result<int64_t> {
    // Above every generation in use even if the counter was damaged (and
    // recreated if its row was lost).
    impl.cached("INSERT INTO meta (key, value) VALUES ('gen', max((SELECT coalesce(max(gen), 0) FROM waves), "
                "(SELECT coalesce(max(gen), 0) FROM ingests)) + 1) ON CONFLICT (key) DO UPDATE SET "
                "value = max(meta.value + 1, excluded.value)")
        .exec();
    int64_t gen = 0;
    {
      SQLite::Statement& g = impl.cached("SELECT value FROM meta WHERE key = 'gen'");
      ResetOnExit reset{g};
      if (!g.executeStep()) {
        return fail(ErrorCode::kCorrupt, "the generation counter of " + impl.options.path.string() +
                                             " is missing; run floorlinkctl db salvage");
      }
      gen = g.getColumn(0).getInt64();
    }
    SQLite::Statement& ins = impl.cached("INSERT INTO ingests (gen, wave_id, cmd_id) VALUES (?, ?, ?)");
    ins.bind(1, static_cast<int64_t>(gen));
    ins.bind(2, waveId);
    ins.bind(3, cmdId);
    ins.exec();
    return gen;
  });
}

Result<std::optional<int64_t>> StoreTransaction::oldestIngest() {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("reading unfinished ingests", [&]() -> Result<std::optional<int64_t>> {
    SQLite::Statement& s = (*d)->cached("SELECT gen FROM ingests ORDER BY gen LIMIT 1");
    ResetOnExit reset{s};
    if (!s.executeStep()) return std::optional<int64_t>{};
    return std::optional<int64_t>{s.getColumn(0).getInt64()};
  });
}

Result<bool> StoreTransaction::ingestLeft(int64_t gen) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("reading an ingest", [&]() -> Result<bool> {
    SQLite::Statement& s = (*d)->cached("SELECT 1 FROM ingests WHERE gen = ?");
    ResetOnExit reset{s};
    s.bind(1, static_cast<int64_t>(gen));
    return s.executeStep();
  });
}

Result<bool> StoreTransaction::sweepIngest(int64_t gen) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("sweeping an ingest", [&]() -> Result<bool> {
    return detail::sweepIngestSlice(*(*d)->db, gen, kSweepSliceRows, &(*d)->txnChanges);
  });
}

Result<KeptRows> StoreTransaction::keepStarted(const std::string& waveId, int64_t gen) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  TaskStore::Impl& impl = **d;
  return impl.guarded("keeping the started tasks of wave " + waveId, [&]() -> Result<KeptRows> {
    // Older rows that started are what the revision keeps (found through
    // tasks_wave by state: few, whatever the wave's size); a staged copy of
    // one (it started while the revision was staged) goes.
    KeptRows kept;
    {
      SQLite::Statement& k = impl.cached(
          "SELECT task_id FROM tasks WHERE wave_id = ?1 AND state IN ('active', 'done', 'short', 'cancelled') "
          "AND gen < ?2 AND NOT (state = 'cancelled' AND started_ms = 0) ORDER BY id");
      ResetOnExit reset{k};
      k.bind(1, waveId);
      k.bind(2, static_cast<int64_t>(gen));
      while (k.executeStep()) kept.taskIds.push_back(k.getColumn(0).getString());
    }
    SQLite::Statement& copy = impl.cached("DELETE FROM tasks WHERE task_id = ? AND wave_id = ? AND gen = ?");
    for (const auto& id : kept.taskIds) {
      copy.reset();
      copy.bind(1, id);
      copy.bind(2, waveId);
      copy.bind(3, static_cast<int64_t>(gen));
      kept.stagedCopiesDropped += copy.exec();
    }
    return kept;
  });
}

Status StoreTransaction::endIngest(int64_t gen, bool revision) {
  auto d = open(state_);
  if (!d) return std::unexpected(d.error());
  return (*d)->guarded("ending an ingest", [&]() -> Status {
    SQLite::Statement& s = (*d)->cached(revision ? "UPDATE ingests SET flipped = 1 WHERE gen = ?"
                                                 : "DELETE FROM ingests WHERE gen = ?");
    s.bind(1, static_cast<int64_t>(gen));
    s.exec();
    return ok();
  });
}

namespace detail {

bool sweepIngestSlice(SQLite::Database& db, int64_t gen, int64_t limit, std::vector<TaskChange>* changes) {
  std::string waveId;
  bool flipped = false;
  {
    SQLite::Statement s(db, "SELECT wave_id, flipped FROM ingests WHERE gen = ?");
    s.bind(1, static_cast<int64_t>(gen));
    if (!s.executeStep()) return true;
    waveId = s.getColumn(0).getString();
    flipped = s.getColumn(1).getInt64() != 0;
  }
  int64_t deleted = 0;
  if (flipped) {
    // The rows the revision replaced: older generations, never started.
    SQLite::Statement s(db, "SELECT id, task_id, station, claimed_by, state FROM tasks WHERE wave_id = ? AND "
                            "gen < ? AND " FL_REPLACEABLE " LIMIT ?");
    s.bind(1, waveId);
    s.bind(2, static_cast<int64_t>(gen));
    s.bind(3, static_cast<int64_t>(limit));
    SQLite::Statement del(db, "DELETE FROM tasks WHERE id = ?");
    std::vector<int64_t> ids;
    while (s.executeStep()) {
      ids.push_back(s.getColumn(0).getInt64());
      if (changes) {
        std::string claimed = s.getColumn(3).getString();
        changes->push_back(TaskChange{s.getColumn(1).getString(), waveId,
                                      claimed.empty() ? s.getColumn(2).getString() : claimed,
                                      parseTaskState(s.getColumn(4).getString()).value_or(TaskState::kPending),
                                      std::nullopt});
      }
    }
    for (int64_t id : ids) {
      del.reset();
      del.bind(1, static_cast<int64_t>(id));
      deleted += del.exec();
    }
  } else {
    SQLite::Statement del(db, "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE wave_id = ? AND gen = ? "
                              "LIMIT ?)");
    del.bind(1, waveId);
    del.bind(2, static_cast<int64_t>(gen));
    del.bind(3, static_cast<int64_t>(limit));
    deleted = del.exec();
  }
  if (deleted >= limit) return false;
  SQLite::Statement forget(db, "DELETE FROM ingests WHERE gen = ?");
  forget.bind(1, static_cast<int64_t>(gen));
  forget.exec();
  return true;
}

int64_t sweepAllIngests(SQLite::Database& db) {
  std::vector<int64_t> gens;
  {
    SQLite::Statement s(db, "SELECT gen FROM ingests ORDER BY gen");
    while (s.executeStep()) gens.push_back(s.getColumn(0).getInt64());
  }
  for (int64_t gen : gens) {
    while (!sweepIngestSlice(db, gen, std::numeric_limits<int32_t>::max(), nullptr)) {
    }
  }
  return static_cast<int64_t>(gens.size());
}

}  // namespace detail

}  // namespace floorlink::agent
