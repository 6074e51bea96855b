#include "agent/store/task_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <unordered_set>

#include "agent/store/salvage.h"
#include "agent/store/schema.h"
#include "agent/store/store_impl.h"

namespace floorlink::agent {

using Json = nlohmann::ordered_json;

namespace {

// The answer to one command, as stored in `commands` and sent in cmd.result.
struct Answer {
  std::string status;       // accepted | rejected
  Json errors = Json::array();
  std::optional<std::vector<std::string>> kept;
  std::string waveId, taskId;
  // The wave turned out invalid halfway through storing it: its transaction
  // is rolled back whole and the rejection recorded in a new one (cheaper
  // than a savepoint around every wave).
  bool rolledBack = false;
};

constexpr const char* kDatabaseFile = "floorlink.db";

Json fieldErrors(const std::vector<sync::FieldError>& errors) {
  Json out = Json::array();
  for (const auto& e : errors) out.push_back({{"path", e.path}, {"code", e.code}, {"message", e.message}});
  return out;
}

Json oneError(std::string path, std::string code, std::string message) {
  return Json::array({Json{{"path", std::move(path)}, {"code", std::move(code)}, {"message", std::move(message)}}});
}

std::optional<Answer> lookupAnswer(TaskStore::Impl& d, const std::string& cmdId) {
  SQLite::Statement& s = d.cached(
      "SELECT status, errors_json, kept_json, wave_id, task_id FROM commands WHERE cmd_id = ?");
  ResetOnExit reset{s};
  s.bind(1, cmdId);
  if (!s.executeStep()) return std::nullopt;
  Answer a;
  a.status = s.getColumn(0).getString();
  a.errors = Json::parse(s.getColumn(1).getString(), nullptr, false);
  if (a.errors.is_discarded()) a.errors = Json::array();
  if (!s.getColumn(2).isNull()) {
    Json kept = Json::parse(s.getColumn(2).getString(), nullptr, false);
    a.kept.emplace();
    if (kept.is_array()) {
      for (const auto& k : kept) a.kept->push_back(k.get<std::string>());
    }
  }
  a.waveId = s.getColumn(3).getString();
  a.taskId = s.getColumn(4).getString();
  return a;
}

// Appends cmd.result and, unless it is a repeat of a stored answer under the
// same cmd_id, stores the answer under cmdId.
Result<int64_t> recordAnswer(TaskStore::Impl& d, const std::string& cmdId, std::string_view type,
                     const Answer& answer, bool duplicate, bool storeRow) {
  Json data;
  data["cmd_id"] = cmdId;
  data["status"] = answer.status;
  data["errors"] = answer.errors;
  data["duplicate"] = duplicate;
  if (answer.kept) data["kept"] = *answer.kept;
  sync::EventDraft draft;
  draft.type = "cmd.result";
  draft.waveId = answer.waveId;
  draft.taskId = answer.taskId;
  draft.dataJson = data.dump();
  auto seq = d.appendEventInTxn(draft);
  if (!seq) return seq;
  if (storeRow) {
    SQLite::Statement& s = d.cached(
        "INSERT INTO commands (cmd_id, type, status, errors_json, kept_json, wave_id, task_id, "
        "result_seq, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, cmdId);
    s.bind(2, std::string(type));
    s.bind(3, answer.status);
    s.bind(4, answer.errors.dump());
    if (answer.kept) {
      s.bind(5, Json(*answer.kept).dump());
    } else {
      s.bind(5);
    }
    s.bind(6, answer.waveId);
    s.bind(7, answer.taskId);
    s.bind(8, static_cast<int64_t>(*seq));
    s.bind(9, static_cast<int64_t>(d.clock.nowMs()));
    s.exec();
  }
  return seq;
}

// recordAnswer, as the command's outcome.
Result<sync::CommandOutcome> answerCommand(TaskStore::Impl& d, const std::string& cmdId, std::string_view type,
                                           const Answer& answer, bool duplicate, bool storeRow) {
  auto seq = recordAnswer(d, cmdId, type, answer, duplicate, storeRow);
  if (!seq) return std::unexpected(seq.error());
  return sync::CommandOutcome{.status = answer.status, .duplicate = duplicate, .resultSeq = *seq};
}

constexpr const char* kInsertTask =
    "INSERT INTO tasks (task_id, wave_id, revision, kind, order_id, station, state, priority, "
    "sequence, seq_key, bin, sku, qty, spec_json, created_ms, updated_ms, sscc, tracking, gen, door) "
    "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

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

// `s` is the prepared kInsertTask, fetched once per wave (hot loop).
void insertTask(SQLite::Statement& s, const sync::TaskSpec& t, const std::string& waveId,
                int64_t revision, int64_t priority, int64_t now, int64_t gen) {
  s.reset();
  TaskRow row = taskRow(t);
  const std::string* bin = row.bin;
  const std::string* sku = row.sku;
  const std::string* sscc = row.sscc;
  const std::string* tracking = row.tracking;
  int64_t qty = row.qty;
  std::optional<int64_t> sequence = row.sequence;
  // The spec outlives exec(), so its strings are bound without copies.
  s.bindNoCopy(1, t.taskId);
  s.bindNoCopy(2, waveId);
  s.bind(3, static_cast<int64_t>(revision));
  s.bindNoCopy(4, sync::toString(t.kind).data());  // a NUL-terminated literal
  s.bindNoCopy(5, t.orderId);
  s.bindNoCopy(6, t.station);
  s.bind(7, static_cast<int64_t>(priority));
  if (sequence) {
    s.bind(8, static_cast<int64_t>(*sequence));
  } else {
    s.bind(8);
  }
  s.bind(9, static_cast<int64_t>(sequence.value_or(std::numeric_limits<int64_t>::max())));
  s.bindNoCopy(10, *bin);
  s.bindNoCopy(11, *sku);
  s.bind(12, static_cast<int64_t>(qty));
  s.bindNoCopy(13, t.json);
  s.bind(14, static_cast<int64_t>(now));
  s.bind(15, static_cast<int64_t>(now));
  s.bindNoCopy(16, *sscc);
  s.bindNoCopy(17, *tracking);
  s.bind(18, static_cast<int64_t>(gen));
  s.bindNoCopy(19, *row.door);
  s.exec();
}

// A task row is replaceable by a revision when it never started (schema v7,
// live_tasks): the same condition in SQL, for the statements below.
#define FL_REPLACEABLE "(state = 'pending' OR (state = 'cancelled' AND started_ms = 0))"

// The wave another live task of this id belongs to, if any: task ids are
// unique among live tasks across waves (C-C2 rejects the whole wave).
std::optional<std::string> ownerElsewhere(TaskStore::Impl& d, const std::string& taskId, const std::string& waveId) {
  SQLite::Statement& s = d.cached("SELECT wave_id FROM live_tasks WHERE task_id = ? AND wave_id <> ? LIMIT 1");
  ResetOnExit reset{s};
  s.bindNoCopy(1, taskId);
  s.bindNoCopy(2, waveId);
  if (!s.executeStep()) return std::nullopt;
  return s.getColumn(0).getString();
}

// `owner` empty: the id came twice in this wave.
Answer duplicateTaskAnswer(const std::string& waveId, size_t index, const std::string& taskId,
                           const std::string& owner) {
  Answer answer;
  answer.waveId = waveId;
  answer.status = "rejected";
  answer.rolledBack = true;
  answer.errors = oneError("tasks[" + std::to_string(index) + "].task_id", "duplicate_task_id",
                           owner.empty() ? "task_id " + taskId + " appears more than once in this wave"
                                         : "task_id " + taskId + " already belongs to wave " + owner);
  return answer;
}

// wave.assign (C-C2, C-C3). Returns the answer; task rows are written only
// when it is accepted. With `stagedGen`, the tasks were already written in
// slices under that generation (WaveIngest) and this transaction makes them
// visible by giving the wave row that generation (`stagedRows` of them).
Answer applyWaveAssign(TaskStore::Impl& d, const sync::Command& command,
                       const sync::WaveAssign& wave, bool& duplicate, int64_t stagedGen, int64_t stagedRows) {
  Answer answer;
  answer.waveId = wave.waveId;
  int64_t now = d.clock.nowMs();

  std::optional<int64_t> currentRevision;
  std::string currentCmd;
  int64_t currentGen = 0;
  {
    SQLite::Statement& s = d.cached("SELECT revision, cmd_id, gen FROM waves WHERE wave_id = ?");
    ResetOnExit reset{s};
    s.bind(1, wave.waveId);
    if (s.executeStep()) {
      currentRevision = s.getColumn(0).getInt64();
      currentCmd = s.getColumn(1).getString();
      currentGen = s.getColumn(2).getInt64();
    }
  }
  if (currentRevision && *currentRevision == wave.revision) {
    // The same revision again under another cmd_id: a repeat (C-C3 -> C-C1).
    duplicate = true;
    if (auto first = lookupAnswer(d, currentCmd)) {
      first->waveId = wave.waveId;
      return *first;
    }
    answer.status = "accepted";
    answer.kept.emplace();
    return answer;
  }
  if (currentRevision && wave.revision < *currentRevision) {
    answer.status = "rejected";
    answer.errors = oneError("revision", "stale_revision",
                             "wave " + wave.waveId + " is at revision " +
                                 std::to_string(*currentRevision) + "; revision " +
                                 std::to_string(wave.revision) + " is older and was not applied");
    return answer;
  }

  int64_t priority = wave.priority.value_or(0);
  std::vector<std::string> kept;
  int64_t taskCount = 0;
  const int64_t gen = stagedGen > 0 ? stagedGen : currentGen;
  if (stagedGen > 0) {
    // Older rows that started are what the revision keeps (found through
    // tasks_wave by state: few, whatever the wave's size); a staged copy of
    // one (it started while the revision was staged) goes.
    int64_t staged = stagedRows;
    if (currentRevision) {
      SQLite::Statement& k = d.cached(
          "SELECT task_id FROM tasks WHERE wave_id = ?1 AND state IN ('active', 'done', 'short', 'cancelled') "
          "AND gen < ?2 AND NOT (state = 'cancelled' AND started_ms = 0) ORDER BY id");
      {
        ResetOnExit reset{k};
        k.bind(1, wave.waveId);
        k.bind(2, static_cast<int64_t>(stagedGen));
        while (k.executeStep()) kept.push_back(k.getColumn(0).getString());
      }
      SQLite::Statement& copy = d.cached("DELETE FROM tasks WHERE task_id = ? AND wave_id = ? AND gen = ?");
      for (const auto& id : kept) {
        copy.reset();
        copy.bind(1, id);
        copy.bind(2, wave.waveId);
        copy.bind(3, static_cast<int64_t>(stagedGen));
        staged -= copy.exec();
      }
    }
    taskCount = staged + static_cast<int64_t>(kept.size());
    // A new wave replaced nothing: the ingest is over; a revision's
    // replaced rows are swept after this transaction.
    SQLite::Statement& flip = d.cached(currentRevision ? "UPDATE ingests SET flipped = 1 WHERE gen = ?"
                                                       : "DELETE FROM ingests WHERE gen = ?");
    flip.bind(1, static_cast<int64_t>(stagedGen));
    flip.exec();
  } else if (currentRevision) {
    // Tasks never started are replaced; started or finished ones keep their
    // state and are reported under "kept".
    SQLite::Statement& s = d.cached(
        "SELECT task_id, state, started_ms, station, claimed_by FROM live_tasks WHERE wave_id = ? ORDER BY id");
    ResetOnExit reset{s};
    s.bind(1, wave.waveId);
    while (s.executeStep()) {
      std::string taskId = s.getColumn(0).getString();
      TaskState state = parseTaskState(s.getColumn(1).getString()).value_or(TaskState::kPending);
      bool neverStarted = s.getColumn(2).getInt64() == 0;
      bool replaceable = state == TaskState::kPending || (state == TaskState::kCancelled && neverStarted);
      if (replaceable) {
        std::string claimed = s.getColumn(4).getString();
        d.txnChanges.push_back(TaskChange{taskId, wave.waveId,
                                          claimed.empty() ? s.getColumn(3).getString() : claimed,
                                          state, std::nullopt});
      } else {
        kept.push_back(std::move(taskId));
      }
    }
  }
  std::unordered_set<std::string_view> keptSet(kept.begin(), kept.end());
  if (stagedGen == 0) {
    taskCount = static_cast<int64_t>(kept.size());
    for (const auto& t : wave.tasks) {
      if (!keptSet.contains(t.taskId)) ++taskCount;
    }
  }
  if (currentRevision) {
    if (stagedGen == 0) {
      SQLite::Statement& del = d.cached("DELETE FROM tasks WHERE wave_id = ? AND " FL_REPLACEABLE);
      del.bind(1, wave.waveId);
      del.exec();
    }
    SQLite::Statement& up = d.cached(
        "UPDATE waves SET revision = ?, priority = ?, state = 'open', cmd_id = ?, task_count = ?, "
        "updated_ms = ?, gen = ? WHERE wave_id = ?");
    up.bind(1, static_cast<int64_t>(wave.revision));
    up.bind(2, static_cast<int64_t>(priority));
    up.bind(3, command.cmdId);
    up.bind(4, static_cast<int64_t>(taskCount));
    up.bind(5, static_cast<int64_t>(now));
    up.bind(6, static_cast<int64_t>(gen));
    up.bind(7, wave.waveId);
    up.exec();
  } else {
    SQLite::Statement& ins = d.cached(
        "INSERT INTO waves (wave_id, revision, priority, state, cmd_id, task_count, created_ms, "
        "updated_ms, gen) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)");
    ins.bind(1, wave.waveId);
    ins.bind(2, static_cast<int64_t>(wave.revision));
    ins.bind(3, static_cast<int64_t>(priority));
    ins.bind(4, command.cmdId);
    ins.bind(5, static_cast<int64_t>(taskCount));
    ins.bind(6, static_cast<int64_t>(now));
    ins.bind(7, static_cast<int64_t>(now));
    ins.bind(8, static_cast<int64_t>(gen));
    ins.exec();
  }
  if (stagedGen == 0) {
    SQLite::Statement& insert = d.cached(kInsertTask);
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < wave.tasks.size(); ++i) {
      const sync::TaskSpec& t = wave.tasks[i];
      if (!seen.insert(t.taskId).second) return duplicateTaskAnswer(wave.waveId, i, t.taskId, "");
      if (!keptSet.empty() && keptSet.contains(t.taskId)) continue;
      if (auto owner = ownerElsewhere(d, t.taskId, wave.waveId)) {
        return duplicateTaskAnswer(wave.waveId, i, t.taskId, *owner);
      }
      insertTask(insert, t, wave.waveId, wave.revision, priority, now, gen);
    }
  }
  answer.status = "accepted";
  answer.kept = std::move(kept);
  return answer;
}

Result<int64_t> appendCancelled(TaskStore::Impl& d, const std::string& taskId, const std::string& waveId,
                     const std::string& station, const std::string& reason,
                     const std::string& cmdId) {
  Json data;
  data["reason"] = reason;
  data["cmd_id"] = cmdId;
  sync::EventDraft draft;
  draft.type = "task.cancelled";
  draft.station = station;
  draft.taskId = taskId;
  draft.waveId = waveId;
  draft.dataJson = data.dump();
  return d.appendEventInTxn(draft);
}

Result<Answer> applyWaveCancel(TaskStore::Impl& d, const sync::Command& command,
                       const sync::WaveCancel& cancel) {
  Answer answer;
  answer.waveId = cancel.waveId;
  bool exists = false;
  {
    SQLite::Statement& s = d.cached("SELECT state FROM waves WHERE wave_id = ?");
    ResetOnExit reset{s};
    s.bind(1, cancel.waveId);
    exists = s.executeStep();
  }
  if (!exists) {
    answer.status = "rejected";
    answer.errors = oneError("wave_id", "unknown_wave", "no wave " + cancel.waveId + " on this agent");
    return answer;
  }
  int64_t now = d.clock.nowMs();
  struct Open {
    std::string taskId, station;
    TaskState state;
  };
  std::vector<Open> open;
  {
    SQLite::Statement& s = d.cached(
        "SELECT task_id, station, claimed_by, state FROM live_tasks WHERE wave_id = ? AND state IN "
        "('pending', 'active') ORDER BY id");
    ResetOnExit reset{s};
    s.bind(1, cancel.waveId);
    while (s.executeStep()) {
      std::string claimed = s.getColumn(2).getString();
      open.push_back(Open{s.getColumn(0).getString(),
                          claimed.empty() ? s.getColumn(1).getString() : claimed,
                          parseTaskState(s.getColumn(3).getString()).value_or(TaskState::kPending)});
    }
  }
  SQLite::Statement& up = d.cached(
      "UPDATE tasks SET state = 'cancelled', reason = ?, updated_ms = ? WHERE id IN (SELECT id FROM "
      "live_tasks WHERE wave_id = ? AND state IN ('pending', 'active'))");
  up.bind(1, cancel.reason);
  up.bind(2, static_cast<int64_t>(now));
  up.bind(3, cancel.waveId);
  up.exec();
  SQLite::Statement& w =
      d.cached("UPDATE waves SET state = 'cancelled', updated_ms = ? WHERE wave_id = ?");
  w.bind(1, static_cast<int64_t>(now));
  w.bind(2, cancel.waveId);
  w.exec();
  for (const Open& o : open) {
    if (auto seq = appendCancelled(d, o.taskId, cancel.waveId, o.station, cancel.reason, command.cmdId); !seq) {
      return std::unexpected(seq.error());
    }
    d.txnChanges.push_back(TaskChange{o.taskId, cancel.waveId, o.station, o.state, TaskState::kCancelled});
  }
  answer.status = "accepted";
  return answer;
}

Result<Answer> applyTaskCancel(TaskStore::Impl& d, const sync::Command& command,
                       const sync::TaskCancel& cancel) {
  Answer answer;
  answer.taskId = cancel.taskId;
  auto lookedUp = d.findTaskInTxn(cancel.taskId);
  if (!lookedUp) return std::unexpected(lookedUp.error());
  const std::optional<Task>& found = *lookedUp;
  if (!found) {
    answer.status = "rejected";
    answer.errors = oneError("task_id", "unknown_task", "no task " + cancel.taskId + " on this agent");
    return answer;
  }
  answer.waveId = found->waveId;
  if (found->state == TaskState::kDone || found->state == TaskState::kShort) {
    answer.status = "rejected";
    answer.errors = oneError("task_id", "already_done",
                             "task " + cancel.taskId + " is already " +
                                 std::string(toString(found->state)) + " and cannot be cancelled");
    return answer;
  }
  if (found->state == TaskState::kCancelled) {
    answer.status = "accepted";  // nothing left to do
    return answer;
  }
  TaskUpdate update;
  update.reason = cancel.reason;
  auto task = d.setTaskStateInTxn(cancel.taskId, TaskState::kCancelled, update);
  if (!task) return std::unexpected(task.error());
  if (auto seq = appendCancelled(d, task->taskId, task->waveId, task->claimedBy.empty() ? task->station : task->claimedBy,
                                 cancel.reason, command.cmdId);
      !seq) {
    return std::unexpected(seq.error());
  }
  answer.status = "accepted";
  return answer;
}

Result<sync::CommandOutcome> recordRejectedWave(TaskStore::Impl& d, const sync::Command& command,
                                               const Answer& answer) {
  auto outcome = d.transact("recording the rejection of command " + command.cmdId, [&]() {
    return answerCommand(d, command.cmdId, command.type, answer, false, true);
  });
  if (outcome) d.log.info("command {} ({}) rejected: {}", command.cmdId, command.type, answer.errors.dump());
  return outcome;
}

// At open: compares the database with the high-water file. The database is
// the continuation of the marks when it carries their epoch and intact
// counters; otherwise (a new file where one was lost, a copy restored or
// salvaged without its counters, a lost counters row) seq and session go on
// above the marks and the numbers in between are announced as a gap with
// one store.salvaged event (C-E6). Also announces a gap salvage left.
Status reconcileHighWater(TaskStore::Impl& d) {
  d.hwPath = highWaterPath(d.options.path);
  std::optional<HighWaterMarks> file;
  if (auto read = readHighWater(d.hwPath)) {
    file = *read;
  } else {
    d.log.error("{}; rebuilding it from the database", read.error().message);
  }
  SQLite::Database& db = *d.db;
  std::map<std::string, int64_t, std::less<>> meta;
  {
    SQLite::Statement s(db, "SELECT key, value FROM meta");
    while (s.executeStep()) meta[s.getColumn(0).getString()] = s.getColumn(1).getInt64();
  }
  auto value = [&](std::string_view key) -> int64_t {
    auto it = meta.find(key);
    return it == meta.end() ? 0 : it->second;
  };
  const int64_t maxEvent = db.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
  const int64_t lastSeq = value("last_seq"), acked = value("acked_through");
  int64_t epoch = value("epoch");
  const bool intact = meta.contains("last_seq") && meta.contains("session") && meta.contains("acked_through") &&
                      epoch != 0 && lastSeq >= maxEvent && lastSeq >= acked;
  const int64_t dbLast = std::max({lastSeq, maxEvent, acked});
  if (epoch == 0) epoch = db.execAndGet("SELECT abs(random() % 9007199254740991) + 1").getInt64();
  d.gapFrom = value("gap_from");
  d.gapTo = value("gap_to");
  d.gapEventSeq = value("gap_event");

  // What salvage could not copy (agent/store/salvage.cpp).
  int64_t gapFrom = value("pending_gap_from"), gapTo = value("pending_gap_to");
  std::string reason = gapFrom > 0 ? "salvaged: unacknowledged events were unreadable" : "";
  int64_t base = dbLast;
  const bool foreign = file && !(intact && file->epoch == epoch);
  if (foreign) {
    base = std::max(file->seqCeiling, dbLast);
    int64_t from = std::max({dbLast, acked, file->ackedThrough}) + 1;
    if (from <= base) {
      gapFrom = gapFrom > 0 ? std::min(gapFrom, from) : from;
      gapTo = std::max(gapTo, base);
      reason = !meta.contains("epoch") || !intact ? "database counters lost or damaged"
                                                  : "database lost or replaced";
    }
    d.log.error("{} is not the database the high-water marks in {} were written for ({}): seq continues "
                "after {} and the session after {}, so no number the OMS may have seen is used again",
                d.options.path.string(), d.hwPath.string(), intact ? "another database" : "counters damaged",
                base, file->session);
  } else if (!file && !intact) {
    d.log.error("the counters of {} are damaged and there is no high-water file: seq continues after the "
                "highest number found ({})", d.options.path.string(), dbLast);
  }
  HighWaterMarks marks = file.value_or(HighWaterMarks{});
  marks.session = std::max(marks.session, value("session"));
  marks.ackedThrough = std::max(marks.ackedThrough, acked);
  if (foreign) {
    marks.seqCeiling = base + kSeqBlock;
    // First the file, still under its old epoch: a crash before the
    // database commits leaves the marks foreign, and the next open goes on
    // above them again.
    if (auto s = writeHighWater(d.hwPath, marks); !s) return s;
  } else if (marks.seqCeiling < dbLast) {
    marks.seqCeiling = dbLast + kSeqBlock;
  }
  marks.epoch = epoch;
  d.hw = marks;

  const bool announce = gapFrom > 0 && gapTo >= gapFrom;
  const bool adjust = base != lastSeq || value("session") < marks.session || value("epoch") != epoch ||
                      !meta.contains("acked_through") || meta.contains("pending_gap_from") || announce;
  if (adjust) {
    auto adjusted = d.transact("continuing above the high-water marks", [&]() -> Status {
      d.setMetaValue("last_seq", base);
      d.setMetaValue("session", marks.session);
      d.setMetaValue("epoch", epoch);
      d.setMetaValue("acked_through", acked);
      db.exec("DELETE FROM meta WHERE key IN ('pending_gap_from', 'pending_gap_to')");
      if (announce) {
        Json data;
        data["missing_from"] = gapFrom;
        data["missing_to"] = gapTo;
        data["reason"] = reason;
        sync::EventDraft draft;
        draft.type = "store.salvaged";
        draft.dataJson = data.dump();
        auto seq = d.appendEventInTxn(draft);
        if (!seq) return std::unexpected(seq.error());
        d.setMetaValue("gap_from", gapFrom);
        d.setMetaValue("gap_to", gapTo);
        d.setMetaValue("gap_event", *seq);
        d.gapFrom = gapFrom;
        d.gapTo = gapTo;
        d.gapEventSeq = *seq;
        d.log.warn("seq {}-{} cannot be sent again ({}): announced with store.salvaged (seq {})", gapFrom, gapTo,
                   reason, *seq);
      }
      return ok();
    });
    if (!adjusted) return adjusted;
  }
  if (!file || file->epoch != d.hw.epoch || file->seqCeiling != d.hw.seqCeiling ||
      file->session != d.hw.session) {
    if (auto s = writeHighWater(d.hwPath, d.hw); !s) return s;
  }
  return ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Opening

StoreOptions StoreOptions::fromConfig(const config::Config& config) {
  StoreOptions options;
  options.path = config.agent.dataDir / kDatabaseFile;
  options.site = config.agent.site;
  options.agentId = config.agent.id;
  options.synchronous = config.storage.synchronous;
  options.busyTimeout = config.storage.busyTimeout;
  options.retention = config.storage.retention;
  return options;
}

TaskStore::TaskStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TaskStore::~TaskStore() {
  if (impl_) impl_->rollbackTxn();
}

namespace {

// Moves the database (and its -wal/-shm) aside; returns the new main path.
Result<std::filesystem::path> moveAside(const std::filesystem::path& path, const Clock& clock) {
  std::string base = path.string() + ".corrupt-" + detail::utcStamp(clock.nowMs());
  std::filesystem::path target = base;
  for (int n = 1; std::filesystem::exists(target); ++n) target = base + "-" + std::to_string(n);
  std::error_code ec;
  std::filesystem::rename(path, target, ec);
  if (ec) {
    return fail(ErrorCode::kIo, "cannot move the corrupt database " + path.string() + " aside to " +
                                    target.string() + ": " + ec.message() +
                                    "; fix the directory's permissions; nothing was deleted");
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path side = path.string() + suffix;
    if (std::filesystem::exists(side)) std::filesystem::rename(side, target.string() + suffix, ec);
  }
  return target;
}

}  // namespace

Result<std::unique_ptr<TaskStore>> TaskStore::open(const StoreOptions& options, const Clock& clock,
                                                   Logger logger) {
  if (options.path.empty()) return fail(ErrorCode::kInvalidArgument, "no database path given");
  std::error_code ec;
  std::filesystem::path dir = options.path.parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorCode::kPermission, "cannot create the data directory " + dir.string() + ": " +
                                              ec.message());
    }
  }
  bool existed = std::filesystem::exists(options.path) && std::filesystem::file_size(options.path, ec) > 0;
  if (!existed) {
    auto copies = findCorruptCopies(options.path);
    if (!copies.empty()) {
      return fail(ErrorCode::kCorrupt,
                  "the database " + options.path.string() + " was found corrupt and moved aside to " +
                      copies.back().string() +
                      "; it has not been salvaged yet, and starting an empty database would reuse "
                      "event seq numbers: run `floorlinkctl db salvage` (or move that file "
                      "elsewhere to start deliberately from an empty database)");
    }
  }

