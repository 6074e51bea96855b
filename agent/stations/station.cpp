#include "agent/stations/station.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace floorlink::agent {

using nlohmann::json;

namespace {

constexpr size_t kScanHistory = 20;
// A platter reading at or below this counts as empty (scale noise, a
// forgotten pen): the next box may be weighed.
constexpr int64_t kEmptyPlatterG = 20;

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// EAN-8, UPC-A, EAN-13 and GTIN-14 all compare as GTIN-14.
std::string gtin14(std::string_view s) {
  if (!allDigits(s) || !(s.size() == 8 || s.size() == 12 || s.size() == 13 || s.size() == 14)) return {};
  return std::string(14 - s.size(), '0') + std::string(s);
}

std::string dateText(const std::optional<drivers::gs1::Date>& d) {
  if (!d) return {};
  return fmt::format("{:04d}-{:02d}-{:02d}", d->year, d->month, d->day);
}

std::string grams(int64_t g) { return fmt::format("{} g", g); }

}  // namespace

std::string_view toString(ScanSource source) {
  switch (source) {
    case ScanSource::kScanner: return "scanner";
    case ScanSource::kInjected: return "injected";
    case ScanSource::kKeyboard: return "keyboard";
  }
  return "scanner";
}

std::string_view toString(Step step) {
  switch (step) {
    case Step::kIdle: return "idle";
    case Step::kScanBin: return "scan_bin";
    case Step::kScanItem: return "scan_item";
    case Step::kScanOrder: return "scan_order";
    case Step::kWeighing: return "weighing";
    case Step::kOutOfTolerance: return "out_of_tolerance";
    case Step::kPrinting: return "printing";
    case Step::kPrintProblem: return "print_problem";
    case Step::kScanLabel: return "scan_label";
    case Step::kScanParcel: return "scan_parcel";
    case Step::kBlocked: return "blocked";
  }
  return "idle";
}

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
}

Station::~Station() {
  *alive_ = false;
  stopPlatterWatch();
  if (reweighWatch_ != 0 && deps_.scale != nullptr) deps_.scale->unwatchReadings(reweighWatch_);
}

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

void Station::feedback(bool good, ScanSource source) {
  if (deps_.scanner == nullptr || !deps_.scanner->supportsFeedback()) return;
  (void)source;  // the picker holds the scanner whatever typed the code
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
  feedback(true, s.source);
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
  feedback(false, s.source);
  changed();
}

bool Station::storeFailed(const Error& e, const Scanned* s) {
  std::string msg = e.code == ErrorCode::kDiskFull
                        ? "STOP: the agent's disk is full, nothing more can be recorded. Call a technician."
                        : "Could not record this step (" + e.message + "). Scan again; if it persists call a technician.";
  deps_.log.error(LogFields{.station = config_.id, .taskId = view_.task ? view_.task->taskId : ""},
                  "step not recorded: {}", e.message);
  if (s) record(*s, false, "not_recorded", msg);
  tell(msg, true);
  if (e.code == ErrorCode::kDiskFull) setStep(Step::kBlocked, "Work is stopped: the agent cannot record anything.");
  feedback(false, s ? s->source : ScanSource::kScanner);
  changed();
  return true;
}

std::optional<std::string> Station::commandOf(const drivers::ScanValue& scan) const {
  if (scan.kind == drivers::ScanKind::kCommand) return scan.command;
  if (scan.data.starts_with("CMD:")) return scan.data.substr(4);
  return std::nullopt;
}

void Station::start() {
  refresh();
  changed();
}

