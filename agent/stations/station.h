#pragma once
// A work place (pick cart, pack bench, dock door) and its workflow. Scans and
// weights come in; every step that changes a task commits the task state and
// its event in one transaction (C-E2), and only then does the operator hear
// the good-read beep or see the success. Loop thread only.
#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/store/task_store.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "drivers/scale/scale.h"
#include "drivers/scan.h"
#include "drivers/scanner.h"
#include "printers/print_service.h"

namespace floorlink::agent {

enum class ScanSource { kScanner, kInjected, kKeyboard };
std::string_view toString(ScanSource source);

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

// What the operator should do now.
enum class Step {
  kIdle,          // no task for this station
  kScanBin,       // pick: scan the bin label
  kScanItem,      // pick: scan items until the quantity is reached
  kScanOrder,     // pack: scan the order / tote barcode
  kWeighing,      // pack: waiting for a stable weight
  kOutOfTolerance,// pack: re-weigh or supervisor override
  kPrinting,      // pack: label being printed
  kPrintProblem,  // pack: label failed or uncertain
  kScanLabel,     // pack: scan the printed label to confirm it is on the box
  kScanParcel,    // ship: scan SSCC or tracking of parcels at the door
  kBlocked,       // the store refuses new work (disk full)
};
std::string_view toString(Step step);

struct StationView {
  std::string id;
  config::StationKind kind = config::StationKind::kPick;
  std::optional<Task> task;
  Step step = Step::kIdle;
  std::string prompt;       // what to do now, in plain words
  std::string message;      // result of the last action
  bool messageIsError = false;
  std::deque<ScanRecord> lastScans;  // newest first
  std::optional<int64_t> weightG;    // pack: last stable weight
  std::optional<bool> withinTolerance;
  std::string printJobId, printState, printDetail;
  std::string labelCode;    // pack: the SSCC/tracking expected on the box
};

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

class Station {
 public:
  Station(config::StationConfig config, StationDeps deps, drivers::ScanClassifier classifier);
  ~Station();
  Station(const Station&) = delete;
  Station& operator=(const Station&) = delete;

  const std::string& id() const { return config_.id; }
  config::StationKind kind() const { return config_.kind; }

  // Loads the station's active task (resuming after a restart) or the next.
  void start();
  void onScan(const drivers::ScanValue& scan, ScanSource source);
  void onBadScan(const Error& why, const std::string& raw, ScanSource source);
  // Classifies a code typed or injected (floorlinkctl scan, keyboard entry).
  void onCode(const std::string& code, ScanSource source);
  // Tasks changed by a command (new wave, cancellation).
  void onTaskChanged(const TaskChange& change);
  // Something was committed: an idle station looks for work again.
  void onWorkMayHaveArrived();

  const StationView& view() const { return view_; }
  // Scans since start by result: "accepted" or the rejection reason (metrics).
  const std::map<std::string, uint64_t>& scanCounts() const { return scanCounts_; }

 private:
  struct Scanned {
    const drivers::ScanValue& scan;
    ScanSource source;
  };
  void refresh();
  void setStep(Step step, std::string prompt);
  void tell(std::string message, bool error);
  void changed();
  void record(const Scanned& s, bool accepted, std::string reason, std::string message);
  void accept(const Scanned& s, std::string message);
  void reject(const Scanned& s, std::string reason, std::string message);
  void feedback(bool good, ScanSource source);
  bool storeFailed(const Error& e, const Scanned* s);
  std::optional<std::string> commandOf(const drivers::ScanValue& scan) const;

  // Kind-specific flows.
  void pickScan(const Scanned& s);
  void packScan(const Scanned& s);
  void shipScan(const Scanned& s);
  bool startTask(const Scanned& s);
  void pickCount(const Scanned& s, int64_t newCount, bool fromItem);
  void pickShort(const Scanned& s);
  void packWeigh();
  void packReweigh();
  void watchForEmptyPlatter();
  void stopPlatterWatch();
  void packWeighed(const Result<drivers::Weight>& weight);
  void packRecordWeight(int64_t grams, const std::string& overrideBy);
  void packPrint();
  void packPrinted(const Result<printers::PrintJob>& job);
  void packConfirm(const Scanned& s, const std::string& code);

  config::StationConfig config_;
  StationDeps deps_;
  drivers::ScanClassifier classifier_;
  StationView view_;
  std::map<std::string, uint64_t> scanCounts_;
  nlohmann::json spec_;  // the current task's spec
  // Pick: GS1 data of the last item scan, for pick.confirmed.
  drivers::ScanValue lastItem_;
  bool haveLastItem_ = false;
  // Pack: the weight waiting for an override decision.
  int64_t pendingWeightG_ = 0;
  uint64_t weighGeneration_ = 0;  // ignores answers to abandoned weigh() calls
  // After a box is done the platter must be seen empty before the next
  // weight counts: otherwise the previous box's weight would be recorded.
  bool platterMustClear_ = false;
  bool weighAfterClear_ = false;
  drivers::Scale::WatchId platterWatch_ = 0;
  drivers::Scale::WatchId reweighWatch_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace floorlink::agent