  std::unique_ptr<SQLite::Database> db;
  std::string corruptDetail;
  try {
    db = std::make_unique<SQLite::Database>(options.path.string(),
                                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db->setBusyTimeout(static_cast<int>(options.busyTimeout.count()));
    if (existed && options.quickCheckOnOpen) {
      SQLite::Statement check(*db, "PRAGMA quick_check(20)");
      std::string problems;
      while (check.executeStep()) {
        std::string line = check.getColumn(0).getString();
        if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
      }
      if (!problems.empty()) corruptDetail = problems;
    }
  } catch (const SQLite::Exception& e) {
    if (!detail::isCorruption(e)) return std::unexpected(detail::translate(e, "opening", options.path));
    corruptDetail = e.what();
  }
  if (!corruptDetail.empty()) {
    db.reset();
    auto moved = moveAside(options.path, clock);
    if (!moved) {
      logger.error("database {} is corrupt ({}); {}", options.path.string(), corruptDetail,
                   moved.error().message);
      return std::unexpected(moved.error());
    }
    std::string message = "the database " + options.path.string() + " is corrupt (" + corruptDetail +
                          "); it was moved aside to " + moved->string() +
                          " (nothing deleted). The agent does not start with an empty database, "
                          "which would reuse event seq numbers: run `floorlinkctl db salvage` to "
                          "copy every readable row into a new database, then start again";
    logger.error("{}", message);
    return fail(ErrorCode::kCorrupt, message);
  }

  auto impl = std::make_unique<Impl>(options, clock, logger, std::move(db));
  try {
    SQLite::Database& d = *impl->db;
    std::string mode = d.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") {
      return fail(ErrorCode::kStorage, "cannot switch " + options.path.string() +
                                           " to WAL mode (got '" + mode + "'); is it on a network "
                                           "file system?");
    }
    d.exec(options.synchronous == config::SyncMode::kFull ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL");
    d.exec("PRAGMA foreign_keys = ON");
    int version = detail::readSchemaVersion(d);
    if (version < 0) {
      return fail(ErrorCode::kInvalidArgument,
                  options.path.string() + " is an SQLite database but not a floorlink one (no "
                                          "schema_version); point storage at another file");
    }
    if (version > latestSchemaVersion()) {
      return fail(ErrorCode::kUnsupported,
                  options.path.string() + " has schema version " + std::to_string(version) +
                      ", newer than this agent understands (" +
                      std::to_string(latestSchemaVersion()) +
                      "); install the newer agent again (downgrades are not supported)");
    }
    if (version < latestSchemaVersion()) {
      if (version > 0) {
        logger.info("migrating {} from schema {} to {}", options.path.string(), version,
                    latestSchemaVersion());
      }
      detail::applyMigrations(d, version);
    }
    impl->schemaVersion = latestSchemaVersion();
    // Leftovers of wave ingests that never finished: staged rows of a
    // command without cmd.result (the OMS sends it again, C-C1, C-C4), or
    // rows a revision replaced that were not deleted yet.
    auto swept = impl->transact("sweeping unfinished wave ingests",
                                [&]() -> Result<int64_t> { return detail::sweepAllIngests(d); });
    if (!swept) return std::unexpected(swept.error());
    if (*swept > 0) logger.info("swept the rows of {} unfinished wave ingest(s)", *swept);
    if (auto s = reconcileHighWater(*impl); !s) return std::unexpected(s.error());
    if (options.maxSizeBytes > 0) {
      int64_t pageSize = d.execAndGet("PRAGMA page_size").getInt64();
      d.exec("PRAGMA max_page_count = " + std::to_string(std::max<int64_t>(1, options.maxSizeBytes / pageSize)));
    }
  } catch (const SQLite::Exception& e) {
    return std::unexpected(detail::translate(e, "preparing the database", options.path));
  }
  // Checkpoints off the loop thread; SQLite's own (inside a commit) only
  // when that thread cannot be had.
  if (auto checkpointer = WalCheckpointer::start(options.path, logger); checkpointer) {
    try {
      impl->db->exec("PRAGMA wal_autocheckpoint = 0");
      impl->checkpointer = std::move(*checkpointer);
    } catch (const SQLite::Exception& e) {
      logger.warn("WAL checkpoints stay in the commits: {}", e.what());
    }
  } else {
    logger.warn("WAL checkpoints stay in the commits: {}", checkpointer.error().message);
  }
  return std::unique_ptr<TaskStore>(new TaskStore(std::move(impl)));
}

Result<StoreInfo> TaskStore::info() {
  Impl& d = *impl_;
  return d.guarded("reading database information", [&]() -> Result<StoreInfo> {
    StoreInfo info;
    info.path = d.options.path;
    info.schemaVersion = d.schemaVersion;
    info.journalMode = d.db->execAndGet("PRAGMA journal_mode").getString();
    int64_t sync = d.db->execAndGet("PRAGMA synchronous").getInt64();
    info.synchronous = sync == 2 ? "full" : sync == 1 ? "normal" : sync == 3 ? "extra" : "off";
    info.foreignKeys = d.db->execAndGet("PRAGMA foreign_keys").getInt64() != 0;
    info.busyTimeoutMs = d.db->execAndGet("PRAGMA busy_timeout").getInt64();
    int64_t pageSize = d.db->execAndGet("PRAGMA page_size").getInt64();
    info.sizeBytes = d.db->execAndGet("PRAGMA page_count").getInt64() * pageSize;
    if (d.options.maxSizeBytes > 0) {
      info.maxSizeBytes = d.db->execAndGet("PRAGMA max_page_count").getInt64() * pageSize;
    }
    return info;
  });
}

const std::filesystem::path& TaskStore::path() const { return impl_->options.path; }
int TaskStore::schemaVersion() const { return impl_->schemaVersion; }

void TaskStore::setCommitListener(std::function<void(const CommitNotice&)> listener) {
  impl_->listener = std::move(listener);
}
void TaskStore::setHealthListener(std::function<void()> listener) {
  impl_->healthListener = std::move(listener);
}
void TaskStore::setDeviceHealthSource(std::function<std::vector<sync::ComponentHealth>()> source) {
  impl_->deviceHealth = std::move(source);
}

// ---------------------------------------------------------------------------
// Commands

namespace {
Result<sync::CommandOutcome> applyCommandTxn(TaskStore::Impl& d, const sync::Command& command, int64_t stagedGen = 0,
                                             int64_t stagedRows = 0);
}  // namespace

Result<sync::CommandOutcome> TaskStore::applyCommand(const sync::Command& command) {
  return applyCommandTxn(*impl_, command, 0);
}

namespace {

Result<sync::CommandOutcome> applyCommandTxn(TaskStore::Impl& d, const sync::Command& command, int64_t stagedGen,
                                             int64_t stagedRows);

// A wave.assign larger than this is written in slices of this many tasks.
constexpr size_t kStageSliceTasks = 1000;
// Rows a revision replaced are deleted this many per transaction.
constexpr int64_t kSweepSliceRows = 1000;

// wave.assign in bounded steps (docs/store.md, "Big waves"): the ingest
// takes a generation of its own (ingests), slices of tasks go straight into
// tasks under it in short transactions (invisible: live_tasks shows a wave's
// rows only of the generation its wave row has), then one short transaction
// gives the wave row that generation together with the command and its
// cmd.result (C-C2, C-C1). A revision's replaced rows are hidden by that
// same change and deleted in slices after it. A crash at any point leaves
// the ingests row, and the next open sweeps what it names: before the final
// transaction the staged rows (no cmd.result: the OMS sends it again),
// after it the replaced ones.
class WaveIngest final : public sync::CommandApplication {
 public:
  WaveIngest(TaskStore& store, sync::Command command)
      : store_(store), d_(store.impl()), command_(std::move(command)),
        wave_(std::get<sync::WaveAssign>(command_.body)) {
    ++d_.activeIngests;
  }

