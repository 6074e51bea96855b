#pragma once
// A document printer (packing slips, invoices: PDF) driven from the event
// loop. A job is submitted once and followed to its end; its outcome says
// whether it printed, did not, or nobody can tell (then it is never resent:
// contract C-D2). Status is the printer's own state mapped to ok / offline /
// fault with a technician-readable reason.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "printers/printer_state.h"

namespace floorlink::printers {

struct DocumentJob {
  std::string docId;                     // the OMS's doc_id; also the IPP job-name
  std::string bytes;                     // the document as the printer gets it
  std::string format = "application/pdf";
  int copies = 1;                        // 1-20 (contract §9.3), one IPP job
  std::string sides;                     // empty: the printer's default; one-sided, two-sided-long-edge, …
  std::string media;                     // empty: the printer's default; an IPP media name (iso_a4_210x297mm)
};

enum class DocumentOutcome {
  kCompleted,    // the printer reports the job completed
  kAborted,      // the printer gave up on the job (job-state aborted)
  kCanceled,     // someone canceled it at the printer or in CUPS
  kNotAccepted,  // the printer refused it (format, sides, media): nothing printed, sending again will not help
  kNotSent,      // the printer could not be reached or is not ready (offline, out of paper): nothing printed
  kExpired,      // the printer answered busy for longer than busy_retry_max_s: nothing printed
  kUnknown,      // the job went out but its end is unknown (contact lost): may have printed, never resend
};
std::string_view toString(DocumentOutcome outcome);

struct DocumentResult {
  DocumentOutcome outcome = DocumentOutcome::kNotSent;
  std::string reason;               // plain words for the technician
  int ippJobId = 0;                 // 0: the printer never took the job
  std::string jobState;             // IPP job-state keyword at the end (completed, aborted, …), "" without a job
  std::optional<int> impressions;   // job-impressions-completed, when the printer reports it
};

// What happens to a job before its outcome.
enum class DocumentProgress {
  kBusyRetrying,  // the printer answered server-error-busy; asked again after `retryIn`
  kAccepted,      // the printer took the job: ippJobId is known, from now on it is never resent
};
std::string_view toString(DocumentProgress progress);

struct DocumentUpdate {
  DocumentProgress progress = DocumentProgress::kAccepted;
  int ippJobId = 0;
  std::chrono::milliseconds retryIn{0};
  std::string detail;
};

struct DocumentPrinterStatus {
  PrinterState state = PrinterState::kOffline;
  std::string reason;                  // plain words, with the IPP keywords; a warning (toner low) while ok
  std::vector<std::string> keywords;   // printer-state-reasons as the printer sent them
  bool operator==(const DocumentPrinterStatus& o) const { return state == o.state && reason == o.reason; }
};

// The printer's own words mapped to a device state: media-empty, media-jam,
// door-open (any severity suffix), a stopped printer or a queue not accepting
// jobs are faults; offline and shutdown are offline; toner-low is a warning
// (ok, said in the reason). `printerState` is the IPP keyword (idle,
// processing, stopped). Pure: unit-tested and fuzzed.
DocumentPrinterStatus mapPrinterStatus(std::string_view printerState, const std::vector<std::string>& reasons,
                                       std::string_view message, bool acceptingJobs = true);

class DocumentPrinter {
 public:
  using StatusCallback = std::function<void(const DocumentPrinterStatus&)>;
  struct JobCallbacks {
    std::function<void(const DocumentUpdate&)> onProgress;  // optional
    std::function<void(const DocumentResult&)> onDone;      // exactly once, unless the printer is destroyed first
  };

  virtual ~DocumentPrinter() = default;
  virtual const std::string& id() const = 0;
  // "ipps://10.1.2.40:631/ipp/print" or "cups:PackSlips on 127.0.0.1:631"
  virtual std::string describe() const = 0;
  // Starts polling the printer's state; `onStatus` runs on the loop at every
  // change of state or reason.
  virtual Status start(StatusCallback onStatus) = 0;
  virtual void stop() = 0;
  virtual const DocumentPrinterStatus& status() const = 0;
  // Queues the job (jobs print one after another). The callbacks run on the
  // loop. An error (copies out of range, no bytes) means nothing was queued.
  virtual Status submit(DocumentJob job, JobCallbacks callbacks) = 0;
  // An immediate status poll, outside the idle schedule.
  virtual void pollNow() = 0;
};

}  // namespace floorlink::printers
