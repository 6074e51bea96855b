#include "agent/stations/station.h"

#include <fmt/format.h>

#include "agent/workflows/pack_workflow.h"
#include "agent/workflows/pick_workflow.h"
#include "agent/workflows/ship_workflow.h"
#include "core/crash_point.h"

namespace floorlink::agent {

using nlohmann::json;

namespace {

constexpr size_t kScanHistory = 20;

std::unique_ptr<Workflow> makeWorkflow(Station& station) {
  switch (station.kind()) {
    case config::StationKind::kPick: return std::make_unique<PickWorkflow>(station);
    case config::StationKind::kPack: return std::make_unique<PackWorkflow>(station);
    case config::StationKind::kShip: return std::make_unique<ShipWorkflow>(station);
  }
  return std::make_unique<PickWorkflow>(station);
}

}  // namespace

json toJson(const Task& t) {
  json j{{"task_id", t.taskId},
         {"wave_id", t.waveId},
         {"kind", std::string(sync::toString(t.kind))},
         {"order_id", t.orderId},
         {"station", t.station},
         {"claimed_by", t.claimedBy},
         {"state", std::string(toString(t.state))},
         {"priority", t.priority},
         {"bin", t.bin},
         {"sku", t.sku},
         {"qty", t.qty},
         {"qty_done", t.qtyDone},
         {"reason", t.reason},
         {"created_ms", t.createdMs},
         {"updated_ms", t.updatedMs}};
  if (t.sequence) j["sequence"] = *t.sequence;
  if (!t.door.empty()) j["door"] = t.door;
  auto spec = json::parse(t.specJson, nullptr, false);
  if (!spec.is_discarded() && spec.is_object()) {
    if (spec.contains("description")) j["description"] = spec["description"];
    if (spec.contains("gtin")) j["gtin"] = spec["gtin"];
    // Pack: the tolerance band the station screen draws.
    if (spec.contains("expected_weight_g")) j["expected_weight_g"] = spec["expected_weight_g"];
    if (spec.contains("tolerance_g")) j["tolerance_g"] = spec["tolerance_g"];
  }
  return j;
}

json toJson(const StationView& v) {
  json j{{"id", v.id},
         {"kind", std::string(config::toString(v.kind))},
         {"step", std::string(toString(v.step))},
         {"prompt", v.prompt},
         {"message", v.message},
         {"message_is_error", v.messageIsError},
         {"task", v.task ? toJson(*v.task) : json(nullptr)}};
  json scans = json::array();
  for (const auto& s : v.lastScans) {
    scans.push_back({{"at_ms", s.atMs},
                     {"code", s.code},
                     {"symbology", s.symbology},
                     {"source", s.source},
                     {"accepted", s.accepted},
                     {"reason", s.reason},
                     {"message", s.message}});
  }
  j["last_scans"] = scans;
  if (v.weightG) j["weight_g"] = *v.weightG;
  if (v.withinTolerance) j["within_tolerance"] = *v.withinTolerance;
  if (!v.printJobId.empty()) {
    j["print"] = {{"job_id", v.printJobId}, {"state", v.printState}, {"detail", v.printDetail}};
  }
  if (!v.labelCode.empty()) j["label_code"] = v.labelCode;
  return j;
}

Station::Station(config::StationConfig config, StationDeps deps, drivers::ScanClassifier classifier)
    : config_(std::move(config)), deps_(std::move(deps)), classifier_(std::move(classifier)) {
  view_.id = config_.id;
  view_.kind = config_.kind;
  workflow_ = makeWorkflow(*this);
}

Station::~Station() = default;

void Station::changed() {
  if (deps_.onViewChanged) deps_.onViewChanged(config_.id);
}

void Station::setStep(Step step, std::string prompt) {
  view_.step = step;
  view_.prompt = std::move(prompt);
}

void Station::tell(std::string message, bool error) {
  view_.message = std::move(message);
  view_.messageIsError = error;
}

void Station::feedback(bool good) {
  if (deps_.scanner == nullptr || !deps_.scanner->supportsFeedback()) return;
  // The operator holds the scanner whatever typed the code.
  if (auto s = deps_.scanner->feedback(good); !s) {
    deps_.log.debug(LogFields{.device = deps_.scanner->id(), .station = config_.id}, "no scanner feedback: {}",
                    s.error().message);
  }
}

void Station::record(const Scanned& s, bool accepted, std::string reason, std::string message) {
  ScanRecord r;
  r.atMs = deps_.clock.nowMs();
  r.code = s.scan.data;
  r.symbology = std::string(drivers::toString(s.scan.symbology));
  r.source = std::string(toString(s.source));
  r.accepted = accepted;
  r.reason = std::move(reason);
  r.message = std::move(message);
  ++scanCounts_[accepted ? std::string("accepted") : r.reason];
  view_.lastScans.push_front(std::move(r));
  while (view_.lastScans.size() > kScanHistory) view_.lastScans.pop_back();
}

void Station::accept(const Scanned& s, std::string message) {
  record(s, true, "", message);
  tell(std::move(message), false);
  feedback(true);
  changed();
}

void Station::reject(const Scanned& s, std::string reason, std::string message) {
  // The rejection is an event too; the operator hears the bad-read beep
  // whether or not it could be stored.
  sync::EventDraft draft;
  draft.type = "scan.rejected";
  draft.occurredAt = deps_.clock.nowMs();
  draft.station = config_.id;
  if (view_.task) {
    draft.taskId = view_.task->taskId;
    draft.waveId = view_.task->waveId;
  }
  draft.dataJson = json{{"code", s.scan.data},
                        {"symbology", std::string(drivers::toString(s.scan.symbology))},
                        {"reason", reason},
                        {"message", message}}
                       .dump();
  if (auto seq = deps_.store.appendEvent(draft); !seq) {
    deps_.log.error(LogFields{.station = config_.id}, "cannot record scan.rejected: {}", seq.error().message);
  }
  deps_.log.info(LogFields{.station = config_.id, .taskId = view_.task ? view_.task->taskId : ""},
                 "scan \"{}\" rejected: {} ({})", s.scan.data, reason, message);
  record(s, false, reason, message);
  tell(std::move(message), true);
  feedback(false);
  changed();
}

void Station::storeFailed(const Error& e, const Scanned* s) {
  std::string msg = e.code == ErrorCode::kDiskFull
                        ? "STOP: the agent's disk is full, nothing more can be recorded. Call a technician."
                        : "Could not record this step (" + e.message + "). Scan again; if it persists call a technician.";
  deps_.log.error(LogFields{.station = config_.id, .taskId = view_.task ? view_.task->taskId : ""},
                  "step not recorded: {}", e.message);
  if (s) record(*s, false, "not_recorded", msg);
  tell(msg, true);
  if (e.code == ErrorCode::kDiskFull) setStep(Step::kBlocked, "Work is stopped: the agent cannot record anything.");
  feedback(false);
  changed();
}

bool Station::acceptingWork() {
  auto health = deps_.store.health();
  if (health.acceptingWork) return true;
  setStep(Step::kBlocked, "Work is stopped: the agent cannot record anything (" + health.detail + ").");
  return false;
}

Result<std::optional<Task>> Station::commitStep(const StepCommit& step) {
  crashPoint(step.name + ":before_commit");
  std::optional<Task> task;
  {
    auto txn = deps_.store.begin();
    if (!txn) return std::unexpected(txn.error());
    if (!step.taskId.empty()) {
      if (step.claim) {
        auto claimed = txn->setTaskState(step.taskId, TaskState::kActive, TaskUpdate{.claimedBy = config_.id});
        if (!claimed) return std::unexpected(claimed.error());
        task = *claimed;
      }
      if (step.to) {
        auto moved = txn->setTaskState(step.taskId, *step.to, step.update);
        if (!moved) return std::unexpected(moved.error());
        task = *moved;
      } else if (!task) {
        auto found = txn->task(step.taskId);
        if (!found) return std::unexpected(found.error());
        task = *found;
      }
    }
    for (sync::EventDraft e : step.events) {
      if (e.occurredAt == 0) e.occurredAt = deps_.clock.nowMs();
      if (e.station.empty()) e.station = config_.id;
      if (task && e.taskId.empty()) e.taskId = task->taskId;
      if (task && e.waveId.empty()) e.waveId = task->waveId;
      if (auto seq = txn->appendEvent(e); !seq) return std::unexpected(seq.error());
    }
    StationPosition position;
    position.station = config_.id;
    position.taskId = step.positionTaskId;
    position.step = std::string(toString(step.step));
    position.dataJson = step.data.dump();
    if (auto saved = txn->savePosition(position); !saved) return std::unexpected(saved.error());
    if (auto committed = txn->commit(); !committed) return std::unexpected(committed.error());
  }
  crashPoint(step.name + ":after_commit");
  return task;
}

void Station::start() {
  auto position = deps_.store.position(config_.id);
  if (!position) {
    deps_.log.error(LogFields{.station = config_.id}, "cannot read the station's position: {}",
                    position.error().message);
    setStep(Step::kIdle, "Cannot read this station's work: call a technician.");
    changed();
    return;
  }
  workflow_->resume(*position);
  changed();
}

void Station::onCode(const std::string& code, ScanSource source) {
  auto scan = classifier_.classify(code);
  if (!scan) {
    onBadScan(scan.error(), code, source);
    return;
  }
  onScan(*scan, source);
}

void Station::onBadScan(const Error& why, const std::string& raw, ScanSource source) {
  drivers::ScanValue v;
  v.raw = raw;
  v.data = raw;
  reject(Scanned{v, source}, "unreadable", "That barcode could not be read correctly (" + why.message + "). Scan it again.");
}

void Station::onScan(const drivers::ScanValue& scan, ScanSource source) {
  Scanned s{scan, source};
  if (view_.step == Step::kBlocked) {
    if (!acceptingWork()) {
      reject(s, "not_expected_now", view_.prompt);
      return;
    }
    start();  // the store accepts work again: continue where the station stood
  }
  workflow_->onScan(s);
}

void Station::onTaskChanged(const TaskChange& change) { workflow_->onTaskChanged(change); }

void Station::onWorkMayHaveArrived() { workflow_->onWorkMayHaveArrived(); }

void Station::onPrintJob(const printers::PrintJob& job) {
  if (job.station != config_.id) return;
  workflow_->onPrintJob(job);
}

}  // namespace floorlink::agent
