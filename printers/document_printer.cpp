#include "printers/document_printer.h"

#include <algorithm>
#include <array>

namespace floorlink::printers {

std::string_view toString(DocumentOutcome outcome) {
  switch (outcome) {
    case DocumentOutcome::kCompleted: return "completed";
    case DocumentOutcome::kAborted: return "aborted";
    case DocumentOutcome::kCanceled: return "canceled";
    case DocumentOutcome::kNotAccepted: return "not-accepted";
    case DocumentOutcome::kNotSent: return "not-sent";
    case DocumentOutcome::kExpired: return "expired";
    case DocumentOutcome::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view toString(DocumentProgress progress) {
  switch (progress) {
    case DocumentProgress::kBusyRetrying: return "busy-retrying";
    case DocumentProgress::kAccepted: return "accepted";
  }
  return "accepted";
}

namespace {

enum class Weight { kWarning, kFault, kOffline };

struct KnownReason {
  std::string_view keyword;
  Weight weight;
  std::string_view words;  // what a technician reads
};

// RFC 8011 §5.4.12 and PWG 5100.x keywords a warehouse printer sends; the
// severity suffix (-report, -warning, -error) is taken off first. A printer
// without paper is out of paper whatever severity it gives (ippeveprinter
// says media-empty-report while idle), so the suffix does not soften a fault.
constexpr std::array kKnownReasons{
    KnownReason{"offline", Weight::kOffline, "printer is offline"},
    KnownReason{"shutdown", Weight::kOffline, "printer is shutting down"},
    KnownReason{"connecting-to-device", Weight::kOffline, "CUPS cannot reach the printer"},
    KnownReason{"timed-out", Weight::kOffline, "the printer stopped answering CUPS"},
    KnownReason{"media-empty", Weight::kFault, "out of paper: load paper"},
    KnownReason{"media-needed", Weight::kFault, "needs paper: load paper"},
    KnownReason{"media-jam", Weight::kFault, "paper jam: open the printer and clear it"},
    KnownReason{"media-low", Weight::kWarning, "paper low"},
    KnownReason{"door-open", Weight::kFault, "a door is open: close it"},
    KnownReason{"cover-open", Weight::kFault, "the cover is open: close it"},
    KnownReason{"interlock-open", Weight::kFault, "an interlock is open: close it"},
    KnownReason{"input-tray-missing", Weight::kFault, "a paper tray is missing: put it back"},
    KnownReason{"output-area-full", Weight::kFault, "the output tray is full: empty it"},
    KnownReason{"output-tray-missing", Weight::kFault, "the output tray is missing"},
    KnownReason{"marker-supply-empty", Weight::kFault, "toner or ink is empty: replace it"},
    KnownReason{"toner-empty", Weight::kFault, "toner is empty: replace it"},
    KnownReason{"marker-waste-full", Weight::kFault, "the waste toner box is full: replace it"},
    KnownReason{"fuser-over-temp", Weight::kFault, "the fuser is too hot: let it cool, call service if it stays"},
    KnownReason{"paused", Weight::kFault, "printing is paused (a CUPS queue: cupsenable QUEUE)"},
    KnownReason{"toner-low", Weight::kWarning, "toner low: have a cartridge ready"},
    KnownReason{"marker-supply-low", Weight::kWarning, "toner or ink low: have a cartridge ready"},
    KnownReason{"marker-waste-almost-full", Weight::kWarning, "the waste toner box is almost full"},
};

std::string_view withoutSeverity(std::string_view keyword) {
  for (std::string_view suffix : {"-report", "-warning", "-error"}) {
    if (keyword.size() > suffix.size() && keyword.ends_with(suffix)) return keyword.substr(0, keyword.size() - suffix.size());
  }
  return keyword;
}

void append(std::string& out, std::string_view text) {
  if (text.empty()) return;
  if (!out.empty()) out += "; ";
  out += text;
}

}  // namespace

DocumentPrinterStatus mapPrinterStatus(std::string_view printerState, const std::vector<std::string>& reasons,
                                       std::string_view message, bool acceptingJobs) {
  DocumentPrinterStatus out;
  out.keywords = reasons;
  std::string offline, fault, warning;
  for (const auto& raw : reasons) {
    std::string_view keyword = withoutSeverity(raw);
    auto it = std::find_if(kKnownReasons.begin(), kKnownReasons.end(),
                           [&](const KnownReason& k) { return k.keyword == keyword; });
    if (it == kKnownReasons.end()) continue;  // none, and the many informational ones (cups-…)
    std::string text = std::string(it->words) + " (" + raw + ")";
    switch (it->weight) {
      case Weight::kOffline: append(offline, text); break;
      case Weight::kFault: append(fault, text); break;
      case Weight::kWarning: append(warning, text); break;
    }
  }
  if (!acceptingJobs) append(fault, "not accepting jobs (a CUPS queue: cupsaccept QUEUE)");
  if (printerState == "stopped" && offline.empty() && fault.empty()) {
    append(fault, message.empty() ? std::string("printer stopped") : "printer stopped: " + std::string(message));
  }
  if (!offline.empty()) {
    out.state = PrinterState::kOffline;
    out.reason = offline;
    append(out.reason, fault);
  } else if (!fault.empty()) {
    out.state = PrinterState::kFault;
    out.reason = fault;
  } else {
    out.state = PrinterState::kOk;
  }
  if (!warning.empty()) append(out.reason, warning);
  return out;
}

}  // namespace floorlink::printers
