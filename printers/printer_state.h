#pragma once
// The state every printer reports (label and document printers alike): what
// floorlinkctl, the station screen and the OMS `…/state` topic show.
#include <string_view>

namespace floorlink::printers {

enum class PrinterState { kOk, kOffline, kFault };
std::string_view toString(PrinterState state);

}  // namespace floorlink::printers
