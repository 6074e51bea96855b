#pragma once
// The narrow interface through which sync reaches the agent's state. Sync
// declares it; agent implements it over its SQLite store. All calls happen on
// the event-loop thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sync/command.h"

namespace floorlink::sync {

// An event as stored in the outbox: the exact bytes to publish (C-E3).
struct OutboxEvent {
  int64_t seq = 0;
  std::string payload;
  int64_t createdMs = 0;
};

struct OutboxStats {
  int64_t depth = 0;            // events stored and not acknowledged
  int64_t oldestUnackedMs = 0;  // age of the oldest unacknowledged event, 0 if none
  int64_t ackedThrough = 0;
  int64_t lastSeq = 0;
  // C-E6: seq numbers a damaged or lost database could not send again,
  // announced by store.salvaged; [gapFrom, gapTo] until that event is
  // acknowledged, 0 and 0 otherwise ("seq_gap" in …/state).
  int64_t gapFrom = 0, gapTo = 0;
};

// Outcome of a command, as recorded in its cmd.result event.
struct CommandOutcome {
  std::string status;  // "accepted" or "rejected"
  bool duplicate = false;
  int64_t resultSeq = 0;  // seq of the cmd.result event just stored
};

// Health of one device, for the state topic (C-P2). Plain strings: sync knows
// nothing of devices.
struct ComponentHealth {
  std::string id;
  std::string kind;    // scanner | scale | printer
  std::string state;   // ok | offline | fault
  std::string detail;
};

// Agent-wide health flags that the state topic carries.
struct AgentHealth {
  bool acceptingWork = true;  // false when the disk is full (C-E5)
  std::string detail;         // why not
  std::vector<ComponentHealth> devices;
};

// A command being applied in bounded steps, so the loop thread serves
// stations between them (a 50,000-task wave.assign). Destroying it before
// the outcome leaves nothing visible: the command counts as not received.
class CommandApplication {
 public:
  virtual ~CommandApplication() = default;
  // Does one short slice of work. Returns the outcome once the command is
  // applied and its cmd.result stored; nullopt: call again (after letting
  // the loop run). An error ends the application (nothing was applied).
  virtual Result<std::optional<CommandOutcome>> step() = 0;
};

// An application that applies `command` with `apply` at its first step.
std::unique_ptr<CommandApplication> inOneStep(std::function<Result<CommandOutcome>(const Command&)> apply,
                                              Command command);

class AgentPort {
 public:
  virtual ~AgentPort() = default;

  // Starts applying a valid command; sync calls step() until it has the
  // outcome. The default applies it in one step with applyCommand.
  virtual std::unique_ptr<CommandApplication> startCommand(Command command);

  // Applies a valid command and stores its cmd.result in the same
  // transaction. A repeated cmd_id changes nothing and stores a new cmd.result
  // with duplicate=true and the first status (C-C1).
  virtual Result<CommandOutcome> applyCommand(const Command& command) = 0;
  // Records cmd.result "rejected" with the errors (deduplicated by cmd_id too).
  virtual Result<CommandOutcome> rejectCommand(const RejectedCommand& rejected) = 0;
  // Records a cmd.invalid event.
  virtual Status recordInvalid(const InvalidMessage& invalid) = 0;

  // Stored events with seq > afterSeq, in seq order, at most `limit`.
  virtual Result<std::vector<OutboxEvent>> eventsAfter(int64_t afterSeq, size_t limit) = 0;
  // {"acked_through":N}: ignored when N > last sent seq or N < current (C-A3).
  // Returns whether it changed anything.
  virtual Result<bool> acknowledge(int64_t ackedThrough) = 0;
  virtual Result<OutboxStats> outboxStats() = 0;

  // Increments and returns the persisted session counter (C-P3).
  virtual Result<uint64_t> nextSession() = 0;

  virtual AgentHealth health() = 0;
};

}  // namespace floorlink::sync
