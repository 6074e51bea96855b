#include "agent/commands/commands.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace floorlink::agent {

using Json = nlohmann::ordered_json;

namespace {

// A wave.assign larger than this is written in slices of this many tasks.
constexpr size_t kStageSliceTasks = 1000;

// The answer to one command, as stored and sent in cmd.result.
struct Answer {
  std::string status;  // accepted | rejected
  Json errors = Json::array();
  std::optional<std::vector<std::string>> kept;
  std::string waveId, taskId;
  // The wave turned out invalid halfway through storing it: its transaction
  // is rolled back whole and the rejection recorded in a new one (cheaper
  // than a savepoint around every wave).
  bool rolledBack = false;
};

Answer fromStored(const StoredAnswer& stored) {
  Answer a;
  a.status = stored.status;
  a.errors = Json::parse(stored.errorsJson, nullptr, false);
  if (a.errors.is_discarded()) a.errors = Json::array();
  a.kept = stored.kept;
  a.waveId = stored.waveId;
  a.taskId = stored.taskId;
  return a;
}

Json fieldErrors(const std::vector<sync::FieldError>& errors) {
  Json out = Json::array();
  for (const auto& e : errors) out.push_back({{"path", e.path}, {"code", e.code}, {"message", e.message}});
  return out;
}

Json oneError(std::string path, std::string code, std::string message) {
  return Json::array({Json{{"path", std::move(path)}, {"code", std::move(code)}, {"message", std::move(message)}}});
}

Result<std::optional<Answer>> firstAnswer(StoreTransaction& txn, const std::string& cmdId) {
  auto stored = txn.answer(cmdId);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return std::optional<Answer>{};
  return std::optional<Answer>{fromStored(**stored)};
}

// Appends cmd.result and, unless it repeats a stored answer under the same
// cmd_id (`storeRow` false), stores the answer under cmdId; the outcome.
Result<sync::CommandOutcome> answerCommand(StoreTransaction& txn, const std::string& cmdId, std::string_view type,
                                           const Answer& answer, bool duplicate, bool storeRow) {
  Json data;
  data["cmd_id"] = cmdId;
  data["status"] = answer.status;
  data["errors"] = answer.errors;
  data["duplicate"] = duplicate;
  if (answer.kept) data["kept"] = *answer.kept;
  sync::EventDraft draft;
  draft.type = "cmd.result";
  draft.waveId = answer.waveId;
  draft.taskId = answer.taskId;
  draft.dataJson = data.dump();
  auto seq = txn.appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  if (storeRow) {
    StoredAnswer stored{answer.status, answer.errors.dump(), answer.kept, answer.waveId, answer.taskId};
    if (auto s = txn.storeAnswer(cmdId, type, stored, *seq); !s) return std::unexpected(s.error());
  }
  return sync::CommandOutcome{.status = answer.status, .duplicate = duplicate, .resultSeq = *seq};
}

// Commits `txn` and passes `value` on, or the commit's error.
template <class T>
Result<T> committed(StoreTransaction& txn, T value) {
  if (auto c = txn.commit(); !c) return std::unexpected(c.error());
  return value;
}

// `owner` empty: the id came twice in this wave.
Answer duplicateTaskAnswer(const std::string& waveId, size_t index, const std::string& taskId,
                           const std::string& owner) {
  Answer answer;
  answer.waveId = waveId;
  answer.status = "rejected";
  answer.rolledBack = true;
  answer.errors = oneError("tasks[" + std::to_string(index) + "].task_id", "duplicate_task_id",
                           owner.empty() ? "task_id " + taskId + " appears more than once in this wave"
                                         : "task_id " + taskId + " already belongs to wave " + owner);
  return answer;
}

// A task of the wave that may not be stored: seen twice in it, or live in
// another wave (C-C2 rejects the whole wave).
Result<std::optional<Answer>> refusedTask(StoreTransaction& txn, const sync::WaveAssign& wave, size_t index,
                                          std::unordered_set<std::string_view>& seen) {
  const sync::TaskSpec& t = wave.tasks[index];
  if (!seen.insert(t.taskId).second) return std::optional<Answer>{duplicateTaskAnswer(wave.waveId, index, t.taskId, "")};
  auto owner = txn.liveOwnerElsewhere(t.taskId, wave.waveId);
  if (!owner) return std::unexpected(owner.error());
  if (*owner) return std::optional<Answer>{duplicateTaskAnswer(wave.waveId, index, t.taskId, **owner)};
  return std::optional<Answer>{};
}

// wave.assign (C-C2, C-C3). Returns the answer; task rows are written only
// when it is accepted. With `stagedGen`, the tasks were already written in
// slices under that generation (WaveIngest) and this transaction makes them
// visible by giving the wave row that generation (`stagedRows` of them).
Result<Answer> applyWaveAssign(StoreTransaction& txn, const Clock& clock, const sync::Command& command,
                               const sync::WaveAssign& wave, bool& duplicate, int64_t stagedGen, int64_t stagedRows) {
  Answer answer;
  answer.waveId = wave.waveId;
  auto current = txn.wave(wave.waveId);
  if (!current) return std::unexpected(current.error());
  if (*current && (*current)->revision == wave.revision) {
    // The same revision again under another cmd_id: a repeat (C-C3 -> C-C1).
    duplicate = true;
    auto first = firstAnswer(txn, (*current)->cmdId);
    if (!first) return std::unexpected(first.error());
    if (*first) {
      (*first)->waveId = wave.waveId;
      return **first;
    }
    answer.status = "accepted";
    answer.kept.emplace();
    return answer;
  }
  if (*current && wave.revision < (*current)->revision) {
    answer.status = "rejected";
    answer.errors = oneError("revision", "stale_revision",
                             "wave " + wave.waveId + " is at revision " + std::to_string((*current)->revision) +
                                 "; revision " + std::to_string(wave.revision) + " is older and was not applied");
    return answer;
  }

  const bool revision = current->has_value();
  const int64_t priority = wave.priority.value_or(0);
  std::vector<std::string> kept;
  int64_t taskCount = 0;
  const int64_t gen = stagedGen > 0 ? stagedGen : (revision ? (*current)->gen : 0);
  if (stagedGen > 0) {
    int64_t staged = stagedRows;
    if (revision) {
      auto k = txn.keepStarted(wave.waveId, stagedGen);
      if (!k) return std::unexpected(k.error());
      kept = std::move(k->taskIds);
      staged -= k->stagedCopiesDropped;
    }
    taskCount = staged + static_cast<int64_t>(kept.size());
    // A new wave replaced nothing: the ingest is over; a revision's
    // replaced rows are swept after this transaction.
    if (auto e = txn.endIngest(stagedGen, revision); !e) return std::unexpected(e.error());
  } else if (revision) {
    // Tasks never started are replaced; started or finished ones keep their
    // state and are reported under "kept".
    auto live = txn.liveTasks(wave.waveId);
    if (!live) return std::unexpected(live.error());
    for (WaveTask& t : *live) {
      bool replaceable = t.state == TaskState::kPending || (t.state == TaskState::kCancelled && !t.started);
      if (!replaceable) kept.push_back(std::move(t.taskId));
    }
  }
  std::unordered_set<std::string_view> keptSet(kept.begin(), kept.end());
  if (stagedGen == 0) {
    taskCount = static_cast<int64_t>(kept.size());
    for (const auto& t : wave.tasks) {
      if (!keptSet.contains(t.taskId)) ++taskCount;
    }
    if (revision) {
      if (auto d = txn.dropUnstarted(wave.waveId); !d) return std::unexpected(d.error());
    }
  }
  if (auto p = txn.putWave(WaveRecord{wave.waveId, wave.revision, priority, command.cmdId, taskCount, gen}); !p) {
    return std::unexpected(p.error());
  }
  if (stagedGen == 0) {
    const TaskPlacement where{wave.waveId, wave.revision, priority, gen, clock.nowMs()};
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < wave.tasks.size(); ++i) {
      const sync::TaskSpec& t = wave.tasks[i];
      if (!keptSet.empty() && keptSet.contains(t.taskId)) {
        if (!seen.insert(t.taskId).second) return duplicateTaskAnswer(wave.waveId, i, t.taskId, "");
        continue;
      }
      auto refused = refusedTask(txn, wave, i, seen);
      if (!refused) return std::unexpected(refused.error());
      if (*refused) return **refused;
      if (auto s = txn.insertTask(t, where); !s) return std::unexpected(s.error());
    }
  }
  answer.status = "accepted";
  answer.kept = std::move(kept);
  return answer;
}

