#pragma once
// Internal state of TaskStore, shared by the store's .cpp files (task store,
// transaction, job store). Includes SQLiteCpp: never include from a public
// header.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "agent/store/high_water.h"
#include "agent/store/sqlite_util.h"
#include "agent/store/wal_checkpointer.h"
#include "agent/store/task_store.h"

namespace floorlink::agent {

struct TaskStore::Impl {
  Impl(const StoreOptions& opts, const Clock& clk, Logger logger, std::unique_ptr<SQLite::Database> database)
      : options(opts), clock(clk), log(std::move(logger)), db(std::move(database)) {}

  StoreOptions options;
  const Clock& clock;
  Logger log;
  std::unique_ptr<SQLite::Database> db;
  std::unique_ptr<WalCheckpointer> checkpointer;  // declared after db: stopped first
  int schemaVersion = 0;

  bool diskFull = false;
  std::string diskFullDetail;
  std::function<void()> healthListener;  // acceptingWork changed

  // High-water marks (C-E6): what floorlink.hw holds now.
  std::filesystem::path hwPath;
  HighWaterMarks hw;
  // The announced seq gap, while its store.salvaged event (gapEventSeq) is
  // not acknowledged; 0 when none.
  int64_t gapFrom = 0, gapTo = 0, gapEventSeq = 0;
  // Raises the seq ceiling in the file (fsynced) before a commit may store
  // seq numbers up to `lastSeq` (called by commitTxn).
  Status reserveSeq(int64_t lastSeq);
  std::function<void(const CommitNotice&)> listener;

  // Open transaction (at most one).
  bool txnOpen = false;
  int64_t txnLastSeq = -1;  // -1: not read yet in this transaction
  int64_t txnFirstSeq = 0;
  std::vector<TaskChange> txnChanges;

  // Prepared statements, reset and unbound before each use.
  SQLite::Statement& cached(const char* sql);

  // The store's one transaction idiom: runs `body` (returning Result<T>) in
  // one write transaction, commits when it returns a value and rolls back
  // when it returns an error. SQLiteCpp reports failures by throwing; those
  // exceptions end here and become Errors (`what` says what was being done).
  // Our own code throws nothing: a failing helper returns its Error and the
  // body passes it on. kBusy when a transaction is open already.
  template <class F>
  auto transact(std::string_view what, F&& body);
  // Runs a read (or a statement outside any transaction) with the same
  // translation of SQLiteCpp exceptions.
  template <class F>
  std::invoke_result_t<F&> guarded(std::string_view what, F&& body);

  // The steps transact and StoreTransaction are made of. beginTxn fails with
  // kBusy when a transaction is open already.
  Status beginTxn();
  Result<CommitResult> commitTxn();  // rolls back on failure
  void rollbackTxn();

  Result<int64_t> appendEventInTxn(const sync::EventDraft& draft);
  Result<std::optional<Task>> findTaskInTxn(std::string_view taskId);
  Result<Task> setTaskStateInTxn(std::string_view taskId, TaskState to, const TaskUpdate& update);

  int64_t metaValue(const char* key);
  void setMetaValue(const char* key, int64_t value);

  // Converts an exception to an error, remembering a full disk.
  Error fromException(const SQLite::Exception& e, std::string_view what);
  void noteSuccess();
  void notify(CommitResult result, std::vector<TaskChange> changes);

  std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>> statements_;
  // StoreTransaction::insertTask's statement (after db: finalized first).
  std::unique_ptr<SQLite::Statement> insertTask;
};

// Rolls the open transaction back when it leaves scope uncommitted.
class TxnScope {
 public:
  explicit TxnScope(TaskStore::Impl& impl) : impl_(&impl) {}
  TxnScope(TxnScope&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
  TxnScope& operator=(TxnScope&& other) noexcept {
    if (this != &other) {
      release();
      impl_ = std::exchange(other.impl_, nullptr);
    }
    return *this;
  }
  TxnScope(const TxnScope&) = delete;
  TxnScope& operator=(const TxnScope&) = delete;
  ~TxnScope() { release(); }

  bool open() const { return impl_ != nullptr; }
  // Ends the scope's part: commitTxn rolls back itself on failure.
  Result<CommitResult> commit() { return std::exchange(impl_, nullptr)->commitTxn(); }
  // Nothing of the transaction is stored, though the body has a value to
  // return (a no-op acknowledgement, a wave rejected halfway).
  void rollBack() { release(); }

 private:
  void release() {
    if (impl_) std::exchange(impl_, nullptr)->rollbackTxn();
  }
  TaskStore::Impl* impl_;
};

namespace detail {
template <class F>
auto callBody(F& body, TxnScope& scope) {
  if constexpr (std::is_invocable_v<F&, TxnScope&>) {
    return body(scope);
  } else {
    return body();
  }
}
}  // namespace detail

// The body may take the TxnScope, to roll back with a value.
template <class F>
auto TaskStore::Impl::transact(std::string_view what, F&& body) {
  using R = decltype(detail::callBody(body, std::declval<TxnScope&>()));
  if (auto began = beginTxn(); !began) return R(std::unexpected(began.error()));
  TxnScope scope(*this);
  try {
    R result = detail::callBody(body, scope);
    if (!result || !scope.open()) return result;
    if (auto committed = scope.commit(); !committed) return R(std::unexpected(committed.error()));
    return result;
  } catch (const SQLite::Exception& e) {
    return R(std::unexpected(fromException(e, what)));  // before the scope rolls back
  }
}

template <class F>
std::invoke_result_t<F&> TaskStore::Impl::guarded(std::string_view what, F&& body) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    return std::unexpected(fromException(e, what));
  }
}

struct StoreTransaction::State {
  explicit State(TaskStore::Impl& d) : impl(&d), scope(d) {}
  TaskStore::Impl* impl;
  TxnScope scope;  // open until committed or destroyed
};

// Resets a cached statement when leaving scope, so no read stays open.
struct ResetOnExit {
  SQLite::Statement& statement;
  ~ResetOnExit() {
    try {
      statement.reset();
    } catch (...) {
    }
  }
};

// Columns read by readTask, in order.
extern const char* const kTaskColumns;

namespace detail {
// Deletes up to `limit` rows the wave ingest of generation `gen` left
// (schema v7): before its final transaction its own staged rows, after it
// the rows its revision replaced (one TaskChange each into `changes`).
// True when nothing is left, and the ingests row is gone too. Runs inside
// the caller's transaction.
bool sweepIngestSlice(SQLite::Database& db, int64_t gen, int64_t limit, std::vector<TaskChange>* changes);
// Sweeps every ingest in `ingests` to the end (at open, in salvage); how many.
int64_t sweepAllIngests(SQLite::Database& db);
}  // namespace detail
Task readTask(SQLite::Statement& statement);

}  // namespace floorlink::agent