void Station::refresh() {
  view_.task.reset();
  spec_ = json::object();
  haveLastItem_ = false;
  view_.weightG.reset();
  view_.withinTolerance.reset();
  view_.printJobId.clear();
  view_.printState.clear();
  view_.printDetail.clear();
  view_.labelCode.clear();
  if (!deps_.store.health().acceptingWork) {
    setStep(Step::kBlocked, "Work is stopped: the agent cannot record anything (" + deps_.store.health().detail + ").");
    return;
  }
  if (config_.kind == config::StationKind::kShip) {
    setStep(Step::kScanParcel, "Scan the SSCC or tracking label of each parcel you load.");
    return;
  }
  auto kind = config_.kind == config::StationKind::kPick ? sync::TaskKind::kPick : sync::TaskKind::kPack;
  auto next = deps_.store.nextTask(config_.id, kind);
  if (!next) {
    deps_.log.error(LogFields{.station = config_.id}, "cannot read the next task: {}", next.error().message);
    setStep(Step::kIdle, "Cannot read tasks: call a technician.");
    return;
  }
  if (!*next) {
    setStep(Step::kIdle, config_.kind == config::StationKind::kPick ? "No pick task. Wait for the next wave."
                                                                   : "No pack task. Wait for the next wave.");
    return;
  }
  view_.task = **next;
  spec_ = json::parse(view_.task->specJson, nullptr, false);
  if (spec_.is_discarded() || !spec_.is_object()) spec_ = json::object();
  const auto& t = *view_.task;
  if (config_.kind == config::StationKind::kPick) {
    if (t.state == TaskState::kActive) {
      setStep(Step::kScanItem, fmt::format("Pick {} × {} ({}) from {}: {} of {} done.", t.qty, t.sku,
                                           spec_.value("description", ""), t.bin, t.qtyDone, t.qty));
    } else {
      setStep(Step::kScanBin, fmt::format("Go to bin {} and scan its label. Then pick {} × {} ({}).", t.bin, t.qty,
                                          t.sku, spec_.value("description", "")));
    }
  } else if (t.state == TaskState::kActive) {
    // Resumed after a restart: weigh again; printing is idempotent per task,
    // so a label already printed is not printed twice.
    setStep(Step::kWeighing, "Put the box for order " + t.orderId + " on the scale.");
    packWeigh();
  } else {
    setStep(Step::kScanOrder, "Scan the order or tote barcode of the next box (order " + t.orderId + ").");
  }
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
    refresh();
    if (view_.step == Step::kBlocked) {
      reject(s, "not_expected_now", view_.prompt);
      return;
    }
  }
  switch (config_.kind) {
    case config::StationKind::kPick: pickScan(s); break;
    case config::StationKind::kPack: packScan(s); break;
    case config::StationKind::kShip: shipScan(s); break;
  }
}

bool Station::startTask(const Scanned& s) {
  auto txn = deps_.store.begin();
  if (!txn) return !storeFailed(txn.error(), &s);
  auto task = txn->setTaskState(view_.task->taskId, TaskState::kActive, TaskUpdate{.claimedBy = config_.id});
  if (!task) {
    // Taken by another station or cancelled meanwhile.
    reject(s, "not_expected_now", "This task is no longer available (" + task.error().message + ").");
    refresh();
    changed();
    return false;
  }
  sync::EventDraft draft{"task.started", deps_.clock.nowMs(), config_.id, task->taskId, task->waveId, "{}"};
  if (auto e = txn->appendEvent(draft); !e) return !storeFailed(e.error(), &s);
  if (auto c = txn->commit(); !c) return !storeFailed(c.error(), &s);
  view_.task = *task;
  return true;
}

// ---------------------------------------------------------------- pick