  // Left over when the agent stops mid-ingest: swept at the next open.
  ~WaveIngest() override { --d_.activeIngests; }

  Result<std::optional<sync::CommandOutcome>> step() override {
    switch (phase_) {
      case Phase::kCheck: return check();
      case Phase::kStage: return stageSlice();
      case Phase::kFinal: return finish();
      case Phase::kSweep: return sweep();
      case Phase::kDone: break;
    }
    return fail(ErrorCode::kInternal, "command " + command_.cmdId + " is already applied");
  }

 private:
  enum class Phase { kCheck, kStage, kFinal, kSweep, kDone };

  Result<std::optional<sync::CommandOutcome>> applyWhole() {
    phase_ = Phase::kDone;
    auto outcome = store_.applyCommand(command_);
    if (!outcome) return std::unexpected(outcome.error());
    return std::optional<sync::CommandOutcome>{*outcome};
  }

  // A repeat or a stale revision inserts nothing: answered in one step.
  // Otherwise the ingest gets its generation, committed before any row.
  Result<std::optional<sync::CommandOutcome>> check() {
    enum class Next { kWhole, kSwept, kStart };
    auto next = d_.guarded("checking command " + command_.cmdId, [&]() -> Result<Next> {
      if (lookupAnswer(d_, command_.cmdId)) return Next::kWhole;
      SQLite::Statement& s = d_.cached("SELECT revision FROM waves WHERE wave_id = ?");
      ResetOnExit reset{s};
      s.bind(1, wave_.waveId);
      if (s.executeStep() && s.getColumn(0).getInt64() >= wave_.revision) return Next::kWhole;
      // What an earlier ingest left (abandoned, or its sweep unfinished)
      // goes first, a slice per step.
      SQLite::Statement& left = d_.cached("SELECT gen FROM ingests ORDER BY gen LIMIT 1");
      std::optional<int64_t> leftGen;
      {
        ResetOnExit resetLeft{left};
        if (left.executeStep()) leftGen = left.getColumn(0).getInt64();
      }
      if (!leftGen) return Next::kStart;
      auto swept = d_.transact("checking command " + command_.cmdId, [&]() -> Status {
        detail::sweepIngestSlice(*d_.db, *leftGen, kSweepSliceRows, &d_.txnChanges);
        return ok();
      });
      if (!swept) return std::unexpected(swept.error());
      return Next::kSwept;
    });
    if (!next) return std::unexpected(next.error());
    if (*next == Next::kWhole) return applyWhole();
    if (*next == Next::kSwept) return std::optional<sync::CommandOutcome>{};
    auto started = d_.transact("starting the ingest of wave " + wave_.waveId, [&]() -> Status {
      // Above every generation in use even if the counter was damaged.
      // (and recreated if its row was lost).
      d_.cached("INSERT INTO meta (key, value) VALUES ('gen', max((SELECT coalesce(max(gen), 0) FROM waves), "
                "(SELECT coalesce(max(gen), 0) FROM ingests)) + 1) ON CONFLICT (key) DO UPDATE SET "
                "value = max(meta.value + 1, excluded.value)")
          .exec();
      {
        SQLite::Statement& g = d_.cached("SELECT value FROM meta WHERE key = 'gen'");
        ResetOnExit reset{g};
        if (!g.executeStep()) {
          return fail(ErrorCode::kCorrupt, "the generation counter of " + d_.options.path.string() +
                                               " is missing; run floorlinkctl db salvage");
        }
        gen_ = g.getColumn(0).getInt64();
      }
      SQLite::Statement& ins = d_.cached("INSERT INTO ingests (gen, wave_id, cmd_id) VALUES (?, ?, ?)");
      ins.bind(1, static_cast<int64_t>(gen_));
      ins.bind(2, wave_.waveId);
      ins.bind(3, command_.cmdId);
      ins.exec();
      return ok();
    });
    if (!started) return std::unexpected(started.error());
    phase_ = Phase::kStage;
    return std::optional<sync::CommandOutcome>{};
  }