Status appendCancelled(StoreTransaction& txn, const std::string& taskId, const std::string& waveId,
                       const std::string& station, const std::string& reason, const std::string& cmdId) {
  Json data;
  data["reason"] = reason;
  data["cmd_id"] = cmdId;
  sync::EventDraft draft;
  draft.type = "task.cancelled";
  draft.station = station;
  draft.taskId = taskId;
  draft.waveId = waveId;
  draft.dataJson = data.dump();
  auto seq = txn.appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  return ok();
}

Result<Answer> applyWaveCancel(StoreTransaction& txn, const sync::Command& command, const sync::WaveCancel& cancel) {
  Answer answer;
  answer.waveId = cancel.waveId;
  auto wave = txn.wave(cancel.waveId);
  if (!wave) return std::unexpected(wave.error());
  if (!*wave) {
    answer.status = "rejected";
    answer.errors = oneError("wave_id", "unknown_wave", "no wave " + cancel.waveId + " on this agent");
    return answer;
  }
  auto cancelled = txn.cancelWave(cancel.waveId, cancel.reason);
  if (!cancelled) return std::unexpected(cancelled.error());
  for (const WaveTask& t : *cancelled) {
    if (auto s = appendCancelled(txn, t.taskId, cancel.waveId, t.holder, cancel.reason, command.cmdId); !s) {
      return std::unexpected(s.error());
    }
  }
  answer.status = "accepted";
  return answer;
}

