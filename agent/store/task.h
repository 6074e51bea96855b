#pragma once
// Task model of the store: plain values, ready for workflows and for
// `floorlinkctl tasks`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sync/command.h"

namespace floorlink::agent {

// pending -> active | cancelled; active -> done | short | cancelled | pending
// (released back, e.g. the operator logs off). done, short and cancelled are
// final.
enum class TaskState { kPending, kActive, kDone, kShort, kCancelled };

std::string_view toString(TaskState state);
Result<TaskState> parseTaskState(std::string_view text);
bool isFinal(TaskState state);
bool isLegalTransition(TaskState from, TaskState to);
Result<sync::TaskKind> parseTaskKind(std::string_view text);

struct Task {
  int64_t arrival = 0;  // storage order: assignment order within and across waves
  std::string taskId;
  std::string waveId;
  int64_t revision = 0;  // wave revision that stored this task
  sync::TaskKind kind = sync::TaskKind::kPick;
  std::string orderId;
  std::string station;    // assigned by the OMS; empty: any station of the kind
  std::string claimedBy;  // station working on it (set when it becomes active)
  TaskState state = TaskState::kPending;
  int64_t priority = 0;   // wave priority; higher first
  std::optional<int64_t> sequence;  // pick walk order
  // Frequently shown fields (the full spec is in specJson).
  std::string bin, sku;  // pick: the bin to pick from
  std::string door;      // ship: the dock door
  int64_t qty = 0;
  int64_t qtyDone = 0;
  std::string operatorId;
  std::string reason;     // why short / cancelled
  std::string specJson;   // the task object as the OMS sent it
  int64_t createdMs = 0;
  int64_t startedMs = 0;  // 0: never started
  int64_t updatedMs = 0;
};

// A change of an existing task's state, reported to the commit listener.
struct TaskChange {
  std::string taskId;
  std::string waveId;
  std::string station;  // claimedBy if set, else the assigned station
  std::optional<TaskState> from;  // nullopt: task was inserted
  std::optional<TaskState> to;    // nullopt: task was removed (replaced by a new revision)
};

struct TaskFilter {
  std::string waveId;   // empty: any
  std::string station;  // empty: any; matches assigned or claiming station
  std::optional<TaskState> state;
  size_t limit = 1000;
  int64_t afterArrival = 0;  // paging: only tasks with arrival > this
};

// What a workflow changes with StoreTransaction::setTaskState.
struct TaskUpdate {
  std::string claimedBy;   // set when non-empty
  std::string operatorId;  // set when non-empty
  std::optional<int64_t> qtyDone;
  std::string reason;      // set when non-empty
};

// Where a station stands in its workflow, as last committed with a step.
// The workflow owns the meaning of `step` and `dataJson`.
struct StationPosition {
  std::string station;
  std::string taskId;  // empty: no task at the station
  std::string step;
  std::string dataJson = "{}";
  int64_t updatedMs = 0;
};

enum class WaveState { kOpen, kCancelled };
std::string_view toString(WaveState state);

struct WaveSummary {
  std::string waveId;
  int64_t revision = 0;
  int64_t priority = 0;
  WaveState state = WaveState::kOpen;
  int64_t pending = 0, active = 0, done = 0, shortPicked = 0, cancelled = 0;
  int64_t updatedMs = 0;
};

struct TaskCounts {
  int64_t pending = 0, active = 0, done = 0, shortPicked = 0, cancelled = 0;
};

}  // namespace floorlink::agent