void Station::pickScan(const Scanned& s) {
  if (!view_.task) {
    refresh();
    if (!view_.task) {
      reject(s, "not_expected_now", "There is no pick task for this station right now.");
      return;
    }
  }
  const auto& t = *view_.task;
  const std::string taskGtin = gtin14(spec_.value("gtin", ""));
  auto isBin = [&] {
    return s.scan.data == t.bin || (s.scan.kind == drivers::ScanKind::kBinLabel && s.scan.bin == t.bin);
  };
  auto isItem = [&] {
    std::string g = !s.scan.gtin.empty() ? s.scan.gtin : gtin14(s.scan.data);
    if (!g.empty() && !taskGtin.empty() && g == taskGtin) return true;
    return s.scan.data == t.sku;
  };
  if (auto cmd = commandOf(s.scan)) {
    if (view_.step != Step::kScanItem) {
      reject(s, "not_expected_now", "Scan the bin label " + t.bin + " first.");
    } else if (*cmd == "SHORT") {
      pickShort(s);
    } else if (cmd->starts_with("QTY:")) {
      int64_t n = -1;
      std::string_view num = std::string_view(*cmd).substr(4);
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
      if (ec != std::errc() || end != num.data() + num.size() || n < 0 || n > t.qty) {
        reject(s, "bad_quantity", fmt::format("The quantity must be from 0 to {}.", t.qty));
      } else {
        pickCount(s, n, false);
      }
    } else {
      reject(s, "unknown_code", "The command \"" + *cmd + "\" means nothing at a pick station.");
    }
    return;
  }
  if (view_.step == Step::kScanBin) {
    if (isBin()) {
      if (!startTask(s)) return;
      setStep(Step::kScanItem, fmt::format("Pick {} × {} ({}) from {}: 0 of {} done.", t.qty, t.sku,
                                           spec_.value("description", ""), t.bin, t.qty));
      accept(s, "Bin " + t.bin + " confirmed.");
    } else if (isItem()) {
      reject(s, "not_expected_now", "Scan the bin label " + t.bin + " before the item.");
    } else {
      reject(s, "wrong_bin", "Wrong bin: this is not " + t.bin + ". Go to bin " + t.bin + ".");
    }
    return;
  }
  // kScanItem
  if (isItem()) {
    lastItem_ = s.scan;
    haveLastItem_ = true;
    pickCount(s, t.qtyDone + 1, true);
  } else if (isBin()) {
    accept(s, "Bin " + t.bin + " is already confirmed: scan the items.");
  } else if (s.scan.kind == drivers::ScanKind::kGtin || !s.scan.gtin.empty() || gtin14(s.scan.data).size() == 14) {
    reject(s, "wrong_item", "Wrong item: this is not " + t.sku + " (" + spec_.value("description", "") + ").");
  } else if (s.scan.kind == drivers::ScanKind::kBinLabel) {
    reject(s, "wrong_bin", "That is another bin. Pick from " + t.bin + ".");
  } else {
    reject(s, "wrong_item", "Wrong item: \"" + s.scan.data + "\" is not " + t.sku + ".");
  }
}

void Station::pickCount(const Scanned& s, int64_t newCount, bool fromItem) {
  const Task t = *view_.task;
  auto txn = deps_.store.begin();
  if (!txn) {
    storeFailed(txn.error(), &s);
    return;
  }
  bool complete = newCount >= t.qty;
  auto updated = txn->setTaskState(t.taskId, complete ? TaskState::kDone : TaskState::kActive,
                                   TaskUpdate{.qtyDone = newCount});
  if (!updated) {
    storeFailed(updated.error(), &s);
    return;
  }
  if (complete) {
    json data{{"bin", t.bin}, {"sku", t.sku}, {"gtin", spec_.value("gtin", "")}, {"qty", newCount}};
    if (haveLastItem_) {
      if (!lastItem_.lot.empty()) data["lot"] = lastItem_.lot;
      if (lastItem_.expiry) data["expiry"] = dateText(lastItem_.expiry);
      if (!lastItem_.serial.empty()) data["serial"] = lastItem_.serial;
    }
    sync::EventDraft draft{"pick.confirmed", deps_.clock.nowMs(), config_.id, t.taskId, t.waveId, data.dump()};
    if (auto e = txn->appendEvent(draft); !e) {
      storeFailed(e.error(), &s);
      return;
    }
  }
  if (auto c = txn->commit(); !c) {
    storeFailed(c.error(), &s);
    return;
  }
  deps_.log.info(LogFields{.station = config_.id, .taskId = t.taskId}, "picked {} of {}{}", newCount, t.qty,
                 complete ? ": task done" : "");
  if (complete) {
    accept(s, fmt::format("Done: {} × {} picked from {}.", newCount, t.sku, t.bin));
    std::string done = view_.message;
    refresh();
    tell(done, false);
    changed();
    return;
  }
  view_.task = *updated;
  setStep(Step::kScanItem, fmt::format("Pick {} × {} ({}) from {}: {} of {} done.", t.qty, t.sku,
                                       spec_.value("description", ""), t.bin, newCount, t.qty));
  accept(s, fromItem ? fmt::format("{} of {}.", newCount, t.qty) : fmt::format("Count set to {} of {}.", newCount, t.qty));
}