Result<Answer> applyTaskCancel(StoreTransaction& txn, const sync::Command& command, const sync::TaskCancel& cancel) {
  Answer answer;
  answer.taskId = cancel.taskId;
  auto found = txn.task(cancel.taskId);
  if (!found && found.error().code != ErrorCode::kNotFound) return std::unexpected(found.error());
  if (!found) {
    answer.status = "rejected";
    answer.errors = oneError("task_id", "unknown_task", "no task " + cancel.taskId + " on this agent");
    return answer;
  }
  answer.waveId = found->waveId;
  if (found->state == TaskState::kDone || found->state == TaskState::kShort) {
    answer.status = "rejected";
    answer.errors = oneError("task_id", "already_done",
                             "task " + cancel.taskId + " is already " + std::string(toString(found->state)) +
                                 " and cannot be cancelled");
    return answer;
  }
  if (found->state == TaskState::kCancelled) {
    answer.status = "accepted";  // nothing left to do
    return answer;
  }
  TaskUpdate update;
  update.reason = cancel.reason;
  auto task = txn.setTaskState(cancel.taskId, TaskState::kCancelled, update);
  if (!task) return std::unexpected(task.error());
  if (auto s = appendCancelled(txn, task->taskId, task->waveId,
                               task->claimedBy.empty() ? task->station : task->claimedBy, cancel.reason,
                               command.cmdId);
      !s) {
    return std::unexpected(s.error());
  }
  answer.status = "accepted";
  return answer;
}

