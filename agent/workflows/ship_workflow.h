#pragma once
// Ship: every parcel scanned at the door (SSCC or tracking) that a pending
// ship task expects is claimed and done in one step (ship.confirmed). The
// lookup is indexed, whatever the length of the queue.
#include "agent/workflows/workflow.h"

namespace floorlink::agent {


class ShipWorkflow final : public Workflow {
 public:
  explicit ShipWorkflow(WorkflowHost& station) : station_(station) {}

  void resume(const std::optional<StationPosition>& position) override;
  void onScan(const Scanned& s) override;
  void onTaskChanged(const TaskChange&) override {}
  void onWorkMayHaveArrived() override;

 private:
  void showReady();
  WorkflowHost& station_;
};

}  // namespace floorlink::agent
