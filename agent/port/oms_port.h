#pragma once
// The agent as sync sees it (sync::AgentPort): commands go to
// agent/commands, the outbox and the session counter to the task store, and
// the state topic's health joins the store's (disk) with the devices'.
// Loop thread, like the store.
#include <functional>
#include <vector>

#include "agent/commands/commands.h"
#include "agent/store/task_store.h"
#include "sync/agent_port.h"

namespace floorlink::agent {

class OmsPort final : public sync::AgentPort {
 public:
  explicit OmsPort(TaskStore& store) : store_(store), commands_(store) {}

  // Device states for health(); the agent wires its device manager here.
  void setDeviceHealthSource(std::function<std::vector<sync::ComponentHealth>()> source) {
    deviceHealth_ = std::move(source);
  }

  std::unique_ptr<sync::CommandApplication> startCommand(sync::Command command) override {
    return commands_.start(std::move(command));
  }
  Result<sync::CommandOutcome> applyCommand(const sync::Command& command) override { return commands_.apply(command); }
  Result<sync::CommandOutcome> rejectCommand(const sync::RejectedCommand& rejected) override {
    return commands_.reject(rejected);
  }
  Status recordInvalid(const sync::InvalidMessage& invalid) override { return commands_.recordInvalid(invalid); }
  Result<std::vector<sync::OutboxEvent>> eventsAfter(int64_t afterSeq, size_t limit) override {
    return store_.eventsAfter(afterSeq, limit);
  }
  Result<bool> acknowledge(int64_t ackedThrough) override { return store_.acknowledge(ackedThrough); }
  Result<sync::OutboxStats> outboxStats() override { return store_.outboxStats(); }
  Result<uint64_t> nextSession() override { return store_.nextSession(); }
  sync::AgentHealth health() override {
    sync::AgentHealth h = store_.health();
    if (deviceHealth_) h.devices = deviceHealth_();
    return h;
  }

 private:
  TaskStore& store_;
  Commands commands_;
  std::function<std::vector<sync::ComponentHealth>()> deviceHealth_;
};

}  // namespace floorlink::agent