void Station::pickShort(const Scanned& s) {
  const Task t = *view_.task;
  auto txn = deps_.store.begin();
  if (!txn) {
    storeFailed(txn.error(), &s);
    return;
  }
  std::string reason = "operator: not enough stock in bin";
  auto updated = txn->setTaskState(t.taskId, TaskState::kShort, TaskUpdate{.reason = reason});
  if (!updated) {
    storeFailed(updated.error(), &s);
    return;
  }
  json data{{"qty_picked", t.qtyDone}, {"qty_missing", t.qty - t.qtyDone}, {"reason", reason}};
  sync::EventDraft draft{"pick.short", deps_.clock.nowMs(), config_.id, t.taskId, t.waveId, data.dump()};
  if (auto e = txn->appendEvent(draft); !e) {
    storeFailed(e.error(), &s);
    return;
  }
  if (auto c = txn->commit(); !c) {
    storeFailed(c.error(), &s);
    return;
  }
  accept(s, fmt::format("Short pick recorded: {} of {} picked, {} missing.", t.qtyDone, t.qty, t.qty - t.qtyDone));
  std::string done = view_.message;
  refresh();
  tell(done, false);
  changed();
}

// ---------------------------------------------------------------- pack

void Station::packScan(const Scanned& s) {
  auto cmd = commandOf(s.scan);
  if (view_.step == Step::kIdle || view_.step == Step::kScanOrder) {
    if (cmd) {
      reject(s, "not_expected_now", "Scan the order or tote barcode first.");
      return;
    }
    // The box's order barcode (or the task id) opens its pack task.
    std::optional<Task> match;
    if (view_.task && (s.scan.data == view_.task->orderId || s.scan.data == view_.task->taskId)) {
      match = view_.task;
    } else {
      TaskFilter f;
      f.state = TaskState::kPending;
      f.limit = 100000;
      auto pending = deps_.store.tasks(f);
      if (pending) {
        for (auto& t : *pending) {
          if (t.kind == sync::TaskKind::kPack && (t.station.empty() || t.station == config_.id) &&
              (t.orderId == s.scan.data || t.taskId == s.scan.data)) {
            match = t;
            break;
          }
        }
      }
    }
    if (!match) {
      reject(s, "unknown_code", "No open pack task for \"" + s.scan.data + "\" at this bench.");
      return;
    }
    view_.task = *match;
    spec_ = json::parse(match->specJson, nullptr, false);
    if (spec_.is_discarded() || !spec_.is_object()) spec_ = json::object();
    if (!startTask(s)) return;
    accept(s, "Order " + match->orderId + " opened.");
    setStep(Step::kWeighing, "Put the box for order " + match->orderId + " on the scale.");
    changed();
    packWeigh();
    return;
  }
  const Task& t = *view_.task;
  if (cmd) {
    if (*cmd == "REWEIGH" && (view_.step == Step::kOutOfTolerance || view_.step == Step::kWeighing)) {
      accept(s, "Weighing again.");
      packReweigh();
    } else if (cmd->starts_with("OVERRIDE:") && view_.step == Step::kOutOfTolerance) {
      std::string by = cmd->substr(9);
      if (by.empty()) {
        reject(s, "bad_override", "The override barcode must name the supervisor (CMD:OVERRIDE:<id>).");
        return;
      }
      packRecordWeight(pendingWeightG_, by);
      if (view_.step == Step::kBlocked) return;
      accept(s, "Weight accepted by supervisor " + by + ".");
      packPrint();
    } else if (*cmd == "REPRINT" && view_.step == Step::kPrintProblem) {
      accept(s, "Printing the label again.");
      setStep(Step::kPrinting, "Printing the label…");
      changed();
      deps_.printService->reprint(view_.printJobId, [this, alive = alive_](const Result<printers::PrintJob>& job) {
        if (*alive) packPrinted(job);
      });
    } else {
      reject(s, "not_expected_now", "That command does not apply now: " + view_.prompt);
    }
    return;
  }
  if (view_.step == Step::kScanLabel) {
    std::string code = !s.scan.sscc.empty() ? s.scan.sscc : s.scan.data;
    if (code == view_.labelCode || (!spec_.value("tracking", "").empty() && code == spec_.value("tracking", ""))) {
      packConfirm(s, code);
    } else {
      reject(s, "wrong_label", "That is not the label of order " + t.orderId + ". Scan the label you just printed.");
    }
    return;
  }
  reject(s, "not_expected_now", view_.prompt);
}

void Station::packWeigh() {
  if (deps_.scale == nullptr) {
    tell("This bench has no scale configured.", true);
    setStep(Step::kOutOfTolerance, "No scale: a supervisor override is needed.");
    return;
  }
  if (platterMustClear_) {
    setStep(Step::kWeighing, "Take the previous box off the scale, then put the box for order " +
                                 view_.task->orderId + " on it.");
    weighAfterClear_ = true;
    changed();
    return;
  }
  setStep(Step::kWeighing, "Put the box for order " + view_.task->orderId + " on the scale and let it settle.");
  uint64_t generation = ++weighGeneration_;
  deps_.scale->weigh([this, alive = alive_, generation](Result<drivers::Weight> w) {
    if (!*alive || generation != weighGeneration_) return;
    packWeighed(w);
  });
}

