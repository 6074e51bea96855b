#include "agent/store/store_transaction.h"

#include <sqlite3.h>

#include "agent/store/store_impl.h"

namespace floorlink::agent {

// ---------------------------------------------------------------------------
// TaskStore::Impl: transactions and task changes (events: outbox.cpp)

const char* const kTaskColumns =
    "id, task_id, wave_id, revision, kind, order_id, station, claimed_by, state, priority, "
    "sequence, bin, sku, qty, qty_done, operator, reason, spec_json, created_ms, started_ms, "
    "updated_ms, door";

Task readTask(SQLite::Statement& s) {
  Task t;
  t.arrival = s.getColumn(0).getInt64();
  t.taskId = s.getColumn(1).getString();
  t.waveId = s.getColumn(2).getString();
  t.revision = s.getColumn(3).getInt64();
  t.kind = parseTaskKind(s.getColumn(4).getString()).value_or(sync::TaskKind::kPick);
  t.orderId = s.getColumn(5).getString();
  t.station = s.getColumn(6).getString();
  t.claimedBy = s.getColumn(7).getString();
  t.state = parseTaskState(s.getColumn(8).getString()).value_or(TaskState::kPending);
  t.priority = s.getColumn(9).getInt64();
  if (!s.getColumn(10).isNull()) t.sequence = s.getColumn(10).getInt64();
  t.bin = s.getColumn(11).getString();
  t.sku = s.getColumn(12).getString();
  t.qty = s.getColumn(13).getInt64();
  t.qtyDone = s.getColumn(14).getInt64();
  t.operatorId = s.getColumn(15).getString();
  t.reason = s.getColumn(16).getString();
  t.specJson = s.getColumn(17).getString();
  t.createdMs = s.getColumn(18).getInt64();
  t.startedMs = s.getColumn(19).getInt64();
  t.updatedMs = s.getColumn(20).getInt64();
  t.door = s.getColumn(21).getString();
  return t;
}

SQLite::Statement& TaskStore::Impl::cached(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(*db, sql)).first;
  } else {
    it->second->reset();
    it->second->clearBindings();
  }
  return *it->second;
}

Error TaskStore::Impl::fromException(const SQLite::Exception& e, std::string_view what) {
  Error error = detail::translate(e, what, options.path);
  if (error.code == ErrorCode::kDiskFull) {
    bool changed = !diskFull;
    if (changed) log.error("{}", error.message);
    diskFull = true;
    diskFullDetail = "disk full: the database " + options.path.string() +
                     " cannot grow; free disk space (new work is refused meanwhile)";
    if (changed && healthListener) healthListener();  // C-E5: say so at once
  } else if (error.code == ErrorCode::kCorrupt) {
    log.error("{}", error.message);
  }
  return error;
}

void TaskStore::Impl::noteSuccess() {
  if (diskFull) {
    log.warn("database {} accepts writes again; accepting new work", options.path.string());
    diskFull = false;
    diskFullDetail.clear();
    if (healthListener) healthListener();
  }
}

Status TaskStore::Impl::beginTxn() {
  if (txnOpen) {
    return fail(ErrorCode::kBusy,
                "a store transaction is already open: commit or destroy it before starting another");
  }
  if (auto began = guarded("starting a transaction", [&]() -> Status {
        db->exec("BEGIN IMMEDIATE");
        return ok();
      });
      !began) {
    return began;
  }
  txnOpen = true;
  txnLastSeq = -1;
  txnFirstSeq = 0;
  txnChanges.clear();
  return ok();
}

void TaskStore::Impl::rollbackTxn() {
  if (!txnOpen) return;
  txnOpen = false;
  txnLastSeq = -1;
  txnFirstSeq = 0;
  txnChanges.clear();
  // SQLite may already have rolled back by itself (e.g. after SQLITE_FULL).
  if (sqlite3_get_autocommit(db->getHandle()) == 0) {
    try {
      db->exec("ROLLBACK");
    } catch (const SQLite::Exception& e) {
      log.error("rollback failed on {}: {}", options.path.string(), e.what());
    }
  }
}

