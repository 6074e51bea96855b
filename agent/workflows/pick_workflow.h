#pragma once
// Pick: scan the bin (claims the task: task.started), scan items or
// CMD:QTY:n until the quantity is reached (pick.confirmed), or CMD:SHORT
// (pick.short). Position: the task and the GS1 data of the last item scan,
// which pick.confirmed carries.
#include "agent/workflows/workflow.h"

namespace floorlink::agent {


class PickWorkflow final : public Workflow {
 public:
  explicit PickWorkflow(WorkflowHost& station) : station_(station) {}

  void resume(const std::optional<StationPosition>& position) override;
  void onScan(const Scanned& s) override;
  void onTaskChanged(const TaskChange& change) override;
  void onWorkMayHaveArrived() override;

 private:
  void loadNext();
  bool setTask(const Task& task);
  void showItemStep();
  // `item`: the GS1 data of the item scan that counted (null for CMD:QTY).
  void count(const Scanned& s, int64_t newCount, const nlohmann::json* item);
  void shortPick(const Scanned& s);
  // After a finished task: the next one, keeping the last message.
  void next();

  WorkflowHost& station_;
  sync::PickSpec spec_;
  std::string gtin_;            // the task's GTIN as GTIN-14
  nlohmann::json lastItem_ = nlohmann::json::object();  // lot / expiry / serial of the last item scan
};

}  // namespace floorlink::agent