// The packer changed the box: a stable run from before the request must not
// answer it. Wait for the next reading, then ask for a stable weight (an
// unchanged box is answered at once, a changed one once it settles).
void Station::packReweigh() {
  if (deps_.scale == nullptr) {
    packWeigh();
    return;
  }
  ++weighGeneration_;  // an earlier weigh in flight no longer matters
  setStep(Step::kWeighing, "Let the box settle on the scale.");
  changed();
  if (reweighWatch_ != 0) deps_.scale->unwatchReadings(reweighWatch_);
  reweighWatch_ = deps_.scale->watchReadings([this, alive = alive_](const drivers::Reading&) {
    if (!*alive || reweighWatch_ == 0) return;
    deps_.scale->unwatchReadings(reweighWatch_);
    reweighWatch_ = 0;
    if (view_.task && view_.step == Step::kWeighing) packWeigh();
  });
}

void Station::watchForEmptyPlatter() {
  if (deps_.scale == nullptr) return;
  stopPlatterWatch();
  platterMustClear_ = true;
  platterWatch_ = deps_.scale->watchReadings([this, alive = alive_](const drivers::Reading& r) {
    if (!*alive || !platterMustClear_) return;
    if (!r.weightKnown || r.grams > kEmptyPlatterG) return;
    platterMustClear_ = false;
    // Unwatch outside the scale's callback loop.
    deps_.scale->unwatchReadings(platterWatch_);
    platterWatch_ = 0;
    if (weighAfterClear_ && view_.task && view_.step == Step::kWeighing) {
      weighAfterClear_ = false;
      packWeigh();
      changed();
    }
  });
}

void Station::stopPlatterWatch() {
  if (platterWatch_ != 0 && deps_.scale != nullptr) deps_.scale->unwatchReadings(platterWatch_);
  platterWatch_ = 0;
}

void Station::packWeighed(const Result<drivers::Weight>& weight) {
  if (!view_.task) return;
  if (!weight) {
    if (weight.error().code == ErrorCode::kCancelled) return;
    tell("Scale: " + weight.error().message + ". Scan CMD:REWEIGH to try again.", true);
    setStep(Step::kOutOfTolerance, "No stable weight. Check the box sits still on the scale, then re-weigh.");
    feedback(false, ScanSource::kScanner);
    changed();
    return;
  }
  if (weight->grams <= kEmptyPlatterG) {
    packWeigh();  // an empty platter is no box: keep waiting for one
    return;
  }
  int64_t expected = spec_.value("expected_weight_g", int64_t{0});
  int64_t tolerance = spec_.value("tolerance_g", int64_t{0});
  int64_t diff = weight->grams - expected;
  bool within = diff >= -tolerance && diff <= tolerance;
  pendingWeightG_ = weight->grams;
  packRecordWeight(weight->grams, "");
  if (view_.step == Step::kBlocked) return;
  if (within) {
    tell(fmt::format("{} is within {} ± {} g.", grams(weight->grams), expected, tolerance), false);
    feedback(true, ScanSource::kScanner);
    packPrint();
  } else {
    tell(fmt::format("{} is {} g {} the expected {} ± {} g. Check the box contents.", grams(weight->grams),
                     diff > 0 ? diff - tolerance : -diff - tolerance, diff > 0 ? "over" : "under", expected, tolerance),
         true);
    setStep(Step::kOutOfTolerance, "Fix the box and scan CMD:REWEIGH, or ask a supervisor to scan the override.");
    feedback(false, ScanSource::kScanner);
    changed();
  }
}