  Result<std::optional<sync::CommandOutcome>> stageSlice() {
    // Staged rows need no fsync of their own: the final commit (FULL) syncs
    // the WAL with them, and a crash before it discards them anyway.
    // (The level can only change outside a transaction.)
    const bool relax = d_.options.synchronous == config::SyncMode::kFull && !d_.txnOpen;
    if (relax) {
      if (auto relaxed = setSynchronous("NORMAL"); !relaxed) return std::unexpected(relaxed.error());
    }
    std::optional<Answer> rejected;
    int64_t sliceRows = 0;
    auto staged = d_.transact("staging wave " + wave_.waveId + " of command " + command_.cmdId,
                              [&](TxnScope& scope) -> Status {
      SQLite::Statement& insert = d_.cached(kInsertTask);
      const int64_t priority = wave_.priority.value_or(0);
      const int64_t now = d_.clock.nowMs();
      size_t end = std::min(next_ + kStageSliceTasks, wave_.tasks.size());
      // (StoreOptions::ingestSliceBudget: early end of a slow slice)
      const auto budget = d_.options.ingestSliceBudget;
      const auto deadline = std::chrono::steady_clock::now() + budget;
      for (; next_ < end; ++next_) {
        if (budget.count() > 0 && sliceRows > 0 && sliceRows % 64 == 0 &&
            std::chrono::steady_clock::now() > deadline) {
          break;
        }
        const sync::TaskSpec& t = wave_.tasks[next_];
        if (!seen_.insert(t.taskId).second) {
          rejected = duplicateTaskAnswer(wave_.waveId, next_, t.taskId, "");
          break;
        }
        if (auto owner = ownerElsewhere(d_, t.taskId, wave_.waveId)) {
          rejected = duplicateTaskAnswer(wave_.waveId, next_, t.taskId, *owner);
          break;
        }
        insertTask(insert, t, wave_.waveId, wave_.revision, priority, now, gen_);
        ++sliceRows;
      }
      insert.reset();
      insert.clearBindings();
      if (rejected) scope.rollBack();
      return ok();
    });
    if (relax) (void)setSynchronous("FULL");
    if (!staged) return std::unexpected(staged.error());
    if (rejected) {
      // C-C2: none of it; the staged slices go with the sweep.
      auto outcome = recordRejectedWave(d_, command_, *rejected);
      if (!outcome) return std::unexpected(outcome.error());
      outcome_ = *outcome;
      phase_ = Phase::kSweep;
    } else {
      stagedRows_ += sliceRows;
      if (next_ == wave_.tasks.size()) phase_ = Phase::kFinal;
    }
    return std::optional<sync::CommandOutcome>{};
  }

