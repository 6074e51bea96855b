#include "agent/workflows/pack_workflow.h"

#include <fmt/format.h>

#include "sync/command_parser.h"

namespace floorlink::agent {

using nlohmann::json;
using printers::JobState;

namespace {

// A platter reading at or below this counts as empty (scale noise, a
// forgotten pen): the next box may be weighed.
constexpr int64_t kEmptyPlatterG = 20;

std::string grams(int64_t g) { return fmt::format("{} g", g); }

}  // namespace

PackWorkflow::PackWorkflow(WorkflowHost& station) : station_(station) {}

PackWorkflow::~PackWorkflow() {
  *alive_ = false;
  stopWatches();
  if (platterWatch_ != 0 && station_.scale() != nullptr) station_.scale()->unwatchReadings(platterWatch_);
}

std::string PackWorkflow::labelKey() const {
  return station_.view().task ? station_.view().task->taskId + "/label/1" : std::string();
}

json PackWorkflow::positionData() const {
  json d{{"platter_must_clear", platterMustClear_}};
  if (weightG_) {
    d["weight_g"] = *weightG_;
    d["within"] = within_;
  }
  return d;
}

bool PackWorkflow::setTask(const Task& task) {
  auto spec = takeTask(station_, task);
  if (!spec) return false;
  spec_ = std::move(spec->pack);
  return true;
}

void PackWorkflow::resume(const std::optional<StationPosition>& position) {
  json data = position ? json::parse(position->dataJson, nullptr, false) : json::object();
  if (!data.is_object()) data = json::object();
  platterMustClear_ = data.value("platter_must_clear", false);
  watchPlatter();
  if (position && !position->taskId.empty()) {
    auto task = station_.store().findTask(position->taskId);
    auto step = parseStep(position->step);
    if (task && *task && (*task)->state == TaskState::kActive && (*task)->claimedBy == station_.id() && step &&
        setTask(**task)) {
      committed_ = *step;
      if (data.contains("weight_g")) {
        weightG_ = data.value("weight_g", int64_t{0});
        within_ = data.value("within", false);
        station_.mutableView().weightG = weightG_;
        station_.mutableView().withinTolerance = within_;
      }
      // Only these steps are ever committed with a task.
      if (*step == Step::kOutOfTolerance) return showOutOfTolerance();
      if (*step == Step::kPrinting) return resumeLabel();
      committed_ = Step::kWeighing;
      return startWeighing();
    }
  }
  loadNext();
}

void PackWorkflow::loadNext() {
  auto& view = station_.mutableView();
  view.task.reset();
  view.weightG.reset();
  view.withinTolerance.reset();
  view.printJobId.clear();
  view.printState.clear();
  view.printDetail.clear();
  view.labelCode.clear();
  weightG_.reset();
  within_ = false;
  job_.reset();
  committed_ = Step::kIdle;
  ++weighGeneration_;
  if (!station_.acceptingWork()) return;
  auto next = nextTaskFor(station_, sync::TaskKind::kPack, "pack");
  if (!next || !setTask(*next)) return;
  if (next->state == TaskState::kActive) {
    committed_ = Step::kWeighing;  // claimed here before positions were kept: nothing weighed for it yet
    startWeighing();
    return;
  }
  station_.setStep(Step::kScanOrder, "Scan the order or tote barcode of the next box (order " + next->orderId + ").");
}

void PackWorkflow::next() {
  std::string done = station_.view().message;
  loadNext();
  station_.tell(done, false);
  station_.changed();
}

void PackWorkflow::onScan(const Scanned& s) {
  Step step = station_.view().step;
  auto cmd = commandOf(s.scan);
  if (step == Step::kIdle || step == Step::kScanOrder) {
    if (cmd) {
      station_.reject(s, "not_expected_now", "Scan the order or tote barcode first.");
      return;
    }
    openOrder(s);
    return;
  }
  const Task t = *station_.view().task;
  if (cmd) {
    if (*cmd == "REWEIGH" && (step == Step::kOutOfTolerance || step == Step::kWeighing)) {
      station_.accept(s, "Weighing again.");
      reweigh();
    } else if (cmd->starts_with("OVERRIDE:") && step == Step::kOutOfTolerance) {
      std::string by = cmd->substr(9);
      if (by.empty()) {
        station_.reject(s, "bad_override", "The override barcode must name the supervisor (CMD:OVERRIDE:<id>).");
        return;
      }
      if (!recordWeight(weightG_.value_or(0), by, &s)) return;
      station_.accept(s, "Weight accepted by supervisor " + by + ".");
      print();
    } else if (*cmd == "REPRINT" && (step == Step::kPrintProblem || step == Step::kScanLabel)) {
      reprint(s);
    } else {
      station_.reject(s, "not_expected_now", "That command does not apply now: " + station_.view().prompt);
    }
    return;
  }
  std::string code = !s.scan.sscc.empty() ? s.scan.sscc : s.scan.data;
  bool isLabel = (!station_.view().labelCode.empty() && code == station_.view().labelCode) ||
                 (!spec_.tracking.empty() && code == spec_.tracking);
  if (step == Step::kScanLabel) {
    if (isLabel) {
      confirmBox(s, code);
    } else {
      station_.reject(s, "wrong_label", "That is not the label of order " + t.orderId + ". Scan the label you just printed.");
    }
    return;
  }
  if (step == Step::kPrintProblem && job_ && job_->state == JobState::kUncertain) {
    // The operator's natural answer to "did it print?": the label is on the box.
    if (!isLabel) {
      station_.reject(s, "wrong_label", "That is not the label of order " + t.orderId +
                                            ". Scan the label if it printed, or CMD:REPRINT.");
      return;
    }
    auto confirmed = station_.printService()->confirm(job_->jobId);
    if (!confirmed) {
      station_.storeFailed(confirmed.error(), &s);
      return;
    }
    job_ = *confirmed;
    confirmBox(s, code);
    return;
  }
  station_.reject(s, "not_expected_now", station_.view().prompt);
}

void PackWorkflow::openOrder(const Scanned& s) {
  std::optional<Task> match;
  const auto& suggested = station_.view().task;
  if (suggested && suggested->state == TaskState::kPending &&
      (s.scan.data == suggested->orderId || s.scan.data == suggested->taskId)) {
    match = suggested;
  } else {
    auto found = station_.store().findPendingPack(station_.id(), s.scan.data);
    if (!found) {
      station_.storeFailed(found.error(), &s);
      return;
    }
    match = *found;
  }
  if (!match) {
    station_.reject(s, "unknown_code", "No open pack task for \"" + s.scan.data + "\" at this bench.");
    return;
  }
  if (!setTask(*match)) return;
  StepCommit c;
  c.name = "pack:order";
  c.taskId = match->taskId;
  c.claim = true;
  c.events.push_back(sync::EventDraft{.type = "task.started", .dataJson = "{}"});
  c.positionTaskId = match->taskId;
  c.step = Step::kWeighing;
  c.data = json{{"platter_must_clear", platterMustClear_}};
  if (!commitClaim(station_, s, c, "This task is no longer available", [this] { loadNext(); })) return;
  committed_ = Step::kWeighing;
  weightG_.reset();
  startWeighing();
  station_.accept(s, "Order " + match->orderId + " opened.");
}

void PackWorkflow::startWeighing() {
  const std::string& order = station_.view().task->orderId;
  if (station_.scale() == nullptr) {
    station_.tell("This bench has no scale configured.", true);
    station_.setStep(Step::kOutOfTolerance, "No scale: a supervisor override is needed.");
    return;
  }
  if (platterMustClear_) {
    station_.setStep(Step::kWeighing, "Take the previous box off the scale, then put the box for order " + order +
                                          " on it.");
    watchPlatter();
    return;
  }
  station_.setStep(Step::kWeighing, "Put the box for order " + order + " on the scale and let it settle.");
  uint64_t generation = ++weighGeneration_;
  station_.scale()->weigh([this, alive = alive_, generation](Result<drivers::Weight> w) {
    if (!*alive || generation != weighGeneration_) return;
    weighed(w);
  });
}

// The packer changed the box: a stable run from before the request must not
// answer it. Wait for the next reading, then ask for a stable weight.
void PackWorkflow::reweigh() {
  if (station_.scale() == nullptr) return startWeighing();
  ++weighGeneration_;  // an earlier weigh in flight no longer matters
  station_.setStep(Step::kWeighing, "Let the box settle on the scale.");
  station_.changed();
  if (reweighWatch_ != 0) station_.scale()->unwatchReadings(reweighWatch_);
  reweighWatch_ = station_.scale()->watchReadings([this, alive = alive_](const drivers::Reading&) {
    if (!*alive || reweighWatch_ == 0) return;
    station_.scale()->unwatchReadings(reweighWatch_);
    reweighWatch_ = 0;
    if (station_.view().task && station_.view().step == Step::kWeighing) startWeighing();
  });
}

void PackWorkflow::watchPlatter() {
  auto* scale = station_.scale();
  if (scale == nullptr || !platterMustClear_ || platterWatch_ != 0) return;
  platterWatch_ = scale->watchReadings([this, alive = alive_](const drivers::Reading& r) {
    if (!*alive || !platterMustClear_) return;
    if (!r.weightKnown || r.grams > kEmptyPlatterG) return;
    platterMustClear_ = false;
    station_.scale()->unwatchReadings(platterWatch_);
    platterWatch_ = 0;
    persist("pack:platter");
    if (station_.view().task && station_.view().step == Step::kWeighing) {
      startWeighing();
      station_.changed();
    }
  });
}

void PackWorkflow::stopWatches() {
  if (reweighWatch_ != 0 && station_.scale() != nullptr) station_.scale()->unwatchReadings(reweighWatch_);
  reweighWatch_ = 0;
}

void PackWorkflow::persist(const char* name) {
  StepCommit c;
  c.name = name;
  bool withTask = committed_ != Step::kIdle && station_.view().task;
  c.positionTaskId = withTask ? station_.view().task->taskId : "";
  c.step = withTask ? committed_ : Step::kIdle;
  c.data = positionData();
  if (auto done = station_.commitStep(c); !done) {
    // Not fatal: after a restart the platter must be seen empty once more.
    station_.log().warn(LogFields{.station = station_.id()}, "cannot record the station's position: {}",
                        done.error().message);
  }
}

void PackWorkflow::weighed(const Result<drivers::Weight>& weight) {
  if (!station_.view().task || station_.view().step != Step::kWeighing) return;
  if (!weight) {
    if (weight.error().code == ErrorCode::kCancelled) return;
    station_.tell("Scale: " + weight.error().message + ". Scan CMD:REWEIGH to try again.", true);
    station_.setStep(Step::kOutOfTolerance, "No stable weight. Check the box sits still on the scale, then re-weigh.");
    station_.feedback(false);
    station_.changed();
    return;
  }
  if (weight->grams <= kEmptyPlatterG) {
    startWeighing();  // an empty platter is no box: keep waiting for one
    return;
  }
  if (!recordWeight(weight->grams, "", nullptr)) return;
  int64_t diff = weight->grams - spec_.expectedWeightG;
  if (within_) {
    station_.tell(fmt::format("{} is within {} ± {} g.", grams(weight->grams), spec_.expectedWeightG, spec_.toleranceG),
                  false);
    station_.feedback(true);
    print();
  } else {
    station_.tell(fmt::format("{} is {} g {} the expected {} ± {} g. Check the box contents.", grams(weight->grams),
                              diff > 0 ? diff - spec_.toleranceG : -diff - spec_.toleranceG,
                              diff > 0 ? "over" : "under", spec_.expectedWeightG, spec_.toleranceG),
                  true);
    showOutOfTolerance();
    station_.feedback(false);
    station_.changed();
  }
}

void PackWorkflow::showOutOfTolerance() {
  station_.setStep(Step::kOutOfTolerance,
                   "Fix the box and scan CMD:REWEIGH, or ask a supervisor to scan the override.");
}

bool PackWorkflow::recordWeight(int64_t grossG, const std::string& overrideBy, const Scanned* s) {
  const Task t = *station_.view().task;
  bool within = grossG >= spec_.expectedWeightG - spec_.toleranceG && grossG <= spec_.expectedWeightG + spec_.toleranceG;
  json data{{"gross_g", grossG},
            {"expected_g", spec_.expectedWeightG},
            {"tolerance_g", spec_.toleranceG},
            {"within_tolerance", within},
            {"scale", station_.config().scale}};
  if (!overrideBy.empty()) data["override"] = {{"by", overrideBy}};
  bool toLabel = within || !overrideBy.empty();
  StepCommit c;
  c.name = overrideBy.empty() ? "pack:weighed" : "pack:override";
  c.taskId = t.taskId;
  c.events.push_back(sync::EventDraft{.type = "pack.weighed", .dataJson = data.dump()});
  c.positionTaskId = t.taskId;
  c.step = toLabel ? Step::kPrinting : Step::kOutOfTolerance;
  c.data = json{{"platter_must_clear", platterMustClear_}, {"weight_g", grossG}, {"within", within}};
  if (auto done = station_.commitStep(c); !done) {
    station_.storeFailed(done.error(), s);
    return false;
  }
  committed_ = c.step;
  weightG_ = grossG;
  within_ = within;
  station_.mutableView().weightG = grossG;
  station_.mutableView().withinTolerance = within;
  station_.log().info(LogFields{.station = station_.id(), .taskId = t.taskId}, "weighed {} g (expected {} ± {}){}",
                      grossG, spec_.expectedWeightG, spec_.toleranceG,
                      overrideBy.empty() ? "" : ", override by " + overrideBy);
  return true;
}

printers::LabelRequest PackWorkflow::labelRequest(std::string key) const {
  const Task& t = *station_.view().task;
  printers::LabelRequest req;
  req.idempotencyKey = std::move(key);
  req.printer = station_.printerId();
  req.taskId = t.taskId;
  req.station = station_.id();
  req.waveId = t.waveId;
  req.orderId = t.orderId;
  req.templateName = spec_.label.templateName;
  req.fields = spec_.label.fields;
  req.sscc = spec_.sscc;
  req.tracking = spec_.tracking;
  req.carrier = spec_.carrier;
  return req;
}

void PackWorkflow::print(bool resumed) {
  auto* service = station_.printService();
  const Task& t = *station_.view().task;
  if (service == nullptr) {
    station_.tell("This bench has no printer configured: call a technician.", true);
    station_.setStep(Step::kPrintProblem, "No printer: call a technician.");
    station_.changed();
    return;
  }
  printers::LabelRequest req = labelRequest(labelKey());
  req.waitForPrinter = resumed;
  station_.setStep(Step::kPrinting, "Printing the label for order " + t.orderId + "…");
  station_.changed();
  service->submit(req, [this, alive = alive_](const Result<printers::PrintJob>& job) {
    if (*alive) printAnswered(job);
  });
}

void PackWorkflow::resumeLabel() {
  auto* service = station_.printService();
  if (service == nullptr) return print();
  auto job = service->current(labelKey());
  if (!job) {
    station_.storeFailed(job.error(), nullptr);
    return;
  }
  // No job yet (stopped before journaling) or journaled but never sent:
  // submitting prints it, once.
  if (!*job || (*job)->state == JobState::kQueued) return print(true);
  applyJob(**job);
}

void PackWorkflow::printAnswered(const Result<printers::PrintJob>& job) {
  if (!station_.view().task) return;
  if (!job) {
    station_.mutableView().printState = "failed";
    station_.mutableView().printDetail = job.error().message;
    station_.tell("The label could not be printed: " + job.error().message, true);
    station_.setStep(Step::kPrintProblem, "Call a technician, then scan CMD:REPRINT.");
    station_.feedback(false);
    station_.changed();
    return;
  }
  onPrintJob(*job);
}

void PackWorkflow::onPrintJob(const printers::PrintJob& job) {
  const auto& task = station_.view().task;
  if (!task || job.taskId != task->taskId || committed_ != Step::kPrinting) return;
  std::string key = labelKey();
  if (job.idempotencyKey != key && !job.idempotencyKey.starts_with(key + "/reprint-")) return;
  if (job_ && job_->jobId != job.jobId && job.createdMs < job_->createdMs) return;  // an older attempt
  applyJob(job);
  station_.changed();
}

void PackWorkflow::applyJob(const printers::PrintJob& job) {
  job_ = job;
  auto& view = station_.mutableView();
  Step before = view.step;
  view.printJobId = job.jobId;
  view.printState = std::string(printers::toString(job.state));
  view.printDetail = job.detail;
  view.labelCode = !job.sscc.empty() ? job.sscc : job.tracking;
  const std::string& order = view.task->orderId;
  switch (job.state) {
    case JobState::kQueued:
    case JobState::kSent:
      station_.setStep(Step::kPrinting, "Printing the label for order " + order + "…");
      return;
    case JobState::kConfirmed:
      station_.tell("Label printed" + std::string(job.verified ? " and verified" : "") + ". Stick it on the box.",
                    false);
      station_.setStep(Step::kScanLabel, "Scan the label on the box to confirm it (" + view.labelCode + ").");
      return;
    case JobState::kUncertain:
      station_.tell("The printer did not confirm the label (" + job.detail +
                        "). Look at the printer: if the label is there, scan it; if not, scan CMD:REPRINT.",
                    true);
      station_.setStep(Step::kPrintProblem, "Scan the label if it printed, or CMD:REPRINT.");
      break;
    case JobState::kFailed:
      if (job.cause == printers::FailureCause::kLabel) {
        station_.tell("The label cannot be made: " + job.detail + ". Call a technician.", true);
        station_.setStep(Step::kPrintProblem, "Call a technician to fix the label set-up, then scan CMD:REPRINT.");
      } else {
        station_.tell("The printer did not print the label: " + job.detail, true);
        station_.setStep(Step::kPrintProblem, "Fix the printer (see the printer's display), then scan CMD:REPRINT.");
      }
      break;
    case JobState::kCancelled:
    case JobState::kExpired:
      station_.tell("The label job " + job.jobId + " was " + std::string(printers::toString(job.state)) +
                        (job.detail.empty() ? "" : " (" + job.detail + ")") + ".",
                    true);
      station_.setStep(Step::kPrintProblem, "Scan CMD:REPRINT to print the label.");
      break;
  }
  if (before != Step::kPrintProblem) station_.feedback(false);
}

void PackWorkflow::reprint(const Scanned& s) {
  auto* service = station_.printService();
  if (service == nullptr || !job_) {
    station_.accept(s, "Printing the label again.");
    return print();
  }
  if (job_->zpl.empty()) {
    // The label was never made (a set-up problem, now fixed?): make it anew
    // under the next reprint key.
    int n = 1;
    std::string key = labelKey();
    if (job_->idempotencyKey.starts_with(key + "/reprint-")) {
      n = std::atoi(job_->idempotencyKey.c_str() + key.size() + 9) + 1;
    }
    station_.accept(s, "Making the label again.");
    const Task& t = *station_.view().task;
    printers::LabelRequest req = labelRequest(key + "/reprint-" + std::to_string(n));
    station_.setStep(Step::kPrinting, "Printing the label for order " + t.orderId + "…");
    station_.changed();
    service->submit(req, [this, alive = alive_](const Result<printers::PrintJob>& job) {
      if (*alive) printAnswered(job);
    });
    return;
  }
  station_.accept(s, "Printing the label again.");
  station_.setStep(Step::kPrinting, "Printing the label…");
  station_.changed();
  service->reprint(job_->jobId, [this, alive = alive_](const Result<printers::PrintJob>& job) {
    if (*alive) printAnswered(job);
  });
}

void PackWorkflow::confirmBox(const Scanned& s, const std::string& code) {
  const Task t = *station_.view().task;
  StepCommit c;
  c.name = "pack:confirmed";
  c.taskId = t.taskId;
  c.to = TaskState::kDone;
  json data{{"code", code}, {"gross_g", weightG_.value_or(0)}, {"job_id", job_ ? job_->jobId : ""}};
  c.events.push_back(sync::EventDraft{.type = "pack.confirmed", .dataJson = data.dump()});
  c.step = Step::kIdle;
  c.data = json{{"platter_must_clear", station_.scale() != nullptr}};
  if (auto done = station_.commitStep(c); !done) {
    station_.storeFailed(done.error(), &s);
    return;
  }
  platterMustClear_ = station_.scale() != nullptr;
  station_.accept(s, "Box for order " + t.orderId + " is packed.");
  watchPlatter();
  next();
}

void PackWorkflow::onTaskChanged(const TaskChange& change) {
  const auto& task = station_.view().task;
  if (!task || change.taskId != task->taskId) return;
  if (change.to == TaskState::kCancelled) {
    stopWatches();
    stopCancelledTask(station_, change.taskId, "Set the box aside.", [this] { loadNext(); });
  } else if (!change.to || (change.to == TaskState::kActive && change.station != station_.id())) {
    // Replaced by a new revision, or the suggested task was taken elsewhere.
    if (committed_ != Step::kIdle) return;
    loadNext();
    station_.changed();
  }
}

void PackWorkflow::onWorkMayHaveArrived() {
  lookForWork(station_, [this] { loadNext(); });
}

}  // namespace floorlink::agent
