#include "sync/presence.h"

#include <nlohmann/json.hpp>

namespace floorlink::sync {

std::string encodeOffline(uint64_t session) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["online"] = false;
  j["session"] = session;
  return j.dump();
}

std::string encodeOnline(uint64_t session, std::string_view agentVersion, int64_t startedAtMs,
                         const OutboxStats& outbox, const AgentHealth& health) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["online"] = true;
  j["session"] = session;
  j["agent_version"] = std::string(agentVersion);
  j["started_at"] = startedAtMs;
  j["outbox_depth"] = outbox.depth;
  j["oldest_unacked_ms"] = outbox.oldestUnackedMs;
  j["acked_through"] = outbox.ackedThrough;
  j["last_seq"] = outbox.lastSeq;
  // C-E6: the announced gap, until its store.salvaged event is acknowledged.
  if (outbox.gapFrom > 0) j["seq_gap"] = {outbox.gapFrom, outbox.gapTo};
  // C-E5: a full disk stops new work, and the OMS hears it here.
  j["accepting_work"] = health.acceptingWork;
  if (!health.detail.empty()) j["detail"] = health.detail;
  auto devices = nlohmann::ordered_json::array();
  for (const auto& d : health.devices) {
    nlohmann::ordered_json dj;
    dj["id"] = d.id;
    dj["kind"] = d.kind;
    dj["state"] = d.state;
    dj["detail"] = d.detail;
    devices.push_back(std::move(dj));
  }
  j["devices"] = std::move(devices);
  // Device details come from hardware; replace bad UTF-8 rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace floorlink::sync
