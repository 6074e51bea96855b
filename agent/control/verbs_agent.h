#pragma once
// floorlinkctl status, logs and metrics: the whole agent at a glance.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/control/control_server.h"
#include "agent/control/verb_args.h"
#include "agent/device_health.h"
#include "agent/stations/station.h"
#include "agent/store/sqlite_job_store.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "drivers/device_manager.h"
#include "sync/sync.h"

namespace floorlink::agent {

struct AgentVerbDeps {
  const config::Config& config;
  const Clock& clock;
  int64_t startedAtMs = 0;
  StoreRef store;
  sync::Sync* sync = nullptr;                    // null: sync not running
  const DeviceHealthMap& health;
  const std::map<std::string, std::unique_ptr<Station>>& stations;
  const std::vector<std::string>& warnings;      // found at start-up
  drivers::DeviceManager* devices = nullptr;
  SqliteJobStore* jobStore = nullptr;            // null: no printer configured
  const Logging& logging;
};

nlohmann::json agentStatus(const AgentVerbDeps& deps);
nlohmann::json agentMetrics(const AgentVerbDeps& deps);

void registerAgentVerbs(ControlServer& control, AgentVerbDeps deps);

}  // namespace floorlink::agent
