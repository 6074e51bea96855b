#include "agent/store/task.h"

namespace floorlink::agent {

std::string_view toString(TaskState state) {
  switch (state) {
    case TaskState::kPending: return "pending";
    case TaskState::kActive: return "active";
    case TaskState::kDone: return "done";
    case TaskState::kShort: return "short";
    case TaskState::kCancelled: return "cancelled";
  }
  return "pending";
}

Result<TaskState> parseTaskState(std::string_view text) {
  for (TaskState state : {TaskState::kPending, TaskState::kActive, TaskState::kDone,
                          TaskState::kShort, TaskState::kCancelled}) {
    if (toString(state) == text) return state;
  }
  return fail(ErrorCode::kInvalidArgument,
              "unknown task state '" + std::string(text) +
                  "' (expected pending, active, done, short or cancelled)");
}

bool isFinal(TaskState state) {
  return state == TaskState::kDone || state == TaskState::kShort || state == TaskState::kCancelled;
}

bool isLegalTransition(TaskState from, TaskState to) {
  switch (from) {
    case TaskState::kPending:
      return to == TaskState::kPending || to == TaskState::kActive || to == TaskState::kCancelled;
    case TaskState::kActive:
      return to == TaskState::kActive || to == TaskState::kDone || to == TaskState::kShort ||
             to == TaskState::kCancelled || to == TaskState::kPending;
    case TaskState::kDone:
    case TaskState::kShort:
    case TaskState::kCancelled:
      return false;
  }
  return false;
}

Result<sync::TaskKind> parseTaskKind(std::string_view text) {
  for (sync::TaskKind kind : {sync::TaskKind::kPick, sync::TaskKind::kPack, sync::TaskKind::kShip}) {
    if (sync::toString(kind) == text) return kind;
  }
  return fail(ErrorCode::kInvalidArgument,
              "unknown task kind '" + std::string(text) + "' (expected pick, pack or ship)");
}

std::string_view toString(WaveState state) {
  switch (state) {
    case WaveState::kOpen: return "open";
    case WaveState::kCancelled: return "cancelled";
  }
  return "open";
}

}  // namespace floorlink::agent