Result<CommitResult> TaskStore::Impl::commitTxn() {
  if (!txnOpen) return fail(ErrorCode::kInternal, "commit without an open transaction");
  auto committed = guarded("committing", [&]() -> Result<CommitResult> {
    if (txnFirstSeq != 0) {
      setMetaValue("last_seq", txnLastSeq);
      // C-E6: the file knows a seq before the database may use it.
      if (auto reserved = reserveSeq(txnLastSeq); !reserved) return std::unexpected(reserved.error());
    }
    db->exec("COMMIT");
    return CommitResult{txnFirstSeq, txnFirstSeq != 0 ? txnLastSeq : 0};
  });
  if (!committed) {
    rollbackTxn();
    return committed;
  }
  CommitResult result = *committed;
  txnOpen = false;
  std::vector<TaskChange> changes = std::move(txnChanges);
  txnChanges.clear();
  txnLastSeq = -1;
  txnFirstSeq = 0;
  noteSuccess();
  if (checkpointer) checkpointer->poke();
  notify(result, std::move(changes));
  return result;
}

void TaskStore::Impl::notify(CommitResult result, std::vector<TaskChange> changes) {
  if (!listener || (result.firstSeq == 0 && changes.empty())) return;
  CommitNotice notice{result.firstSeq, result.lastSeq, std::move(changes)};
  listener(notice);
}

int64_t TaskStore::Impl::metaValue(const char* key) {
  SQLite::Statement& s = cached("SELECT value FROM meta WHERE key = ?");
  ResetOnExit reset{s};
  s.bind(1, key);
  if (!s.executeStep()) return 0;
  return s.getColumn(0).getInt64();
}

