// printer-state-reasons are a printer's words (outside bytes): any keywords
// must map to a state, and a printer out of paper is never reported ok.
// Input: first byte picks printer-state and accepting-jobs, the rest is
// keywords separated by ','.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "printers/document_printer.h"

using namespace floorlink::printers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kStates[] = {"idle", "processing", "stopped", ""};
  std::string_view state = kStates[data[0] % 4];
  bool accepting = (data[0] & 4) == 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> reasons;
  bool outOfPaper = false;
  for (size_t at = 0; at <= rest.size();) {
    size_t comma = rest.find(',', at);
    std::string keyword(rest.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
    for (std::string_view suffix : {"", "-report", "-warning", "-error"}) {
      outOfPaper = outOfPaper || keyword == "media-empty" + std::string(suffix);
    }
    reasons.push_back(std::move(keyword));
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  auto status = mapPrinterStatus(state, reasons, rest, accepting);
  if (status.keywords != reasons) std::abort();
  if (outOfPaper && status.state == PrinterState::kOk) std::abort();
  if (status.state != PrinterState::kOk && status.reason.empty()) std::abort();
  if ((!accepting || state == "stopped") && status.state == PrinterState::kOk) std::abort();
  return 0;
}
