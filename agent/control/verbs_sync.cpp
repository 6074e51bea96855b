#include "agent/control/verbs_sync.h"

namespace floorlink::agent {

using nlohmann::json;

json outboxJson(const sync::OutboxStats& o) {
  return {{"depth", o.depth}, {"oldest_unacked_ms", o.oldestUnackedMs}, {"acked_through", o.ackedThrough},
          {"last_seq", o.lastSeq}};
}

void registerSyncVerbs(ControlServer& control, SyncVerbDeps deps) {
  control.handle("outbox", ControlServer::SimpleHandler([deps](const json&) -> Result<json> {
    auto s = deps.store.get();
    if (!s) return std::unexpected(s.error());
    auto o = (*s)->outboxStats();
    if (!o) return std::unexpected(o.error());
    json out = outboxJson(*o);
    if (deps.sync) {
      auto st = deps.sync->status();
      out["connected"] = st.connected;
      out["inflight"] = st.inflight;
      out["events_sent"] = st.eventsSent;
      out["events_resent"] = st.eventsResent;
      out["ack_timeouts"] = st.ackTimeouts;
      out["acks_applied"] = st.acksApplied;
      out["acks_ignored"] = st.acksIgnored;
    }
    return out;
  }));
}

}  // namespace floorlink::agent
