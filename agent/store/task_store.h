#pragma once
// The agent's durable truth, a repository only: waves, tasks, applied
// commands' answers, print jobs (SqliteJobStore) and the outbox of events for
// the OMS, in one SQLite database. What commands mean is agent/commands'; the
// sync port (agent/port) hands the outbox to sync. Every task change and the events
// that report it commit in one transaction (C-E2); seq is contiguous from 1 and
// never reused (C-E1). All calls on the event-loop thread; the store owns the
// only connection.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/store_transaction.h"
#include "agent/store/task.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "sync/agent_port.h"
#include "sync/command.h"
#include "sync/event_codec.h"

namespace floorlink::agent {

struct StoreOptions {
  std::filesystem::path path;  // the database file
  std::string site;            // event_id = {site}/{agent}/{seq}
  std::string agentId;
  config::SyncMode synchronous = config::SyncMode::kFull;
  std::chrono::milliseconds busyTimeout{5000};
  std::chrono::hours retention{24 * 7};  // C-A4
  // Cap on the database size in bytes (0: none). Reaching it behaves like a
  // full disk (kDiskFull, acceptingWork=false); tests use it to simulate one.
  int64_t maxSizeBytes = 0;
  // PRAGMA quick_check at open (skip only in benchmarks of open itself).
  bool quickCheckOnOpen = true;
  // A slice of a big wave's ingest ends after this long even before its
  // 1,000 tasks, so a slow disk or a busy CPU makes slices smaller rather
  // than stations wait longer. 0: slices of 1,000 whatever they take (tests
  // that count steps).
  std::chrono::milliseconds ingestSliceBudget{5};

  // {dataDir}/floorlink.db, site/agent ids and the [storage] section.
  static StoreOptions fromConfig(const config::Config& config);
};

// What the outbox notification carries: the events just committed and the
// tasks whose state a command changed (so workflows can tell operators).
struct CommitNotice {
  int64_t firstSeq = 0;  // 0 when the transaction appended no event
  int64_t lastSeq = 0;
  std::vector<TaskChange> taskChanges;
};

// What `floorlinkctl status` / `db info` show about the database.
struct StoreInfo {
  std::filesystem::path path;
  int schemaVersion = 0;
  std::string journalMode;  // "wal"
  std::string synchronous;  // "full" | "normal"
  bool foreignKeys = false;
  int64_t busyTimeoutMs = 0;
  int64_t sizeBytes = 0;    // main file (the -wal is extra)
  int64_t maxSizeBytes = 0; // 0: no limit besides the disk
};

struct PruneReport {
  int64_t eventsPruned = 0;
};

class TaskStore final {
 public:
  // Opens (creating if missing) and migrates the database. A corrupt database
  // is moved aside as "<file>.corrupt-<UTC timestamp>" (never deleted) and
  // open fails with kCorrupt; while such a copy exists and no database is at
  // `path`, open refuses to start afresh (seq would restart at 1): salvage it
  // first (salvageDatabase) or move the copy away deliberately.
  static Result<std::unique_ptr<TaskStore>> open(const StoreOptions& options, const Clock& clock,
                                                 Logger logger = {});
  ~TaskStore();
  TaskStore(const TaskStore&) = delete;
  TaskStore& operator=(const TaskStore&) = delete;

  // --- the outbox (agent/port hands it to sync) ----------------------------
  Result<std::vector<sync::OutboxEvent>> eventsAfter(int64_t afterSeq, size_t limit);
  // C-A3: false (nothing changed) for an ack not above the last one or
  // beyond the last stored seq.
  Result<bool> acknowledge(int64_t ackedThrough);
  Result<sync::OutboxStats> outboxStats();
  // The session counter, one up, known to the high-water file first (C-E6).
  Result<uint64_t> nextSession();
  // Whether the database takes new work (false on a full disk, with why).
  sync::AgentHealth health();

  // --- workflows -----------------------------------------------------------
  // One write transaction (BEGIN IMMEDIATE). Change tasks and append events
  // through it, then commit(); destroying it uncommitted rolls everything
  // back. Only one may be open at a time (kBusy otherwise).
  Result<StoreTransaction> begin();
  // An event that changes no task (device.status, scan.rejected), in its own
  // durable transaction. Returns its seq.
  Result<int64_t> appendEvent(const sync::EventDraft& draft);

  Result<std::optional<Task>> findTask(std::string_view taskId);
  // The task a station should work on: the one it already has active, else
  // the best pending task for it (its own or unassigned of its kind), by
  // priority (higher first), walk sequence (absent last), arrival.
  Result<std::optional<Task>> nextTask(std::string_view station, sync::TaskKind kind);
  // A pending pack task for this station (its own or unassigned) whose order
  // id or task id is `code`; indexed, whatever the queue's length.
  Result<std::optional<Task>> findPendingPack(std::string_view station, std::string_view code);
  // A pending ship task for this station whose SSCC or tracking is `code`.
  Result<std::optional<Task>> findPendingShip(std::string_view station, std::string_view code);
  // The station's last committed workflow position, if it ever had one.
  Result<std::optional<StationPosition>> position(std::string_view station);
  // For `floorlinkctl tasks`: ordered by arrival.
  Result<std::vector<Task>> tasks(const TaskFilter& filter);
  Result<std::vector<WaveSummary>> waves(size_t limit = 100);
  Result<TaskCounts> taskCounts();

  // Deletes acknowledged events acknowledged longer than `retention` ago (C-A4).
  Result<PruneReport> pruneAcked();

  // Called after every commit that appended events or changed tasks by
  // command, on the committing thread, outside any transaction.
  void setCommitListener(std::function<void(const CommitNotice&)> listener);
  // Called on the loop thread whenever health().acceptingWork changes (a
  // full disk, and room again), so the state topic says so at once (C-E5).
  void setHealthListener(std::function<void()> listener);
  // A big wave's staged slices need no fsync of their own (the final commit
  // syncs the WAL with them): under synchronous=FULL, `on` runs the next
  // transactions at NORMAL until called with false. Outside transactions.
  Status setBulkWrites(bool on);

  const Clock& clock() const;
  const Logger& logger() const;
  // StoreOptions::ingestSliceBudget.
  std::chrono::milliseconds ingestSliceBudget() const;

  Result<StoreInfo> info();
  const std::filesystem::path& path() const;
  int schemaVersion() const;

  struct Impl;  // internal (agent/store/store_impl.h)

 private:
  friend class SqliteJobStore;  // the print journal shares the connection
  explicit TaskStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::agent
