#pragma once
// RAII write transaction of the task store (in the spirit of
// SQLite::Transaction): task changes and their events commit together (C-E2).
#include <cstdint>
#include <memory>
#include <string_view>

#include "agent/store/task.h"
#include "core/error.h"
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

  struct State;  // internal

 private:
  friend class TaskStore;
  explicit StoreTransaction(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace floorlink::agent
