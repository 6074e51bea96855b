#pragma once
// floorlinkctl tasks, waves and db info: reads of the task database.
#include "agent/control/control_server.h"
#include "agent/control/verb_args.h"

namespace floorlink::agent {

void registerTaskVerbs(ControlServer& control, StoreRef store);

}  // namespace floorlink::agent