  Result<std::optional<sync::CommandOutcome>> finish() {
    auto outcome = applyCommandTxn(d_, command_, gen_, stagedRows_);
    if (!outcome) {
      phase_ = Phase::kDone;
      return std::unexpected(outcome.error());
    }
    outcome_ = *outcome;
    auto left = d_.guarded("reading the ingest of wave " + wave_.waveId, [&]() -> Result<bool> {
      SQLite::Statement& s = d_.cached("SELECT 1 FROM ingests WHERE gen = ?");
      ResetOnExit reset{s};
      s.bind(1, static_cast<int64_t>(gen_));
      return s.executeStep();
    });
    if (left && !*left) {  // (on an error, the sweep finds out)
      phase_ = Phase::kDone;
      return std::optional<sync::CommandOutcome>{outcome_};
    }
    phase_ = Phase::kSweep;
    return std::optional<sync::CommandOutcome>{};
  }

  // The command is answered; what is left is deleting hidden rows, a slice
  // per step. A failure here loses nothing: the next open sweeps again.
  Result<std::optional<sync::CommandOutcome>> sweep() {
    auto done = d_.transact("sweeping the ingest of wave " + wave_.waveId, [&]() -> Result<bool> {
      return detail::sweepIngestSlice(*d_.db, gen_, kSweepSliceRows, &d_.txnChanges);
    });
    if (!done) return finishSweep(done.error().describe());
    if (!*done) return std::optional<sync::CommandOutcome>{};
    phase_ = Phase::kDone;
    return std::optional<sync::CommandOutcome>{outcome_};
  }

