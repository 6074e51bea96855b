#include "printers/job_store.h"

#include <limits>

namespace floorlink::printers {

std::string_view toString(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kSent: return "sent";
    case JobState::kConfirmed: return "confirmed";
    case JobState::kFailed: return "failed";
    case JobState::kUncertain: return "uncertain";
    case JobState::kCancelled: return "cancelled";
    case JobState::kExpired: return "expired";
  }
  return "unknown";
}

Result<JobState> parseJobState(std::string_view text) {
  for (auto s : {JobState::kQueued, JobState::kSent, JobState::kConfirmed, JobState::kFailed, JobState::kUncertain,
                 JobState::kCancelled, JobState::kExpired})
    if (toString(s) == text) return s;
  return fail(ErrorCode::kInvalidArgument,
              "unknown print job state \"" + std::string(text) +
                  "\" (queued, sent, confirmed, failed, uncertain, cancelled, expired)");
}

std::string_view toString(FailureCause cause) {
  switch (cause) {
    case FailureCause::kNone: return "";
    case FailureCause::kLabel: return "label";
    case FailureCause::kPrinter: return "printer";
  }
  return "";
}

FailureCause parseFailureCause(std::string_view text) {
  if (text == "label") return FailureCause::kLabel;
  if (text == "printer") return FailureCause::kPrinter;
  return FailureCause::kNone;
}

Result<std::optional<PrintJob>> JobStore::findCurrent(std::string_view key) {
  JobFilter all;
  all.limit = std::numeric_limits<size_t>::max() / 2;
  auto jobs = list(all);
  if (!jobs) return std::unexpected(jobs.error());
  std::string reprints = std::string(key) + "/reprint-";
  std::optional<PrintJob> newest;
  for (auto& j : *jobs) {  // list() is in creation order
    if (j.idempotencyKey == key || j.idempotencyKey.starts_with(reprints)) newest = std::move(j);
  }
  return newest;
}

Result<std::optional<PrintJob>> JobStore::findByKey(std::string_view key) {
  JobFilter all;
  all.limit = std::numeric_limits<size_t>::max() / 2;
  auto jobs = list(all);
  if (!jobs) return std::unexpected(jobs.error());
  for (auto& j : *jobs)
    if (j.idempotencyKey == key) return std::optional<PrintJob>(std::move(j));
  return std::optional<PrintJob>();
}

}  // namespace floorlink::printers
