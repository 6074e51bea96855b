#pragma once
// RAII write transaction of the task store (in the spirit of
// SQLite::Transaction): task changes and their events commit together (C-E2).
#include <cstdint>
#include <memory>
#include <string_view>

#include <optional>
#include <string>
#include <vector>

#include "agent/store/task.h"
#include "agent/store/wave_records.h"
#include "core/error.h"
#include "sync/command.h"
#include "sync/event_codec.h"

namespace floorlink::agent {

struct CommitResult {
  int64_t firstSeq = 0;  // 0 when no event was appended
  int64_t lastSeq = 0;
};

class StoreTransaction {
 public:
  StoreTransaction(StoreTransaction&& other) noexcept;
  StoreTransaction& operator=(StoreTransaction&& other) noexcept;
  // Rolls back when not committed.
  ~StoreTransaction();

  Result<Task> task(std::string_view taskId);
  // Moves a task to `to` when that is a legal transition (kInvalidArgument
  // otherwise, kNotFound for an unknown task). A task may stay in its state
  // (e.g. active -> active to record progress). With `update.claimedBy` a
  // move to active is a claim: kBusy when another station holds the task or
  // it is assigned to another station (one station per task).
  Result<Task> setTaskState(std::string_view taskId, TaskState to, const TaskUpdate& update = {});
  // Records where a station stands; commits with the step's task change and
  // event, so a restart resumes exactly there.
  Status savePosition(const StationPosition& position);
  // Encodes the event with the next seq (stored bytes are final, C-E3).
  Result<int64_t> appendEvent(const sync::EventDraft& draft);
  // Durable when it returns (synchronous=FULL). After a failed commit the
  // transaction is rolled back and nothing of it is stored.
  Result<CommitResult> commit();

  // --- what agent/commands applies commands with ---------------------------
  // The stored answer of a command (C-C1), if it was applied before.
  Result<std::optional<StoredAnswer>> answer(const std::string& cmdId);
  Status storeAnswer(const std::string& cmdId, std::string_view type, const StoredAnswer& answer,
                     int64_t resultSeq);
  Result<std::optional<WaveRecord>> wave(const std::string& waveId);
  // Inserts the wave's row, or gives the existing one this revision (state
  // open again).
  Status putWave(const WaveRecord& wave);
  // Marks the wave and its pending and active tasks cancelled; returns those
  // tasks as they were (reported to the commit listener as changes).
  Result<std::vector<WaveTask>> cancelWave(const std::string& waveId, const std::string& reason);
  // The wave's live tasks in arrival order.
  Result<std::vector<WaveTask>> liveTasks(const std::string& waveId);
  // Deletes the wave's tasks that never started (a revision replaces them),
  // reported as removed.
  Status dropUnstarted(const std::string& waveId);
  // The wave another live task of this id belongs to: task ids are unique
  // among live tasks across waves.
  Result<std::optional<std::string>> liveOwnerElsewhere(const std::string& taskId, const std::string& waveId);
  // A new pending task row (the hot loop of a wave's ingest).
  Status insertTask(const sync::TaskSpec& spec, const TaskPlacement& where);

  // Staged ingests of big waves (docs/store.md, "Big waves"): rows written
  // under a generation of their own, invisible until the wave row gets it.
  // A crash leaves the ingest row; the next open sweeps what it names.
  Result<int64_t> beginIngest(const std::string& waveId, const std::string& cmdId);  // its generation
  Result<std::optional<int64_t>> oldestIngest();
  Result<bool> ingestLeft(int64_t gen);
  // A slice of the ingest's leftover rows; true when none is left.
  Result<bool> sweepIngest(int64_t gen);
  Result<KeptRows> keepStarted(const std::string& waveId, int64_t gen);
  // The wave row has the generation now: a revision's replaced rows are
  // swept next (`revision`), a new wave's ingest is over.
  Status endIngest(int64_t gen, bool revision);

  struct State;  // internal

 private:
  friend class TaskStore;
  explicit StoreTransaction(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace floorlink::agent
