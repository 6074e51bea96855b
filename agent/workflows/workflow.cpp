#include "agent/workflows/workflow.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "sync/command_parser.h"

namespace floorlink::agent {
namespace {

constexpr std::array kSteps{
    std::pair{Step::kIdle, "idle"},
    std::pair{Step::kScanBin, "scan_bin"},
    std::pair{Step::kScanItem, "scan_item"},
    std::pair{Step::kScanOrder, "scan_order"},
    std::pair{Step::kWeighing, "weighing"},
    std::pair{Step::kOutOfTolerance, "out_of_tolerance"},
    std::pair{Step::kPrinting, "printing"},
    std::pair{Step::kPrintProblem, "print_problem"},
    std::pair{Step::kScanLabel, "scan_label"},
    std::pair{Step::kScanParcel, "scan_parcel"},
    std::pair{Step::kBlocked, "blocked"},
};

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

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
  for (const auto& [s, name] : kSteps)
    if (s == step) return name;
  return "idle";
}

std::optional<Step> parseStep(std::string_view text) {
  for (const auto& [s, name] : kSteps)
    if (text == name) return s;
  return std::nullopt;
}

std::optional<std::string> commandOf(const drivers::ScanValue& scan) {
  if (scan.kind == drivers::ScanKind::kCommand) return scan.command;
  if (scan.data.starts_with("CMD:")) return scan.data.substr(4);
  return std::nullopt;
}

std::string gtin14(std::string_view s) {
  if (!allDigits(s) || !(s.size() == 8 || s.size() == 12 || s.size() == 13 || s.size() == 14)) return {};
  return std::string(14 - s.size(), '0') + std::string(s);
}

std::string dateText(const std::optional<gs1::Date>& d) {
  if (!d) return {};
  return fmt::format("{:04d}-{:02d}-{:02d}", d->year, d->month, d->day);
}

void stopCancelledTask(WorkflowHost& host, const std::string& taskId, std::string_view whatToDo,
                       const std::function<void()>& loadNext) {
  auto t = host.store().findTask(taskId);
  std::string reason = t && *t ? (*t)->reason : "";
  host.log().warn(LogFields{.station = host.id(), .taskId = taskId}, "task cancelled by the OMS while at the station");
  loadNext();
  host.tell("STOP: task " + taskId + " was cancelled by the OMS" + (reason.empty() ? "" : " (" + reason + ")") +
                ". " + std::string(whatToDo),
            true);
  host.feedback(false);
  host.changed();
}

std::optional<Task> nextTaskFor(WorkflowHost& host, sync::TaskKind kind, std::string_view kindName) {
  auto next = host.store().nextTask(host.id(), kind);
  if (!next) {
    host.log().error(LogFields{.station = host.id()}, "cannot read the next task: {}", next.error().message);
    host.setStep(Step::kIdle, "Cannot read tasks: call a technician.");
    return std::nullopt;
  }
  if (!*next) {
    host.setStep(Step::kIdle, fmt::format("No {} task. Wait for the next wave.", kindName));
    return std::nullopt;
  }
  return **next;
}

std::optional<sync::TaskSpec> takeTask(WorkflowHost& host, const Task& task) {
  auto spec = sync::parseTaskSpec(task.specJson);
  if (!spec) {
    host.log().error(LogFields{.station = host.id(), .taskId = task.taskId}, "{}", spec.error().message);
    host.mutableView().task.reset();
    host.setStep(Step::kIdle, "Task " + task.taskId + " cannot be read: call a technician.");
    return std::nullopt;
  }
  host.mutableView().task = task;
  return std::move(*spec);
}

std::optional<Task> commitClaim(WorkflowHost& host, const Scanned& s, const StepCommit& step, std::string_view gone,
                                const std::function<void()>& loadNext) {
  auto task = host.commitStep(step);
  if (!task) {
    if (task.error().code == ErrorCode::kBusy || task.error().code == ErrorCode::kInvalidArgument) {
      host.reject(s, "not_expected_now", fmt::format("{} ({}).", gone, task.error().message));
      if (loadNext) {
        loadNext();
        host.changed();
      }
    } else {
      host.storeFailed(task.error(), &s);
    }
    return std::nullopt;
  }
  if (*task) host.mutableView().task = **task;
  return *task;
}

void lookForWork(WorkflowHost& host, const std::function<void()>& loadNext) {
  const auto& v = host.view();
  if (v.task || (v.step != Step::kIdle && v.step != Step::kBlocked)) return;
  loadNext();
  if (host.view().task || host.view().step != Step::kIdle) host.changed();
}

}  // namespace floorlink::agent
