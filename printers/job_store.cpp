#include "printers/job_store.h"

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

bool isFinal(JobState state) {
  return state == JobState::kConfirmed || state == JobState::kFailed || state == JobState::kCancelled ||
         state == JobState::kExpired;
}

bool isLegalTransition(JobState from, JobState to) {
  if (from == to) return !isFinal(from);
  switch (from) {
    case JobState::kQueued:
      return to == JobState::kSent || to == JobState::kFailed || to == JobState::kCancelled ||
             to == JobState::kExpired;
    case JobState::kSent:
      return to == JobState::kConfirmed || to == JobState::kFailed || to == JobState::kUncertain;
    case JobState::kUncertain:
      return to == JobState::kConfirmed || to == JobState::kQueued || to == JobState::kExpired;
    case JobState::kConfirmed:
    case JobState::kFailed:
    case JobState::kCancelled:
    case JobState::kExpired:
      return false;
  }
  return false;
}

}  // namespace floorlink::printers