  Result<std::optional<sync::CommandOutcome>> finishSweep(const std::string& why) {
    d_.log.warn("wave {}: rows of its ingest are left until the next start ({})", wave_.waveId, why);
    phase_ = Phase::kDone;
    return std::optional<sync::CommandOutcome>{outcome_};
  }

  // "NORMAL" for the slices, "FULL" again after them.
  Status setSynchronous(std::string_view level) {
    auto set = d_.guarded("setting synchronous=" + std::string(level) + " for wave " + wave_.waveId, [&]() -> Status {
      d_.db->exec("PRAGMA synchronous = " + std::string(level));
      return ok();
    });
    if (!set) d_.log.error("{}", set.error().message);
    return set;
  }

  TaskStore& store_;
  TaskStore::Impl& d_;
  sync::Command command_;
  const sync::WaveAssign& wave_;
  Phase phase_ = Phase::kCheck;
  size_t next_ = 0;
  int64_t gen_ = 0;
  int64_t stagedRows_ = 0;
  std::unordered_set<std::string_view> seen_;  // task ids staged so far (views into wave_)
  sync::CommandOutcome outcome_;
};

}  // namespace

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

std::unique_ptr<sync::CommandApplication> TaskStore::startCommand(sync::Command command) {
  auto* assign = std::get_if<sync::WaveAssign>(&command.body);
  if (assign && assign->tasks.size() > kStageSliceTasks) {
    return std::make_unique<WaveIngest>(*this, std::move(command));
  }
  return AgentPort::startCommand(std::move(command));
}

namespace {

Result<sync::CommandOutcome> applyCommandTxn(TaskStore::Impl& d, const sync::Command& command, int64_t stagedGen,
                                             int64_t stagedRows) {
  std::optional<Answer> rejectedWave;
  auto outcome = d.transact("applying command " + command.cmdId + " (" + command.type + ")",
                            [&](TxnScope& scope) -> Result<sync::CommandOutcome> {
    if (auto first = lookupAnswer(d, command.cmdId)) {
      // C-C1: changes nothing, answered again with the first answer.
      return answerCommand(d, command.cmdId, command.type, *first, true, false);
    }
    Result<Answer> answer = Answer{.status = "accepted"};  // resync: sync republishes; we only answer
    bool duplicate = false;
    if (auto* assign = std::get_if<sync::WaveAssign>(&command.body)) {
      answer = applyWaveAssign(d, command, *assign, duplicate, stagedGen, stagedRows);
    } else if (auto* waveCancel = std::get_if<sync::WaveCancel>(&command.body)) {
      answer = applyWaveCancel(d, command, *waveCancel);
    } else if (auto* taskCancel = std::get_if<sync::TaskCancel>(&command.body)) {
      answer = applyTaskCancel(d, command, *taskCancel);
    }
    if (!answer) return std::unexpected(answer.error());
    if (answer->rolledBack) {
      rejectedWave = std::move(*answer);
      scope.rollBack();
      return sync::CommandOutcome{};
    }
    return answerCommand(d, command.cmdId, command.type, *answer, duplicate, true);
  });
  // A staged ingest's rows go with its sweep (WaveIngest, or the next open).
  if (rejectedWave) return recordRejectedWave(d, command, *rejectedWave);
  if (outcome && outcome->status == "rejected" && !outcome->duplicate) {
    d.log.info("command {} ({}) rejected", command.cmdId, command.type);
  }
  return outcome;
}

}  // namespace

Result<sync::CommandOutcome> TaskStore::rejectCommand(const sync::RejectedCommand& rejected) {
  Impl& d = *impl_;
  return d.transact("recording rejected command " + rejected.cmdId, [&]() {
    if (auto first = lookupAnswer(d, rejected.cmdId)) {
      return answerCommand(d, rejected.cmdId, rejected.type, *first, true, false);
    }
    Answer answer;
    answer.status = "rejected";
    answer.errors = fieldErrors(rejected.errors);
    return answerCommand(d, rejected.cmdId, rejected.type, answer, false, true);
  });
}

Status TaskStore::recordInvalid(const sync::InvalidMessage& invalid) {
  Json data;
  data["reason"] = invalid.reason;
  data["head"] = invalid.head;
  sync::EventDraft draft;
  draft.type = "cmd.invalid";
  draft.dataJson = data.dump(-1, ' ', false, Json::error_handler_t::replace);
  auto seq = appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  return ok();
}

// ---------------------------------------------------------------------------
// Workflows

Result<StoreTransaction> TaskStore::begin() {
  if (auto began = impl_->beginTxn(); !began) return std::unexpected(began.error());
  return StoreTransaction(std::make_unique<StoreTransaction::State>(*impl_));
}

Result<int64_t> TaskStore::appendEvent(const sync::EventDraft& draft) {
  auto txn = begin();
  if (!txn) return std::unexpected(txn.error());
  auto seq = txn->appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  auto committed = txn->commit();
  if (!committed) return std::unexpected(committed.error());
  return *seq;
}

Result<std::optional<Task>> TaskStore::findTask(std::string_view taskId) {
  return impl_->findTaskInTxn(taskId);
}

Result<std::optional<Task>> TaskStore::nextTask(std::string_view station, sync::TaskKind kind) {
  Impl& d = *impl_;
  return d.guarded("finding the next task of " + std::string(station), [&]() -> Result<std::optional<Task>> {
    static const std::string activeSql = std::string("SELECT ") + kTaskColumns +
                                         " FROM live_tasks WHERE claimed_by = ? AND state = 'active' "
                                         "ORDER BY id LIMIT 1";
    {
      SQLite::Statement& s = d.cached(activeSql.c_str());
      ResetOnExit reset{s};
      s.bind(1, std::string(station));
      if (s.executeStep()) return std::optional<Task>{readTask(s)};
    }
    static const std::string pendingSql =
        std::string("SELECT ") + kTaskColumns +
        " FROM live_tasks WHERE station = ? AND kind = ? AND state = 'pending' "
        "ORDER BY priority DESC, seq_key, id LIMIT 1";
    std::optional<Task> best;
    auto consider = [&](std::string_view forStation) {
      SQLite::Statement& s = d.cached(pendingSql.c_str());
      ResetOnExit reset{s};
      s.bind(1, std::string(forStation));
      s.bind(2, std::string(sync::toString(kind)));
      if (!s.executeStep()) return;
      Task t = readTask(s);
      auto key = [](const Task& x) {
        return std::make_tuple(-x.priority, x.sequence.value_or(std::numeric_limits<int64_t>::max()),
                               x.arrival);
      };
      if (!best || key(t) < key(*best)) best = std::move(t);
    };
    consider(station);
    if (!station.empty()) consider("");
    return best;
  });
}

namespace {

// The first row of `sql` (kTaskColumns, one bound code) that the station may take.
Result<std::optional<Task>> firstTaskFor(TaskStore::Impl& d, const std::string& sql, std::string_view station,
                                         std::string_view code, const char* what) {
  return d.guarded(std::string(what) + " " + std::string(code), [&]() -> Result<std::optional<Task>> {
    SQLite::Statement& s = d.cached(sql.c_str());
    ResetOnExit reset{s};
    s.bind(1, std::string(code));
    while (s.executeStep()) {
      Task t = readTask(s);
      if (t.station.empty() || t.station == station) return std::optional<Task>{std::move(t)};
    }
    return std::optional<Task>{};
  });
}

}  // namespace

Result<std::optional<Task>> TaskStore::findPendingPack(std::string_view station, std::string_view code) {
  static const std::string byOrder = std::string("SELECT ") + kTaskColumns +
                                     " FROM live_tasks WHERE order_id = ? AND kind = 'pack' AND state = 'pending' "
                                     "ORDER BY priority DESC, id";
  static const std::string byTask = std::string("SELECT ") + kTaskColumns +
                                    " FROM live_tasks WHERE task_id = ? AND kind = 'pack' AND state = 'pending'";
  auto found = firstTaskFor(*impl_, byOrder, station, code, "finding the pack task of order");
  if (!found || *found) return found;
  return firstTaskFor(*impl_, byTask, station, code, "finding pack task");
}

Result<std::optional<Task>> TaskStore::findPendingShip(std::string_view station, std::string_view code) {
  static const std::string bySscc = std::string("SELECT ") + kTaskColumns +
                                    " FROM live_tasks WHERE sscc = ? AND kind = 'ship' AND state = 'pending' ORDER BY id";
  static const std::string byTracking =
      std::string("SELECT ") + kTaskColumns +
      " FROM live_tasks WHERE tracking = ? AND kind = 'ship' AND state = 'pending' ORDER BY id";
  if (code.empty()) return std::optional<Task>{};
  auto found = firstTaskFor(*impl_, bySscc, station, code, "finding the parcel");
  if (!found || *found) return found;
  return firstTaskFor(*impl_, byTracking, station, code, "finding the parcel");
}

Result<std::optional<StationPosition>> TaskStore::position(std::string_view station) {
  Impl& d = *impl_;
  return d.guarded("reading the position of station " + std::string(station), [&]() -> Result<std::optional<StationPosition>> {
    SQLite::Statement& s =
        d.cached("SELECT task_id, step, data_json, updated_ms FROM station_positions WHERE station = ?");
    ResetOnExit reset{s};
    s.bind(1, std::string(station));
    if (!s.executeStep()) return std::optional<StationPosition>{};
    StationPosition p;
    p.station = std::string(station);
    p.taskId = s.getColumn(0).getString();
    p.step = s.getColumn(1).getString();
    p.dataJson = s.getColumn(2).getString();
    p.updatedMs = s.getColumn(3).getInt64();
    return std::optional<StationPosition>{std::move(p)};
  });
}

Result<std::vector<Task>> TaskStore::tasks(const TaskFilter& filter) {
  Impl& d = *impl_;
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM live_tasks WHERE id > ?";
  if (!filter.waveId.empty()) sql += " AND wave_id = ?";
  if (!filter.station.empty()) sql += " AND (station = ? OR claimed_by = ?)";
  if (filter.state) sql += " AND state = ?";
  sql += " ORDER BY id LIMIT ?";
  return d.guarded("listing tasks", [&]() -> Result<std::vector<Task>> {
    SQLite::Statement s(*d.db, sql);
    int i = 1;
    s.bind(i++, static_cast<int64_t>(filter.afterArrival));
    if (!filter.waveId.empty()) s.bind(i++, filter.waveId);
    if (!filter.station.empty()) {
      s.bind(i++, filter.station);
      s.bind(i++, filter.station);
    }
    if (filter.state) s.bind(i++, std::string(toString(*filter.state)));
    s.bind(i++, static_cast<int64_t>(filter.limit));
    std::vector<Task> out;
    while (s.executeStep()) out.push_back(readTask(s));
    return out;
  });
}

Result<std::vector<WaveSummary>> TaskStore::waves(size_t limit) {
  Impl& d = *impl_;
  return d.guarded("listing waves", [&]() -> Result<std::vector<WaveSummary>> {
    SQLite::Statement s(*d.db,
                        "SELECT w.wave_id, w.revision, w.priority, w.state, w.updated_ms, "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'pending'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'active'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'done'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'short'), "
                        "(SELECT count(*) FROM live_tasks t WHERE t.wave_id = w.wave_id AND t.state = 'cancelled') "
                        "FROM waves w ORDER BY w.created_ms DESC, w.wave_id LIMIT ?");
    s.bind(1, static_cast<int64_t>(limit));
    std::vector<WaveSummary> out;
    while (s.executeStep()) {
      WaveSummary w;
      w.waveId = s.getColumn(0).getString();
      w.revision = s.getColumn(1).getInt64();
      w.priority = s.getColumn(2).getInt64();
      w.state = s.getColumn(3).getString() == "cancelled" ? WaveState::kCancelled : WaveState::kOpen;
      w.updatedMs = s.getColumn(4).getInt64();
      w.pending = s.getColumn(5).getInt64();
      w.active = s.getColumn(6).getInt64();
      w.done = s.getColumn(7).getInt64();
      w.shortPicked = s.getColumn(8).getInt64();
      w.cancelled = s.getColumn(9).getInt64();
      out.push_back(std::move(w));
    }
    return out;
  });
}

Result<TaskCounts> TaskStore::taskCounts() {
  Impl& d = *impl_;
  return d.guarded("counting tasks", [&]() -> Result<TaskCounts> {
    SQLite::Statement s(*d.db, "SELECT state, count(*) FROM live_tasks GROUP BY state");
    TaskCounts c;
    while (s.executeStep()) {
      auto state = parseTaskState(s.getColumn(0).getString());
      int64_t n = s.getColumn(1).getInt64();
      if (!state) continue;
      switch (*state) {
        case TaskState::kPending: c.pending = n; break;
        case TaskState::kActive: c.active = n; break;
        case TaskState::kDone: c.done = n; break;
        case TaskState::kShort: c.shortPicked = n; break;
        case TaskState::kCancelled: c.cancelled = n; break;
      }
    }
    return c;
  });
}

sync::AgentHealth TaskStore::health() {
  sync::AgentHealth h;
  h.acceptingWork = !impl_->diskFull;
  h.detail = impl_->diskFullDetail;
  if (impl_->deviceHealth) h.devices = impl_->deviceHealth();
  return h;
}

}  // namespace floorlink::agent
