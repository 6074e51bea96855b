#pragma once
// floorlinkctl station and scan: a station's view, and codes injected as if scanned.
#include <map>
#include <memory>
#include <string>

#include "agent/control/control_server.h"
#include "agent/stations/station.h"

namespace floorlink::agent {

struct StationVerbDeps {
  const std::map<std::string, std::unique_ptr<Station>>& stations;
};

void registerStationVerbs(ControlServer& control, StationVerbDeps deps);

}  // namespace floorlink::agent
