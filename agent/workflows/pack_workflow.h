#pragma once
// Pack: scan the order (claims the task: task.started) → a stable weight
// (pack.weighed; out of tolerance: CMD:REWEIGH or CMD:OVERRIDE:<id>) → the
// label through the print journal (label.printed) → scan the label on the
// box (pack.confirmed). Position: the step, the recorded weight and whether
// the platter must be seen empty before the next box counts. The label's
// state is the print journal's (the job of "<task>/label/1" or its newest
// reprint), so a restart asks the journal instead of printing again.
#include <memory>

#include "agent/workflows/workflow.h"
#include "drivers/scale/scale.h"
#include "printers/print_service.h"

namespace floorlink::agent {


class PackWorkflow final : public Workflow {
 public:
  explicit PackWorkflow(WorkflowHost& station);
  ~PackWorkflow() override;

  void resume(const std::optional<StationPosition>& position) override;
  void onScan(const Scanned& s) override;
  void onTaskChanged(const TaskChange& change) override;
  void onWorkMayHaveArrived() override;
  void onPrintJob(const printers::PrintJob& job) override;

 private:
  bool setTask(const Task& task);
  void loadNext();
  void next();  // after a box: the next task, keeping the last message
  void openOrder(const Scanned& s);
  void startWeighing();
  void reweigh();
  void weighed(const Result<drivers::Weight>& weight);
  bool recordWeight(int64_t grossG, const std::string& overrideBy, const Scanned* s);
  void watchPlatter();
  void stopWatches();
  // Commits the position alone (the platter was seen empty).
  void persist(const char* name);
  nlohmann::json positionData() const;
  std::string labelKey() const;
  printers::LabelRequest labelRequest(std::string key) const;
  // `resumed`: after a restart (the printer may still be connecting).
  void print(bool resumed = false);
  void resumeLabel();
  void printAnswered(const Result<printers::PrintJob>& job);
  void applyJob(const printers::PrintJob& job);
  void reprint(const Scanned& s);
  void confirmBox(const Scanned& s, const std::string& code);
  void showOutOfTolerance();

  WorkflowHost& station_;
  sync::PackSpec spec_;
  Step committed_ = Step::kIdle;  // the step of the last committed position
  std::optional<int64_t> weightG_;
  bool within_ = false;
  // After a box is done the platter must be seen empty before the next
  // weight counts: otherwise the previous box's weight would be recorded.
  bool platterMustClear_ = false;
  std::optional<printers::PrintJob> job_;  // the label's current job
  uint64_t weighGeneration_ = 0;  // ignores answers to abandoned weigh() calls
  drivers::Scale::WatchId platterWatch_ = 0;
  drivers::Scale::WatchId reweighWatch_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace floorlink::agent
