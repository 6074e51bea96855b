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
  int activeIngests = 0;                  // WaveIngest objects alive (staged waves)

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
  std::function<std::vector<sync::ComponentHealth>()> deviceHealth;

  // Open transaction (at most one).
  bool txnOpen = false;
  int64_t txnLastSeq = -1;  // -1: not read yet in this transaction
  int64_t txnFirstSeq = 0;
  std::vector<TaskChange> txnChanges;

  // Prepared statements, reset and unbound before each use.
  SQLite::Statement& cached(const char* sql);

  // Transactions. beginTxn fails with kBusy when one is open already.
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
};

struct StoreTransaction::State {
  TaskStore::Impl* impl = nullptr;
  bool finished = false;
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