Result<sync::CommandOutcome> recordRejectedWave(TaskStore& store, const sync::Command& command,
                                                const Answer& answer) {
  auto txn = store.begin();
  if (!txn) return std::unexpected(txn.error());
  auto outcome = answerCommand(*txn, command.cmdId, command.type, answer, false, true);
  if (!outcome) return outcome;
  auto done = committed(*txn, *outcome);
  if (done) store.logger().info("command {} ({}) rejected: {}", command.cmdId, command.type, answer.errors.dump());
  return done;
}

// One command in one transaction. With `stagedGen`, the final step of a
// staged wave.assign (WaveIngest).
Result<sync::CommandOutcome> applyInTransaction(TaskStore& store, const sync::Command& command, int64_t stagedGen = 0,
                                                int64_t stagedRows = 0) {
  std::optional<Answer> rejectedWave;
  auto outcome = [&]() -> Result<sync::CommandOutcome> {
    auto txn = store.begin();
    if (!txn) return std::unexpected(txn.error());
    auto first = firstAnswer(*txn, command.cmdId);
    if (!first) return std::unexpected(first.error());
    if (*first) {
      // C-C1: changes nothing, answered again with the first answer.
      auto again = answerCommand(*txn, command.cmdId, command.type, **first, true, false);
      if (!again) return again;
      return committed(*txn, *again);
    }
    Result<Answer> answer = Answer{.status = "accepted"};  // resync: sync republishes; we only answer
    bool duplicate = false;
    if (auto* assign = std::get_if<sync::WaveAssign>(&command.body)) {
      answer = applyWaveAssign(*txn, store.clock(), command, *assign, duplicate, stagedGen, stagedRows);
    } else if (auto* waveCancel = std::get_if<sync::WaveCancel>(&command.body)) {
      answer = applyWaveCancel(*txn, command, *waveCancel);
    } else if (auto* taskCancel = std::get_if<sync::TaskCancel>(&command.body)) {
      answer = applyTaskCancel(*txn, command, *taskCancel);
    }
    if (!answer) return std::unexpected(answer.error());
    if (answer->rolledBack) {
      rejectedWave = std::move(*answer);
      return sync::CommandOutcome{};  // the transaction rolls back as it goes
    }
    auto result = answerCommand(*txn, command.cmdId, command.type, *answer, duplicate, true);
    if (!result) return result;
    return committed(*txn, *result);
  }();
  // A staged ingest's rows go with its sweep (WaveIngest, or the next open).
  if (rejectedWave) return recordRejectedWave(store, command, *rejectedWave);
  if (outcome && outcome->status == "rejected" && !outcome->duplicate) {
    store.logger().info("command {} ({}) rejected", command.cmdId, command.type);
  }
  return outcome;
}

// wave.assign in bounded steps (docs/store.md, "Big waves"): the ingest
// takes a generation of its own, slices of tasks go straight into the task
// table under it in short transactions (invisible until the wave row has
// that generation), then one short transaction gives the wave row that
// generation together with the command and its cmd.result (C-C2, C-C1). A
// revision's replaced rows are hidden by that same change and deleted in
// slices after it. A crash at any point leaves the ingest row, and the next
// open sweeps what it names: before the final transaction the staged rows
// (no cmd.result: the OMS sends it again), after it the replaced ones.
class WaveIngest final : public sync::CommandApplication {
 public:
  WaveIngest(TaskStore& store, sync::Command command)
      : store_(store), command_(std::move(command)), wave_(std::get<sync::WaveAssign>(command_.body)) {}

  // Left over when the agent stops mid-ingest: swept at the next open.
  ~WaveIngest() override = default;

  Result<std::optional<sync::CommandOutcome>> step() override {
    switch (phase_) {
      case Phase::kCheck: return check();
      case Phase::kStage: return stageSlice();
      case Phase::kFinal: return finish();
      case Phase::kSweep: return sweep();
      case Phase::kDone: break;
    }
    return fail(ErrorCode::kInternal, "command " + command_.cmdId + " is already applied");
  }

