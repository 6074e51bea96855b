#pragma once
// A work place (pick cart, pack bench, dock door). The station routes scans
// to its workflow (agent/workflows), keeps the scan history and the view the
// screens show, gives the operator feedback, and owns the one path by which
// a workflow step reaches the store: commitStep (task state, events and the
// workflow's position in one transaction, C-E2). Loop thread only.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/store/task_store.h"
#include "agent/workflows/workflow.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "drivers/scale/scale.h"
#include "drivers/scan.h"
#include "drivers/scanner.h"
#include "printers/print_service.h"

namespace floorlink::agent {

nlohmann::json toJson(const StationView& view);
nlohmann::json toJson(const Task& task);

struct StationDeps {
  TaskStore& store;
  const Clock& clock;
  Logger log;
  drivers::Scanner* scanner = nullptr;         // feedback; may be null
  drivers::Scale* scale = nullptr;             // pack stations
  printers::PrintService* printService = nullptr;
  std::string printerId;
  std::function<void(const std::string& stationId)> onViewChanged;  // screens, SSE
};

class Station final : public WorkflowHost {
 public:
  Station(config::StationConfig config, StationDeps deps, drivers::ScanClassifier classifier);
  ~Station();
  Station(const Station&) = delete;
  Station& operator=(const Station&) = delete;

  const std::string& id() const override { return config_.id; }
  config::StationKind kind() const { return config_.kind; }
  const config::StationConfig& config() const override { return config_; }

  // Resumes the workflow from the station's committed position.
  void start();
  void onScan(const drivers::ScanValue& scan, ScanSource source);
  void onBadScan(const Error& why, const std::string& raw, ScanSource source);
  // Classifies a code typed or injected (floorlinkctl scan, keyboard entry).
  void onCode(const std::string& code, ScanSource source);
  // Tasks changed by a command (new wave, cancellation).
  void onTaskChanged(const TaskChange& change);
  // Something was committed: an idle station looks for work again.
  void onWorkMayHaveArrived();
  // A print job changed state (the print service's listener).
  void onPrintJob(const printers::PrintJob& job);

  const StationView& view() const override { return view_; }
  // Scans since start by result: "accepted" or the rejection reason (metrics).
  const std::map<std::string, uint64_t>& scanCounts() const { return scanCounts_; }

  // --- for the workflows ---------------------------------------------------
  TaskStore& store() override { return deps_.store; }
  const Clock& clock() const { return deps_.clock; }
  const Logger& log() const override { return deps_.log; }
  drivers::Scale* scale() const override { return deps_.scale; }
  printers::PrintService* printService() const override { return deps_.printService; }
  const std::string& printerId() const override { return deps_.printerId; }
  StationView& mutableView() override { return view_; }

  // Commits one step (see StepCommit); returns the task as it is after it.
  // The transaction is closed when this returns, so the caller may record a
  // rejection at once. Crash points "<name>:before_commit" and
  // "<name>:after_commit" (the step is durable, no feedback given yet).
  Result<std::optional<Task>> commitStep(const StepCommit& step) override;
  void accept(const Scanned& s, std::string message) override;
  // Records scan.rejected (its own transaction) and tells the operator.
  void reject(const Scanned& s, std::string reason, std::string message) override;
  // A step could not be recorded: say so (disk full blocks the station).
  void storeFailed(const Error& e, const Scanned* s) override;
  void setStep(Step step, std::string prompt) override;
  void tell(std::string message, bool error) override;
  void feedback(bool good) override;
  void changed() override;
  // False (and the station shown blocked) when the store refuses new work.
  bool acceptingWork() override;

 private:
  void record(const Scanned& s, bool accepted, std::string reason, std::string message);

  config::StationConfig config_;
  StationDeps deps_;
  drivers::ScanClassifier classifier_;
  StationView view_;
  std::map<std::string, uint64_t> scanCounts_;
  std::unique_ptr<Workflow> workflow_;
};

}  // namespace floorlink::agent
