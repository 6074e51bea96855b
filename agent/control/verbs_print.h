#pragma once
// floorlinkctl print jobs/reprint/confirm/cancel/test and label preview.
#include <nlohmann/json.hpp>

#include <vector>

#include "agent/control/control_server.h"
#include "agent/control/verb_args.h"
#include "config/config.h"
#include "printers/print_service.h"

namespace floorlink::agent {

struct PrintVerbDeps {
  printers::PrintService* printService = nullptr;  // null: no printer configured
  StoreRef store;                                  // label preview reads the task
  const std::vector<config::StationConfig>& stations;  // which printer a preview is for
};

nlohmann::json jobJson(const printers::PrintJob& j);
std::string base64(const std::vector<uint8_t>& data);

void registerPrintVerbs(ControlServer& control, PrintVerbDeps deps);

}  // namespace floorlink::agent