 private:
  enum class Phase { kCheck, kStage, kFinal, kSweep, kDone };
  using StepResult = Result<std::optional<sync::CommandOutcome>>;

  StepResult applyWhole() {
    phase_ = Phase::kDone;
    auto outcome = applyInTransaction(store_, command_);
    if (!outcome) return std::unexpected(outcome.error());
    return std::optional<sync::CommandOutcome>{*outcome};
  }

  // A repeat or a stale revision inserts nothing: answered in one step.
  // What an earlier ingest left (abandoned, or its sweep unfinished) goes
  // first, a slice per step. Otherwise the ingest gets its generation,
  // committed before any row.
  StepResult check() {
    enum class Next { kWhole, kSwept, kStarted };
    auto next = [&]() -> Result<Next> {
      auto txn = store_.begin();
      if (!txn) return std::unexpected(txn.error());
      auto first = txn->answer(command_.cmdId);
      if (!first) return std::unexpected(first.error());
      if (*first) return Next::kWhole;
      auto wave = txn->wave(wave_.waveId);
      if (!wave) return std::unexpected(wave.error());
      if (*wave && (*wave)->revision >= wave_.revision) return Next::kWhole;
      auto left = txn->oldestIngest();
      if (!left) return std::unexpected(left.error());
      if (*left) {
        auto swept = txn->sweepIngest(**left);
        if (!swept) return std::unexpected(swept.error());
        return committed(*txn, Next::kSwept);
      }
      auto gen = txn->beginIngest(wave_.waveId, command_.cmdId);
      if (!gen) return std::unexpected(gen.error());
      gen_ = *gen;
      return committed(*txn, Next::kStarted);
    }();
    if (!next) return std::unexpected(next.error());
    if (*next == Next::kWhole) return applyWhole();
    if (*next == Next::kStarted) phase_ = Phase::kStage;
    return std::optional<sync::CommandOutcome>{};
  }

  StepResult stageSlice() {
    // Staged rows need no fsync of their own: the final commit syncs the
    // WAL with them, and a crash before it discards them anyway.
    if (auto relaxed = store_.setBulkWrites(true); !relaxed) return std::unexpected(relaxed.error());
    std::optional<Answer> rejected;
    int64_t sliceRows = 0;
    auto staged = [&]() -> Status {
      auto txn = store_.begin();
      if (!txn) return std::unexpected(txn.error());
      const TaskPlacement where{wave_.waveId, wave_.revision, wave_.priority.value_or(0), gen_,
                                store_.clock().nowMs()};
      const size_t end = std::min(next_ + kStageSliceTasks, wave_.tasks.size());
      // (StoreOptions::ingestSliceBudget: early end of a slow slice)
      const auto budget = store_.ingestSliceBudget();
      const auto deadline = std::chrono::steady_clock::now() + budget;
      for (; next_ < end; ++next_) {
        if (budget.count() > 0 && sliceRows > 0 && sliceRows % 64 == 0 &&
            std::chrono::steady_clock::now() > deadline) {
          break;
        }
        auto refused = refusedTask(*txn, wave_, next_, seen_);
        if (!refused) return std::unexpected(refused.error());
        if (*refused) {
          rejected = std::move(**refused);
          return ok();  // rolled back: none of this slice
        }
        if (auto s = txn->insertTask(wave_.tasks[next_], where); !s) return s;
        ++sliceRows;
      }
      if (auto c = txn->commit(); !c) return std::unexpected(c.error());
      return ok();
    }();
    (void)store_.setBulkWrites(false);
    if (!staged) return std::unexpected(staged.error());
    if (rejected) {
      // C-C2: none of it; the staged slices go with the sweep.
      auto outcome = recordRejectedWave(store_, command_, *rejected);
      if (!outcome) return std::unexpected(outcome.error());
      outcome_ = *outcome;
      phase_ = Phase::kSweep;
    } else {
      stagedRows_ += sliceRows;
      if (next_ == wave_.tasks.size()) phase_ = Phase::kFinal;
    }
    return std::optional<sync::CommandOutcome>{};
  }

