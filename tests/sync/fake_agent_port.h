#pragma once
// An in-memory AgentPort for the sync tests: an outbox of encoded events,
// acked_through, a session counter, and a record of every command handed over.
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sync/agent_port.h"
#include "sync/event_codec.h"

namespace floorlink::sync::testing {

class FakeAgentPort final : public AgentPort {
 public:
  FakeAgentPort(std::string site = "dc1", std::string agent = "pc7") : site_(std::move(site)), agent_(std::move(agent)) {}

  // --- AgentPort ---
  Result<CommandOutcome> applyCommand(const Command& command) override {
    applied.push_back(command);
    if (failStorage) return fail(ErrorCode::kStorage, "disk I/O error (fake)");
    auto it = firstStatus_.find(command.cmdId);
    bool duplicate = it != firstStatus_.end();
    std::string status = duplicate ? it->second : "accepted";
    std::string waveId;
    if (auto* w = std::get_if<WaveAssign>(&command.body)) {
      waveId = w->waveId;
      if (!duplicate) {
        // C-C3 at the port: a lower revision is stale.
        auto& rev = revisions_[w->waveId];
        if (w->revision < rev) status = "rejected";
        else if (w->revision == rev) duplicate = true;
        else rev = w->revision;
      }
    }
    if (!duplicate) firstStatus_[command.cmdId] = status;
    nlohmann::json data{{"cmd_id", command.cmdId}, {"status", status}, {"errors", nlohmann::json::array()},
                        {"duplicate", duplicate}};
    auto seq = addEvent("cmd.result", data.dump(), waveId);
    return CommandOutcome{status, duplicate, seq};
  }

  Result<CommandOutcome> rejectCommand(const RejectedCommand& rejected) override {
    rejectedCommands.push_back(rejected);
    auto it = firstStatus_.find(rejected.cmdId);
    bool duplicate = it != firstStatus_.end();
    if (!duplicate) firstStatus_[rejected.cmdId] = "rejected";
    auto errors = nlohmann::json::array();
    for (const auto& e : rejected.errors) errors.push_back({{"path", e.path}, {"code", e.code}, {"message", e.message}});
    nlohmann::json data{{"cmd_id", rejected.cmdId}, {"status", duplicate ? it->second : "rejected"},
                        {"errors", errors}, {"duplicate", duplicate}};
    auto seq = addEvent("cmd.result", data.dump());
    return CommandOutcome{"rejected", duplicate, seq};
  }

  Status recordInvalid(const InvalidMessage& invalid) override {
    invalids.push_back(invalid);
    nlohmann::json data{{"reason", invalid.reason}, {"head", invalid.head}};
    addEvent("cmd.invalid", data.dump());
    return ok();
  }

  Result<std::vector<OutboxEvent>> eventsAfter(int64_t afterSeq, size_t limit) override {
    ++eventsAfterCalls;
    std::vector<OutboxEvent> out;
    for (auto it = events_.upper_bound(afterSeq); it != events_.end() && out.size() < limit; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  Result<bool> acknowledge(int64_t ackedThrough) override {
    acks.push_back(ackedThrough);
    if (ackedThrough > lastSeq_ || ackedThrough <= ackedThrough_) return false;  // C-A3
    ackedThrough_ = ackedThrough;
    return true;
  }

  Result<OutboxStats> outboxStats() override {
    OutboxStats s;
    s.ackedThrough = ackedThrough_;
    s.lastSeq = lastSeq_;
    s.depth = lastSeq_ - ackedThrough_;
    return s;
  }

  Result<uint64_t> nextSession() override { return ++session_; }

  AgentHealth health() override { return healthValue; }

  // --- test helpers (loop thread) ---
  int64_t addEvent(const std::string& type, const std::string& dataJson, const std::string& waveId = "") {
    EventDraft d;
    d.type = type;
    d.occurredAt = 1763780000000 + lastSeq_;
    d.waveId = waveId;
    d.dataJson = dataJson;
    int64_t seq = ++lastSeq_;
    events_[seq] = OutboxEvent{seq, encodeEvent(site_, agent_, seq, d), d.occurredAt};
    return seq;
  }
  void addEvents(int n) {
    for (int i = 0; i < n; ++i) addEvent("task.started", R"({"operator":"op1"})");
  }
  int64_t ackedThrough() const { return ackedThrough_; }
  int64_t lastSeq() const { return lastSeq_; }
  uint64_t session() const { return session_; }
  const std::string& payloadOf(int64_t seq) const { return events_.at(seq).payload; }

  std::vector<Command> applied;
  std::vector<RejectedCommand> rejectedCommands;
  std::vector<InvalidMessage> invalids;
  std::vector<int64_t> acks;
  AgentHealth healthValue;
  bool failStorage = false;
  int eventsAfterCalls = 0;

 private:
  std::string site_, agent_;
  std::map<int64_t, OutboxEvent> events_;
  std::map<std::string, std::string> firstStatus_;
  std::map<std::string, int64_t> revisions_;
  int64_t lastSeq_ = 0;
  int64_t ackedThrough_ = 0;
  uint64_t session_ = 0;
};

}  // namespace floorlink::sync::testing
