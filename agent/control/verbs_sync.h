#pragma once
// floorlinkctl outbox: the events waiting for the OMS and the broker's view.
#include <nlohmann/json.hpp>

#include "agent/control/control_server.h"
#include "agent/control/verb_args.h"
#include "sync/sync.h"

namespace floorlink::agent {

struct SyncVerbDeps {
  StoreRef store;
  sync::Sync* sync = nullptr;  // null: sync not running
};

// The outbox figures as status, outbox and metrics show them.
nlohmann::json outboxJson(const sync::OutboxStats& o);

void registerSyncVerbs(ControlServer& control, SyncVerbDeps deps);

}  // namespace floorlink::agent