  StepResult finish() {
    auto outcome = applyInTransaction(store_, command_, gen_, stagedRows_);
    if (!outcome) {
      phase_ = Phase::kDone;
      return std::unexpected(outcome.error());
    }
    outcome_ = *outcome;
    auto left = [&]() -> Result<bool> {
      auto txn = store_.begin();
      if (!txn) return std::unexpected(txn.error());
      return txn->ingestLeft(gen_);  // read only: rolled back
    }();
    if (left && !*left) {  // (on an error, the sweep finds out)
      phase_ = Phase::kDone;
      return std::optional<sync::CommandOutcome>{outcome_};
    }
    phase_ = Phase::kSweep;
    return std::optional<sync::CommandOutcome>{};
  }

  // The command is answered; what is left is deleting hidden rows, a slice
  // per step. A failure here loses nothing: the next open sweeps again.
  StepResult sweep() {
    auto done = [&]() -> Result<bool> {
      auto txn = store_.begin();
      if (!txn) return std::unexpected(txn.error());
      auto swept = txn->sweepIngest(gen_);
      if (!swept) return swept;
      return committed(*txn, *swept);
    }();
    if (!done) {
      store_.logger().warn("wave {}: rows of its ingest are left until the next start ({})", wave_.waveId,
                           done.error().describe());
      phase_ = Phase::kDone;
      return std::optional<sync::CommandOutcome>{outcome_};
    }
    if (!*done) return std::optional<sync::CommandOutcome>{};
    phase_ = Phase::kDone;
    return std::optional<sync::CommandOutcome>{outcome_};
  }

  TaskStore& store_;
  sync::Command command_;
  const sync::WaveAssign& wave_;
  Phase phase_ = Phase::kCheck;
  size_t next_ = 0;
  int64_t gen_ = 0;
  int64_t stagedRows_ = 0;
  std::unordered_set<std::string_view> seen_;  // task ids staged so far (views into wave_)
  sync::CommandOutcome outcome_;
};

}  // namespace

Result<sync::CommandOutcome> Commands::apply(const sync::Command& command) {
  return applyInTransaction(store_, command);
}

std::unique_ptr<sync::CommandApplication> Commands::start(sync::Command command) {
  auto* assign = std::get_if<sync::WaveAssign>(&command.body);
  if (assign && assign->tasks.size() > kStageSliceTasks) {
    return std::make_unique<WaveIngest>(store_, std::move(command));
  }
  TaskStore& store = store_;
  return sync::inOneStep([&store](const sync::Command& c) { return applyInTransaction(store, c); },
                         std::move(command));
}

Result<sync::CommandOutcome> Commands::reject(const sync::RejectedCommand& rejected) {
  auto txn = store_.begin();
  if (!txn) return std::unexpected(txn.error());
  auto first = firstAnswer(*txn, rejected.cmdId);
  if (!first) return std::unexpected(first.error());
  Result<sync::CommandOutcome> outcome;
  if (*first) {
    outcome = answerCommand(*txn, rejected.cmdId, rejected.type, **first, true, false);
  } else {
    Answer answer;
    answer.status = "rejected";
    answer.errors = fieldErrors(rejected.errors);
    outcome = answerCommand(*txn, rejected.cmdId, rejected.type, answer, false, true);
  }
  if (!outcome) return outcome;
  return committed(*txn, *outcome);
}

Status Commands::recordInvalid(const sync::InvalidMessage& invalid) {
  Json data;
  data["reason"] = invalid.reason;
  data["head"] = invalid.head;
  sync::EventDraft draft;
  draft.type = "cmd.invalid";
  draft.dataJson = data.dump(-1, ' ', false, Json::error_handler_t::replace);
  auto seq = store_.appendEvent(draft);
  if (!seq) return std::unexpected(seq.error());
  return ok();
}

}  // namespace floorlink::agent
