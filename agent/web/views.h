#pragma once
// The JSON the station screen and the technician page show, built from the
// answers of the floorlinkctl verbs: each view names the verbs it needs and
// builds itself from their answers, in that order, the one way it is built.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::agent {

struct VerbCall {
  std::string verb;
  nlohmann::json args;
};
using VerbAnswers = std::vector<Result<nlohmann::json>>;

std::vector<VerbCall> stationViewCalls(const std::string& stationId);
// The station, the agent's health and the station's own devices.
Result<nlohmann::json> stationView(const VerbAnswers& answers);

std::vector<VerbCall> technicianViewCalls();
// Status, devices with their last raw bytes, recent log lines, newest print jobs.
Result<nlohmann::json> technicianView(const VerbAnswers& answers);

}  // namespace floorlink::agent
