#include "agent/workflows/pick_workflow.h"

#include <fmt/format.h>

#include <charconv>

#include "sync/command_parser.h"

namespace floorlink::agent {

using nlohmann::json;

bool PickWorkflow::setTask(const Task& task) {
  auto spec = takeTask(station_, task);
  if (!spec) return false;
  spec_ = std::move(spec->pick);
  gtin_ = gtin14(spec_.gtin);
  return true;
}

void PickWorkflow::showItemStep() {
  const Task& t = *station_.view().task;
  station_.setStep(Step::kScanItem, fmt::format("Pick {} × {} ({}) from {}: {} of {} done.", t.qty, t.sku,
                                                spec_.description, t.bin, t.qtyDone, t.qty));
}

void PickWorkflow::resume(const std::optional<StationPosition>& position) {
  lastItem_ = json::object();
  if (position && position->step == toString(Step::kScanItem) && !position->taskId.empty()) {
    auto task = station_.store().findTask(position->taskId);
    if (task && *task && (*task)->state == TaskState::kActive && (*task)->claimedBy == station_.id()) {
      if (!setTask(**task)) return;
      auto data = json::parse(position->dataJson, nullptr, false);
      if (data.is_object() && data.contains("last_item") && data["last_item"].is_object()) lastItem_ = data["last_item"];
      showItemStep();
      return;
    }
  }
  loadNext();
}

void PickWorkflow::loadNext() {
  auto& view = station_.mutableView();
  view.task.reset();
  lastItem_ = json::object();
  if (!station_.acceptingWork()) return;
  auto next = nextTaskFor(station_, sync::TaskKind::kPick, "pick");
  if (!next || !setTask(*next)) return;
  const Task& t = *next;
  if (t.state == TaskState::kActive) {
    showItemStep();  // claimed by this station before positions were kept
  } else {
    station_.setStep(Step::kScanBin, fmt::format("Go to bin {} and scan its label. Then pick {} × {} ({}).", t.bin,
                                                 t.qty, t.sku, spec_.description));
  }
}

void PickWorkflow::next() {
  std::string done = station_.view().message;
  loadNext();
  station_.tell(done, false);
  station_.changed();
}

void PickWorkflow::onScan(const Scanned& s) {
  if (!station_.view().task) {
    loadNext();
    if (!station_.view().task) {
      station_.reject(s, "not_expected_now", "There is no pick task for this station right now.");
      return;
    }
  }
  const Task t = *station_.view().task;
  auto isBin = [&] {
    return s.scan.data == t.bin || (s.scan.kind == drivers::ScanKind::kBinLabel && s.scan.bin == t.bin);
  };
  auto isItem = [&] {
    std::string g = !s.scan.gtin.empty() ? s.scan.gtin : gtin14(s.scan.data);
    if (!g.empty() && !gtin_.empty() && g == gtin_) return true;
    return s.scan.data == t.sku;
  };
  Step step = station_.view().step;
  if (auto cmd = commandOf(s.scan)) {
    if (step != Step::kScanItem) {
      station_.reject(s, "not_expected_now", "Scan the bin label " + t.bin + " first.");
    } else if (*cmd == "SHORT") {
      shortPick(s);
    } else if (cmd->starts_with("QTY:")) {
      int64_t n = -1;
      std::string_view num = std::string_view(*cmd).substr(4);
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
      if (ec != std::errc() || end != num.data() + num.size() || n < 0 || n > t.qty) {
        station_.reject(s, "bad_quantity", fmt::format("The quantity must be from 0 to {}.", t.qty));
      } else {
        count(s, n, nullptr);
      }
    } else {
      station_.reject(s, "unknown_code", "The command \"" + *cmd + "\" means nothing at a pick station.");
    }
    return;
  }
  if (step == Step::kScanBin) {
    if (isBin()) {
      StepCommit c;
      c.name = "pick:bin";
      c.taskId = t.taskId;
      c.claim = true;
      c.events.push_back(sync::EventDraft{.type = "task.started", .dataJson = "{}"});
      c.positionTaskId = t.taskId;
      c.step = Step::kScanItem;
      if (!commitClaim(station_, s, c, "This task is no longer available", [this] { loadNext(); })) return;
      showItemStep();
      station_.accept(s, "Bin " + t.bin + " confirmed.");
    } else if (isItem()) {
      station_.reject(s, "not_expected_now", "Scan the bin label " + t.bin + " before the item.");
    } else {
      station_.reject(s, "wrong_bin", "Wrong bin: this is not " + t.bin + ". Go to bin " + t.bin + ".");
    }
    return;
  }
  if (isItem()) {
    json item = json::object();
    if (!s.scan.lot.empty()) item["lot"] = s.scan.lot;
    if (s.scan.expiry) item["expiry"] = dateText(s.scan.expiry);
    if (!s.scan.serial.empty()) item["serial"] = s.scan.serial;
    count(s, t.qtyDone + 1, &item);
  } else if (isBin()) {
    station_.accept(s, "Bin " + t.bin + " is already confirmed: scan the items.");
  } else if (s.scan.kind == drivers::ScanKind::kGtin || !s.scan.gtin.empty() || gtin14(s.scan.data).size() == 14) {
    station_.reject(s, "wrong_item", "Wrong item: this is not " + t.sku + " (" + spec_.description + ").");
  } else if (s.scan.kind == drivers::ScanKind::kBinLabel) {
    station_.reject(s, "wrong_bin", "That is another bin. Pick from " + t.bin + ".");
  } else {
    station_.reject(s, "wrong_item", "Wrong item: \"" + s.scan.data + "\" is not " + t.sku + ".");
  }
}

void PickWorkflow::count(const Scanned& s, int64_t newCount, const json* item) {
  const Task t = *station_.view().task;
  const json& last = item ? *item : lastItem_;
  bool complete = newCount >= t.qty;
  StepCommit c;
  c.name = complete ? "pick:done" : "pick:item";
  c.taskId = t.taskId;
  c.to = complete ? TaskState::kDone : TaskState::kActive;
  c.update.qtyDone = newCount;
  if (complete) {
    json data{{"bin", t.bin}, {"sku", t.sku}, {"gtin", spec_.gtin}, {"qty", newCount}};
    for (const char* k : {"lot", "expiry", "serial"})
      if (last.contains(k)) data[k] = last[k];
    c.events.push_back(sync::EventDraft{.type = "pick.confirmed", .dataJson = data.dump()});
    c.step = Step::kIdle;
  } else {
    c.positionTaskId = t.taskId;
    c.step = Step::kScanItem;
    c.data = json{{"last_item", last}};
  }
  auto task = station_.commitStep(c);
  if (!task) {
    station_.storeFailed(task.error(), &s);
    return;
  }
  station_.log().info(LogFields{.station = station_.id(), .taskId = t.taskId}, "picked {} of {}{}", newCount, t.qty,
                      complete ? ": task done" : "");
  if (complete) {
    station_.accept(s, fmt::format("Done: {} × {} picked from {}.", newCount, t.sku, t.bin));
    next();
    return;
  }
  if (item) lastItem_ = *item;
  station_.mutableView().task = **task;
  showItemStep();
  station_.accept(s, item ? fmt::format("{} of {}.", newCount, t.qty)
                              : fmt::format("Count set to {} of {}.", newCount, t.qty));
}

void PickWorkflow::shortPick(const Scanned& s) {
  const Task t = *station_.view().task;
  std::string reason = "operator: not enough stock in bin";
  StepCommit c;
  c.name = "pick:short";
  c.taskId = t.taskId;
  c.to = TaskState::kShort;
  c.update.reason = reason;
  json data{{"qty_picked", t.qtyDone}, {"qty_missing", t.qty - t.qtyDone}, {"reason", reason}};
  c.events.push_back(sync::EventDraft{.type = "pick.short", .dataJson = data.dump()});
  c.step = Step::kIdle;
  if (auto task = station_.commitStep(c); !task) {
    station_.storeFailed(task.error(), &s);
    return;
  }
  station_.accept(s, fmt::format("Short pick recorded: {} of {} picked, {} missing.", t.qtyDone, t.qty,
                                 t.qty - t.qtyDone));
  next();
}

void PickWorkflow::onTaskChanged(const TaskChange& change) {
  const auto& task = station_.view().task;
  if (!task || change.taskId != task->taskId) return;
  if (change.to == TaskState::kCancelled) {
    stopCancelledTask(station_, change.taskId, "Put the items back.", [this] { loadNext(); });
  } else if (!change.to || change.to == TaskState::kActive) {
    // Replaced by a new revision, or claimed by another station.
    if (change.to == TaskState::kActive && change.station == station_.id()) return;
    loadNext();
    station_.changed();
  }
}

void PickWorkflow::onWorkMayHaveArrived() {
  lookForWork(station_, [this] { loadNext(); });
}

}  // namespace floorlink::agent
