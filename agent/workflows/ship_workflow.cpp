#include "agent/workflows/ship_workflow.h"

#include "sync/command_parser.h"

namespace floorlink::agent {

using nlohmann::json;

void ShipWorkflow::showReady() {
  if (!station_.acceptingWork()) return;
  station_.setStep(Step::kScanParcel, "Scan the SSCC or tracking label of each parcel you load.");
}

void ShipWorkflow::resume(const std::optional<StationPosition>&) {
  // A parcel is loaded in one step: there is nothing in between to resume.
  station_.mutableView().task.reset();
  showReady();
}

void ShipWorkflow::onWorkMayHaveArrived() {
  if (station_.view().step == Step::kBlocked) {
    showReady();
    if (station_.view().step != Step::kBlocked) station_.changed();
  }
}

void ShipWorkflow::onScan(const Scanned& s) {
  std::string code = !s.scan.sscc.empty() ? s.scan.sscc : s.scan.data;
  if (commandOf(s.scan)) {
    station_.reject(s, "unknown_code", "Commands mean nothing at a dock door: scan parcel labels.");
    return;
  }
  auto match = station_.store().findPendingShip(station_.id(), code);
  if (!match) {
    station_.storeFailed(match.error(), &s);
    return;
  }
  if (!*match) {
    station_.reject(s, "unknown_code", "No parcel \"" + code + "\" is expected at this door.");
    return;
  }
  const Task& t = **match;
  auto spec = sync::parseTaskSpec(t.specJson);
  std::string door = spec ? spec->ship.door : "";
  StepCommit c;
  c.name = "ship:parcel";
  c.taskId = t.taskId;
  c.claim = true;
  c.to = TaskState::kDone;
  c.events.push_back(sync::EventDraft{.type = "ship.confirmed", .dataJson = json{{"code", code}, {"door", door}}.dump()});
  c.step = Step::kScanParcel;
  c.data = json{{"last_code", code}};
  if (!commitClaim(station_, s, c, "This parcel can no longer be loaded", nullptr)) return;
  station_.accept(s, "Parcel " + code + " loaded (order " + t.orderId + ").");
}

}  // namespace floorlink::agent
