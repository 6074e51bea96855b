#pragma once
// The station engine's contract. A Workflow is one station kind's steps
// (PickWorkflow, PackWorkflow, ShipWorkflow). It never writes to the store
// itself: every step goes through WorkflowHost::commitStep (the Station), which commits the
// task's new state, the step's events and the workflow's new position in one
// transaction (C-E2); only then does the workflow give feedback. At start a
// workflow resumes from the committed position alone and re-runs no step's
// side effects (no second weighing, event or print). Loop thread only.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/task.h"
#include "agent/store/task_store.h"
#include "config/config.h"
#include "core/log.h"
#include "drivers/scale/scale.h"
#include "drivers/scan.h"
#include "printers/job_store.h"
#include "printers/print_service.h"
#include "sync/command.h"
#include "sync/event_codec.h"

namespace floorlink::agent {

enum class ScanSource { kScanner, kInjected, kKeyboard };
std::string_view toString(ScanSource source);

// What the operator should do now.
enum class Step {
  kIdle,           // no task for this station
  kScanBin,        // pick: scan the bin label
  kScanItem,       // pick: scan items until the quantity is reached
  kScanOrder,      // pack: scan the order / tote barcode
  kWeighing,       // pack: waiting for a stable weight
  kOutOfTolerance, // pack: re-weigh or supervisor override
  kPrinting,       // pack: label being printed
  kPrintProblem,   // pack: label failed or uncertain
  kScanLabel,      // pack: scan the printed label to confirm it is on the box
  kScanParcel,     // ship: scan SSCC or tracking of parcels at the door
  kBlocked,        // the store refuses new work (disk full)
};
std::string_view toString(Step step);
std::optional<Step> parseStep(std::string_view text);

// One scan as the station screen and `floorlinkctl station` show it.
struct ScanRecord {
  int64_t atMs = 0;
  std::string code;
  std::string symbology;
  std::string source;
  bool accepted = false;
  std::string reason;   // scan.rejected reason when refused
  std::string message;  // plain words for the operator
};

struct StationView {
  std::string id;
  config::StationKind kind = config::StationKind::kPick;
  std::optional<Task> task;
  Step step = Step::kIdle;
  std::string prompt;       // what to do now, in plain words
  std::string message;      // result of the last action
  bool messageIsError = false;
  std::deque<ScanRecord> lastScans;  // newest first
  std::optional<int64_t> weightG;    // pack: recorded weight
  std::optional<bool> withinTolerance;
  std::string printJobId, printState, printDetail;
  std::string labelCode;    // pack: the SSCC/tracking expected on the box
};

struct Scanned {
  const drivers::ScanValue& scan;
  ScanSource source;
};

// One step: what commits together. `claim` first moves the task to active
// for this station (kBusy when another station holds it), then to `to`.
struct StepCommit {
  std::string name;  // "pick:item": names the crash points around the commit
  std::string taskId;  // the task the step changes; empty: none
  bool claim = false;
  std::optional<TaskState> to;
  TaskUpdate update;
  std::vector<sync::EventDraft> events;  // station, task, wave and time filled in when empty
  // The position after the step.
  std::string positionTaskId;  // empty: no task at the station
  Step step = Step::kIdle;
  nlohmann::json data = nlohmann::json::object();
};

// What a workflow may ask of the station it runs at. Station implements it;
// a workflow sees nothing else of the station, so workflows depend on this
// header and the store, not on agent/stations/. Loop thread only.
class WorkflowHost {
 public:
  virtual ~WorkflowHost() = default;
  virtual const std::string& id() const = 0;
  virtual const config::StationConfig& config() const = 0;
  virtual const StationView& view() const = 0;
  virtual StationView& mutableView() = 0;
  virtual TaskStore& store() = 0;
  virtual const Logger& log() const = 0;
  virtual drivers::Scale* scale() const = 0;
  virtual printers::PrintService* printService() const = 0;
  virtual const std::string& printerId() const = 0;
  // Commits one step; returns the task as it is after it. Crash points
  // "<name>:before_commit" and "<name>:after_commit".
  virtual Result<std::optional<Task>> commitStep(const StepCommit& step) = 0;
  virtual void accept(const Scanned& s, std::string message) = 0;
  // Records scan.rejected (its own transaction) and tells the operator.
  virtual void reject(const Scanned& s, std::string reason, std::string message) = 0;
  // A step could not be recorded: say so (disk full blocks the station).
  virtual void storeFailed(const Error& e, const Scanned* s) = 0;
  virtual void setStep(Step step, std::string prompt) = 0;
  virtual void tell(std::string message, bool error) = 0;
  virtual void feedback(bool good) = 0;
  virtual void changed() = 0;
  // False (and the station shown blocked) when the store refuses new work.
  virtual bool acceptingWork() = 0;
};

class Workflow {
 public:
  virtual ~Workflow() = default;
  // Continues from the committed position (nullopt: the station never had one).
  virtual void resume(const std::optional<StationPosition>& position) = 0;
  virtual void onScan(const Scanned& scan) = 0;
  // A command changed a task (cancelled, replaced by a new revision).
  virtual void onTaskChanged(const TaskChange& change) = 0;
  // Something was committed: an idle station looks for work again.
  virtual void onWorkMayHaveArrived() = 0;
  // A print job changed state (printing, floorlinkctl print confirm/reprint/cancel).
  virtual void onPrintJob(const printers::PrintJob&) {}
};

// Shared by the workflows.
// The task at the station was cancelled by the OMS: logs it, loads the next
// task and tells the operator to stop and what to do with the goods.
void stopCancelledTask(WorkflowHost& host, const std::string& taskId, std::string_view whatToDo,
                       const std::function<void()>& loadNext);
// The station's next task of a kind; nullopt (the station shown idle, with
// why) when there is none or the store cannot be read.
std::optional<Task> nextTaskFor(WorkflowHost& host, sync::TaskKind kind, std::string_view kindName);
// The spec of the task the station takes on, the task shown at the
// station; nullopt (logged, the station idle and saying so) when its stored
// spec cannot be read.
std::optional<sync::TaskSpec> takeTask(WorkflowHost& host, const Task& task);
// Commits a step that claims its task and shows the task at the station.
// When the task is no longer there to claim (another station holds it, the
// OMS cancelled it), the scan is rejected with `gone` and why, and
// `loadNext` (when given) shows the next work; a store failure is reported.
std::optional<Task> commitClaim(WorkflowHost& host, const Scanned& s, const StepCommit& step, std::string_view gone,
                                const std::function<void()>& loadNext);
// An idle (or blocked) station with no task looks for work again.
void lookForWork(WorkflowHost& host, const std::function<void()>& loadNext);
std::optional<std::string> commandOf(const drivers::ScanValue& scan);
// EAN-8, UPC-A, EAN-13 and GTIN-14 all compare as GTIN-14; "" otherwise.
std::string gtin14(std::string_view code);
std::string dateText(const std::optional<gs1::Date>& date);

}  // namespace floorlink::agent