void Station::packRecordWeight(int64_t grossG, const std::string& overrideBy) {
  const Task t = *view_.task;
  int64_t expected = spec_.value("expected_weight_g", int64_t{0});
  int64_t tolerance = spec_.value("tolerance_g", int64_t{0});
  bool within = grossG >= expected - tolerance && grossG <= expected + tolerance;
  auto txn = deps_.store.begin();
  if (!txn) {
    storeFailed(txn.error(), nullptr);
    return;
  }
  auto updated = txn->setTaskState(t.taskId, TaskState::kActive);
  if (!updated) {
    storeFailed(updated.error(), nullptr);
    return;
  }
  json data{{"gross_g", grossG},
            {"expected_g", expected},
            {"tolerance_g", tolerance},
            {"within_tolerance", within},
            {"scale", config_.scale}};
  if (!overrideBy.empty()) data["override"] = {{"by", overrideBy}};
  sync::EventDraft draft{"pack.weighed", deps_.clock.nowMs(), config_.id, t.taskId, t.waveId, data.dump()};
  if (auto e = txn->appendEvent(draft); !e) {
    storeFailed(e.error(), nullptr);
    return;
  }
  if (auto c = txn->commit(); !c) {
    storeFailed(c.error(), nullptr);
    return;
  }
  view_.weightG = grossG;
  view_.withinTolerance = within;
  deps_.log.info(LogFields{.station = config_.id, .taskId = t.taskId}, "weighed {} g (expected {} ± {}){}", grossG,
                 expected, tolerance, overrideBy.empty() ? "" : ", override by " + overrideBy);
}

void Station::packPrint() {
  if (deps_.printService == nullptr) {
    tell("This bench has no printer configured.", true);
    setStep(Step::kPrintProblem, "No printer: call a technician.");
    changed();
    return;
  }
  const Task& t = *view_.task;
  printers::LabelRequest req;
  req.idempotencyKey = t.taskId + "/label/1";
  req.printer = deps_.printerId;
  req.taskId = t.taskId;
  req.station = config_.id;
  req.waveId = t.waveId;
  req.orderId = t.orderId;
  if (spec_.contains("label") && spec_["label"].is_object()) {
    req.templateName = spec_["label"].value("template", "");
    if (spec_["label"].contains("fields") && spec_["label"]["fields"].is_object()) {
      for (auto& [k, v] : spec_["label"]["fields"].items()) {
        if (v.is_string()) req.fields[k] = v.get<std::string>();
      }
    }
  }
  req.sscc = spec_.value("sscc", "");
  req.tracking = spec_.value("tracking", "");
  req.carrier = spec_.value("carrier", "");
  setStep(Step::kPrinting, "Printing the label for order " + t.orderId + "…");
  changed();
  deps_.printService->submit(req, [this, alive = alive_](const Result<printers::PrintJob>& job) {
    if (*alive) packPrinted(job);
  });
}

void Station::packPrinted(const Result<printers::PrintJob>& job) {
  if (!view_.task) return;
  if (!job) {
    view_.printState = "failed";
    view_.printDetail = job.error().message;
    tell("The label could not be printed: " + job.error().message, true);
    setStep(Step::kPrintProblem, "Fix the printer or the template, then scan CMD:REPRINT.");
    feedback(false, ScanSource::kScanner);
    changed();
    return;
  }
  view_.printJobId = job->jobId;
  view_.printState = std::string(printers::toString(job->state));
  view_.printDetail = job->detail;
  switch (job->state) {
    case printers::JobState::kConfirmed:
      view_.labelCode = !job->sscc.empty() ? job->sscc : job->tracking;
      tell("Label printed" + std::string(job->verified ? " and verified" : "") + ". Stick it on the box.", false);
      setStep(Step::kScanLabel, "Scan the label on the box to confirm it (" + view_.labelCode + ").");
      break;
    case printers::JobState::kUncertain:
      tell("The printer did not confirm the label (" + job->detail +
               "). Look at the printer: if the label is there, scan it; if not, scan CMD:REPRINT.",
           true);
      view_.labelCode = !job->sscc.empty() ? job->sscc : job->tracking;
      setStep(Step::kPrintProblem, "Scan the label if it printed, or CMD:REPRINT.");
      break;
    case printers::JobState::kFailed:
    case printers::JobState::kQueued:
    case printers::JobState::kSent:
    case printers::JobState::kCancelled:
    case printers::JobState::kExpired:
      tell("The label was not printed: " + job->detail, true);
      setStep(Step::kPrintProblem, "Fix the printer (see the printer's display), then scan CMD:REPRINT.");
      feedback(false, ScanSource::kScanner);
      break;
  }
  changed();
}