void TaskStore::Impl::setMetaValue(const char* key, int64_t value) {
  SQLite::Statement& s =
      cached("INSERT INTO meta (key, value) VALUES (?, ?) "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  s.bind(1, key);
  s.bind(2, static_cast<int64_t>(value));
  s.exec();
}


Result<std::optional<Task>> TaskStore::Impl::findTaskInTxn(std::string_view taskId) {
  return guarded("reading task " + std::string(taskId), [&]() -> Result<std::optional<Task>> {
    static const std::string sql =
        std::string("SELECT ") + kTaskColumns + " FROM live_tasks WHERE task_id = ?";
    SQLite::Statement& s = cached(sql.c_str());
    ResetOnExit reset{s};
    s.bind(1, std::string(taskId));
    if (!s.executeStep()) return std::optional<Task>{};
    return std::optional<Task>{readTask(s)};
  });
}

Result<Task> TaskStore::Impl::setTaskStateInTxn(std::string_view taskId, TaskState to,
                                                const TaskUpdate& update) {
  if (!txnOpen) return fail(ErrorCode::kInternal, "setTaskState outside a transaction");
  auto found = findTaskInTxn(taskId);
  if (!found) return std::unexpected(found.error());
  if (!found->has_value()) {
    return fail(ErrorCode::kNotFound, "no task " + std::string(taskId) + " in the store");
  }
  Task task = std::move(**found);
  if (!isLegalTransition(task.state, to)) {
    return fail(ErrorCode::kInvalidArgument,
                "task " + task.taskId + " cannot go from " + std::string(toString(task.state)) +
                    " to " + std::string(toString(to)));
  }
  if (to == TaskState::kActive && !update.claimedBy.empty()) {
    if (task.state == TaskState::kActive && task.claimedBy != update.claimedBy) {
      return fail(ErrorCode::kBusy, "task " + task.taskId + " is being worked on at station " + task.claimedBy);
    }
    if (task.state == TaskState::kPending && !task.station.empty() && task.station != update.claimedBy) {
      return fail(ErrorCode::kBusy, "task " + task.taskId + " is assigned to station " + task.station);
    }
  }
  TaskState from = task.state;
  int64_t now = clock.nowMs();
  task.state = to;
  if (to == TaskState::kPending) task.claimedBy.clear();  // released back to the queue
  if (!update.claimedBy.empty()) task.claimedBy = update.claimedBy;
  if (to == TaskState::kActive && task.claimedBy.empty()) task.claimedBy = task.station;
  if (!update.operatorId.empty()) task.operatorId = update.operatorId;
  if (update.qtyDone) task.qtyDone = *update.qtyDone;
  if (!update.reason.empty()) task.reason = update.reason;
  if (to == TaskState::kActive && task.startedMs == 0) task.startedMs = now;
  task.updatedMs = now;
  auto updated = guarded("updating task " + task.taskId, [&]() -> Status {
    SQLite::Statement& s = cached(
        // The wave's generation too: a row a revision kept (an older
        // generation, live because it had started) stays live when it goes
        // back to pending (schema v7, live_tasks).
        "UPDATE tasks SET state = ?, claimed_by = ?, operator = ?, qty_done = ?, reason = ?, "
        "started_ms = ?, updated_ms = ?, gen = (SELECT w.gen FROM waves w WHERE w.wave_id = tasks.wave_id) "
        "WHERE id = ?");
    s.bind(1, std::string(toString(to)));
    s.bind(2, task.claimedBy);
    s.bind(3, task.operatorId);
    s.bind(4, static_cast<int64_t>(task.qtyDone));
    s.bind(5, task.reason);
    s.bind(6, static_cast<int64_t>(task.startedMs));
    s.bind(7, static_cast<int64_t>(now));
    s.bind(8, static_cast<int64_t>(task.arrival));
    s.exec();
    return ok();
  });
  if (!updated) return std::unexpected(updated.error());
  if (from != to) {
    txnChanges.push_back(TaskChange{task.taskId, task.waveId,
                                    task.claimedBy.empty() ? task.station : task.claimedBy, from,
                                    to});
  }
  return task;
}

// ---------------------------------------------------------------------------
// StoreTransaction

StoreTransaction::StoreTransaction(std::unique_ptr<State> state) : state_(std::move(state)) {}
StoreTransaction::StoreTransaction(StoreTransaction&& other) noexcept = default;
StoreTransaction& StoreTransaction::operator=(StoreTransaction&& other) noexcept = default;
StoreTransaction::~StoreTransaction() = default;  // the scope rolls back what was not committed

namespace {
Status usable(const std::unique_ptr<StoreTransaction::State>& state) {
  if (!state || !state->scope.open()) {
    return fail(ErrorCode::kInvalidArgument, "the transaction is already committed or rolled back");
  }
  return ok();
}
}  // namespace

Result<Task> StoreTransaction::task(std::string_view taskId) {
  if (auto u = usable(state_); !u) return std::unexpected(u.error());
  auto found = state_->impl->findTaskInTxn(taskId);
  if (!found) return std::unexpected(found.error());
  if (!found->has_value()) {
    return fail(ErrorCode::kNotFound, "no task " + std::string(taskId) + " in the store");
  }
  return std::move(**found);
}

Result<Task> StoreTransaction::setTaskState(std::string_view taskId, TaskState to,
                                            const TaskUpdate& update) {
  if (auto u = usable(state_); !u) return std::unexpected(u.error());
  return state_->impl->setTaskStateInTxn(taskId, to, update);
}

Status StoreTransaction::savePosition(const StationPosition& position) {
  if (auto u = usable(state_); !u) return u;
  TaskStore::Impl& d = *state_->impl;
  return d.guarded("recording the position of station " + position.station, [&]() -> Status {
    SQLite::Statement& s = d.cached(
        "INSERT INTO station_positions (station, task_id, step, data_json, updated_ms) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (station) DO UPDATE SET task_id = excluded.task_id, step = excluded.step, "
        "data_json = excluded.data_json, updated_ms = excluded.updated_ms");
    s.bind(1, position.station);
    s.bind(2, position.taskId);
    s.bind(3, position.step);
    s.bind(4, position.dataJson);
    s.bind(5, static_cast<int64_t>(d.clock.nowMs()));
    s.exec();
    return ok();
  });
}

Result<int64_t> StoreTransaction::appendEvent(const sync::EventDraft& draft) {
  if (auto u = usable(state_); !u) return std::unexpected(u.error());
  return state_->impl->appendEventInTxn(draft);
}

Result<CommitResult> StoreTransaction::commit() {
  if (auto u = usable(state_); !u) return std::unexpected(u.error());
  return state_->scope.commit();
}

}  // namespace floorlink::agent
