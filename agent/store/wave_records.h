#pragma once
// The records agent/commands reads and writes through a StoreTransaction to
// apply the OMS's commands: stored answers (C-C1), wave rows, the live tasks
// of a wave. Plain values: what they mean is agent/commands' business.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/store/task.h"

namespace floorlink::agent {

// One command's answer as kept in `commands`; a repeat of the command gets
// it again (C-C1).
struct StoredAnswer {
  std::string status;              // accepted | rejected
  std::string errorsJson = "[]";   // cmd.result's "errors"
  std::optional<std::vector<std::string>> kept;
  std::string waveId, taskId;
};

// A wave's row. `gen` is the generation of its visible task rows
// (docs/store.md, "Big waves").
struct WaveRecord {
  std::string waveId;
  int64_t revision = 0;
  int64_t priority = 0;
  std::string cmdId;  // the command that stored this revision
  int64_t taskCount = 0;
  int64_t gen = 0;
};

// A live task of a wave, as a revision or a cancel sees it.
struct WaveTask {
  std::string taskId;
  TaskState state = TaskState::kPending;
  bool started = false;
  std::string holder;  // claimed_by, else the assigned station
};

// Where new task rows go: one per wave (or slice of one), not per task.
struct TaskPlacement {
  std::string waveId;
  int64_t revision = 0;
  int64_t priority = 0;
  int64_t gen = 0;
  int64_t nowMs = 0;
};

// What a staged revision keeps of the rows before it: the tasks that had
// started (kept under their state), whose staged copies are dropped.
struct KeptRows {
  std::vector<std::string> taskIds;
  int64_t stagedCopiesDropped = 0;
};

}  // namespace floorlink::agent
