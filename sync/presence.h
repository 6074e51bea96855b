#pragma once
// Payloads of …/state (contract §3).
#include <cstdint>
#include <string>
#include <string_view>

#include "sync/agent_port.h"

namespace floorlink::sync {

// C-P1 / C-P4: {"v":1,"online":false,"session":S}
std::string encodeOffline(uint64_t session);

// C-P2: {"v":1,"online":true,"session":S,"agent_version":…,"started_at":ms,
// "outbox_depth":N,"oldest_unacked_ms":N,"acked_through":N,"last_seq":N,
// ["seq_gap":[from,to],]"accepting_work":bool,["detail":…,]"devices":[…]}
std::string encodeOnline(uint64_t session, std::string_view agentVersion, int64_t startedAtMs,
                         const OutboxStats& outbox, const AgentHealth& health);

}  // namespace floorlink::sync
