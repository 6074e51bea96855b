#pragma once
// Text for `floorlinkctl tasks` and `floorlinkctl outbox`: fixed-width tables
// a technician can read at a glance.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/store/task.h"
#include "sync/agent_port.h"

namespace floorlink::agent {

// One line per task: TASK WAVE KIND STATE STATION BIN SKU QTY DONE.
std::string formatTasks(const std::vector<Task>& tasks);
std::string formatWaves(const std::vector<WaveSummary>& waves);
// "depth 12, oldest unacked 4.2 s, last seq 1040, acked through 1028"
std::string formatOutbox(const sync::OutboxStats& stats);

}  // namespace floorlink::agent