void Station::packConfirm(const Scanned& s, const std::string& code) {
  const Task t = *view_.task;
  auto txn = deps_.store.begin();
  if (!txn) {
    storeFailed(txn.error(), &s);
    return;
  }
  auto updated = txn->setTaskState(t.taskId, TaskState::kDone);
  if (!updated) {
    storeFailed(updated.error(), &s);
    return;
  }
  json data{{"code", code}, {"gross_g", view_.weightG.value_or(0)}, {"job_id", view_.printJobId}};
  sync::EventDraft draft{"pack.confirmed", deps_.clock.nowMs(), config_.id, t.taskId, t.waveId, data.dump()};
  if (auto e = txn->appendEvent(draft); !e) {
    storeFailed(e.error(), &s);
    return;
  }
  if (auto c = txn->commit(); !c) {
    storeFailed(c.error(), &s);
    return;
  }
  accept(s, "Box for order " + t.orderId + " is packed.");
  watchForEmptyPlatter();
  std::string done = view_.message;
  refresh();
  tell(done, false);
  changed();
}

// ---------------------------------------------------------------- ship

void Station::shipScan(const Scanned& s) {
  std::string code = !s.scan.sscc.empty() ? s.scan.sscc : s.scan.data;
  if (commandOf(s.scan)) {
    reject(s, "unknown_code", "Commands mean nothing at a dock door: scan parcel labels.");
    return;
  }
  TaskFilter f;
  f.state = TaskState::kPending;
  f.limit = 100000;
  auto pending = deps_.store.tasks(f);
  if (!pending) {
    storeFailed(pending.error(), &s);
    return;
  }
  std::optional<Task> match;
  json matchSpec;
  for (auto& t : *pending) {
    if (t.kind != sync::TaskKind::kShip || !(t.station.empty() || t.station == config_.id)) continue;
    auto spec = json::parse(t.specJson, nullptr, false);
    if (spec.is_discarded()) continue;
    if ((!spec.value("sscc", "").empty() && spec.value("sscc", "") == code) ||
        (!spec.value("tracking", "").empty() && spec.value("tracking", "") == code)) {
      match = t;
      matchSpec = spec;
      break;
    }
  }
  if (!match) {
    reject(s, "unknown_code", "No parcel \"" + code + "\" is expected at this door.");
    return;
  }
  auto txn = deps_.store.begin();
  if (!txn) {
    storeFailed(txn.error(), &s);
    return;
  }
  auto active = txn->setTaskState(match->taskId, TaskState::kActive, TaskUpdate{.claimedBy = config_.id});
  auto done = active ? txn->setTaskState(match->taskId, TaskState::kDone) : active;
  if (!done) {
    reject(s, "not_expected_now", "This parcel can no longer be loaded (" + done.error().message + ").");
    return;
  }
  json data{{"code", code}, {"door", matchSpec.value("door", "")}};
  sync::EventDraft draft{"ship.confirmed", deps_.clock.nowMs(), config_.id, match->taskId, match->waveId, data.dump()};
  if (auto e = txn->appendEvent(draft); !e) {
    storeFailed(e.error(), &s);
    return;
  }
  if (auto c = txn->commit(); !c) {
    storeFailed(c.error(), &s);
    return;
  }
  view_.task = *done;
  accept(s, "Parcel " + code + " loaded (order " + match->orderId + ").");
}

// ---------------------------------------------------------------- commands

void Station::onTaskChanged(const TaskChange& change) {
  bool mine = view_.task && change.taskId == view_.task->taskId;
  if (mine && change.to == TaskState::kCancelled) {
    auto t = deps_.store.findTask(change.taskId);
    std::string reason = t && *t ? (*t)->reason : "";
    ++weighGeneration_;  // a weigh in progress no longer matters
    deps_.log.warn(LogFields{.station = config_.id, .taskId = change.taskId}, "task cancelled by the OMS while at the station");
    refresh();
    tell("STOP: task " + change.taskId + " was cancelled by the OMS" + (reason.empty() ? "" : " (" + reason + ")") +
             ". Put the items back / set the box aside.",
         true);
    feedback(false, ScanSource::kScanner);
    changed();
    return;
  }
  if (mine && !change.to) {
    // Replaced by a new wave revision: show the new version.
    refresh();
    changed();
    return;
  }
}

void Station::onWorkMayHaveArrived() {
  if (view_.task || (view_.step != Step::kIdle && view_.step != Step::kBlocked)) return;
  refresh();
  if (view_.task || view_.step != Step::kIdle) changed();
}

}  // namespace floorlink::agent
