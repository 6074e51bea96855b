#pragma once
// What the OMS's commands mean (contract §4): wave.assign (C-C2, C-C3; a
// wave of more than 1,000 tasks staged in slices), wave.cancel, task.cancel,
// resync, a command's one answer and its cmd.result (C-C1), rejected and
// invalid commands. Applied through the task store's transactions; the
// store keeps the rows, this decides what goes in them. Loop thread (the
// store's), like the store.
#include <memory>

#include "agent/store/task_store.h"
#include "core/error.h"
#include "sync/agent_port.h"
#include "sync/command.h"

namespace floorlink::agent {

class Commands {
 public:
  // Holds only the store; cheap to make where needed.
  explicit Commands(TaskStore& store) : store_(store) {}

  // In one transaction with its cmd.result; a repeat of a cmd_id changes
  // nothing and gets the first answer again.
  Result<sync::CommandOutcome> apply(const sync::Command& command);
  // A wave.assign of more than 1,000 tasks is staged in slices and made
  // visible in one final transaction; anything else is one step. The
  // application refers to the store, which must outlive it.
  std::unique_ptr<sync::CommandApplication> start(sync::Command command);
  // A command the parser refused: answered (and stored under its cmd_id).
  Result<sync::CommandOutcome> reject(const sync::RejectedCommand& rejected);
  // A message that is not a command at all: cmd.invalid.
  Status recordInvalid(const sync::InvalidMessage& invalid);

 private:
  TaskStore& store_;
};

}  // namespace floorlink::agent
