#pragma once
// Durable storage of the print journal and the SSCC serial counter. Printers
// declares it; the agent implements it over its SQLite database, so a job's
// state change and its label.printed / label.failed event commit together.
// All calls on the event-loop thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink::printers {

// The journal's state machine, in one place (isLegalTransition below; the
// SQLite journal and the test fake both enforce it):
//   queued -> sent -> confirmed | failed | uncertain
//   uncertain -> confirmed (operator confirms) | queued (operator reprints)
//   queued -> cancelled; queued | uncertain -> expired
//   queued -> failed (nothing was sent: the label failed rendering or
//     verification, or the printer refused it before any byte went out)
// A job may stay in a non-final state (another attempt updates attempts and
// detail). confirmed, failed, cancelled and expired are final. `sent` is
// recorded durably just before the first byte.
enum class JobState { kQueued, kSent, kConfirmed, kFailed, kUncertain, kCancelled, kExpired };
std::string_view toString(JobState state);
Result<JobState> parseJobState(std::string_view text);
bool isFinal(JobState state);
bool isLegalTransition(JobState from, JobState to);

// Whose problem a failed job is: the label could not be made (template,
// configuration: a technician's) or the printer refused or faulted.
enum class FailureCause { kNone, kLabel, kPrinter };
std::string_view toString(FailureCause cause);
FailureCause parseFailureCause(std::string_view text);

struct PrintJob {
  std::string jobId;           // unique, assigned by the journal
  std::string idempotencyKey;  // from the task, e.g. "T-7/label/1"
  std::string printer;         // device id
  std::string templateName;
  std::string taskId;
  std::string station;
  std::string waveId;
  std::string zpl;             // the exact bytes sent
  std::string sscc;            // data on the label, for the event
  std::string tracking;
  bool verified = false;       // every barcode decoded back to its intended data
  JobState state = JobState::kQueued;
  std::string detail;          // reason for failed/uncertain, in plain words
  int attempts = 0;
  FailureCause cause = FailureCause::kNone;  // set at creation for a label that cannot be made
  int64_t createdMs = 0;
  int64_t updatedMs = 0;
};

struct JobFilter {
  std::optional<JobState> state;
  std::string printer;  // empty: any
  size_t limit = 100;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Stores a new job, or returns the existing one with the same
  // idempotency key unchanged (so a retried request never prints twice).
  virtual Result<PrintJob> createOrGet(const PrintJob& job) = 0;
  // Durable before it returns. Moving to confirmed or failed also records
  // the label.printed / label.failed event in the same transaction.
  virtual Status updateState(std::string_view jobId, JobState state, std::string_view detail,
                             int attempts) = 0;
  virtual Result<std::optional<PrintJob>> find(std::string_view jobId) = 0;
  virtual Result<std::vector<PrintJob>> list(const JobFilter& filter) = 0;

  // The job with this idempotency key, if any (so a retried request does not
  // use up an SSCC). Called on every submit: an indexed lookup, whatever the
  // journal's length.
  virtual Result<std::optional<PrintJob>> findByKey(std::string_view idempotencyKey) = 0;
  // The job that stands for a label now: the newest of the job with this key
  // and its reprints ("<key>/reprint-N"). Indexed like findByKey.
  virtual Result<std::optional<PrintJob>> findCurrent(std::string_view idempotencyKey) = 0;

  // Next value of a persistent counter ("sscc"), never reused across crashes:
  // durable before it returns.
  virtual Result<int64_t> nextSerial(std::string_view counter) = 0;
};

}  // namespace floorlink::printers
