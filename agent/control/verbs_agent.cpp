#include "agent/control/verbs_agent.h"

#include <algorithm>

#include "agent/control/verbs_sync.h"

namespace floorlink::agent {

using nlohmann::json;
using H = ControlServer::SimpleHandler;

json agentStatus(const AgentVerbDeps& deps) {
  json s;
  s["agent_version"] = FLOORLINK_VERSION;
  s["site"] = deps.config.agent.site;
  s["agent"] = deps.config.agent.id;
  s["started_at"] = deps.startedAtMs;
  s["uptime_s"] = (deps.clock.nowMs() - deps.startedAtMs) / 1000;
  s["config"] = deps.config.sourceFile;
  auto* store = deps.store.store;
  if (store) {
    auto h = store->health();
    s["database"] = {{"state", h.acceptingWork ? "ok" : "stopped"},
                     {"detail", h.acceptingWork ? store->path().string() : h.detail},
                     {"schema_version", store->schemaVersion()}};
    if (auto o = store->outboxStats()) s["outbox"] = outboxJson(*o);
  } else {
    s["database"] = {{"state", "damaged"}, {"detail", deps.store.problem}};
  }
  if (deps.sync) {
    auto st = deps.sync->status();
    s["broker"] = {{"connected", st.connected},
                   {"url", st.brokerUrl},
                   {"client_id", st.clientId},
                   {"protocol", st.protocol},
                   {"session", st.session},
                   {"last_error", st.lastError},
                   {"connected_since_ms", st.connectedSinceMs},
                   {"reconnects", st.reconnects},
                   {"next_retry_in_ms", st.nextRetryInMs},
                   {"inflight", st.inflight}};
  }
  json devs = json::array();
  for (const auto& [id, h] : deps.health) {
    devs.push_back({{"id", id}, {"kind", h.kind}, {"state", h.state}, {"detail", h.detail}, {"since_ms", h.sinceMs}});
  }
  s["devices"] = devs;
  json sts = json::array();
  for (const auto& [id, st] : deps.stations) {
    const auto& v = st->view();
    sts.push_back({{"id", id},
                   {"kind", std::string(config::toString(v.kind))},
                   {"step", std::string(toString(v.step))},
                   {"task_id", v.task ? v.task->taskId : ""}});
  }
  s["stations"] = sts;
  json w = deps.warnings;
  if (store && !store->health().acceptingWork) w.push_back(store->health().detail);
  s["warnings"] = w;
  return s;
}

json agentMetrics(const AgentVerbDeps& deps) {
  json m{{"version", FLOORLINK_VERSION}, {"uptime_s", (deps.clock.nowMs() - deps.startedAtMs) / 1000}};
  if (deps.store.store) {
    if (auto o = deps.store.store->outboxStats()) m["outbox"] = outboxJson(*o);
  }
  if (deps.sync) {
    auto st = deps.sync->status();
    m["broker"] = {{"connected", st.connected},           {"connects", st.connects},
                   {"reconnects", st.reconnects},         {"connect_failures", st.connectFailures},
                   {"events_sent", st.eventsSent},        {"events_resent", st.eventsResent},
                   {"acks_applied", st.acksApplied},      {"commands_received", st.commandsReceived},
                   {"commands_rejected", st.commandsRejected}, {"invalid_messages", st.invalidMessages}};
  }
  json scans = json::array();
  for (const auto& [id, st] : deps.stations) {
    for (const auto& [result, n] : st->scanCounts()) scans.push_back({{"station", id}, {"result", result}, {"count", n}});
  }
  m["scans"] = scans;
  json devs = json::array();
  for (const auto& [id, h] : deps.health) {
    json d{{"id", id}, {"kind", h.kind}, {"state", h.state}, {"reconnects", 0}};
    if (deps.devices) {
      if (auto info = deps.devices->device(id)) d["reconnects"] = info->reconnects;
    }
    devs.push_back(d);
  }
  m["devices"] = devs;
  if (deps.jobStore) {
    if (auto counts = deps.jobStore->countByState()) m["print_jobs"] = *counts;
  }
  return m;
}

void registerAgentVerbs(ControlServer& control, AgentVerbDeps deps) {
  control.handle("status", H([deps](const json&) -> Result<json> { return agentStatus(deps); }));
  control.handle("logs", H([deps](const json& args) -> Result<json> {
    json lines = json::array();
    for (const auto& l : deps.logging.recent(static_cast<size_t>(std::clamp(args.value("max", 100), 1, 500)))) {
      lines.push_back({{"time_ms", l.timeMs}, {"level", std::string(toString(l.level))}, {"module", l.module},
                       {"text", l.text}});
    }
    return json{{"lines", lines}};
  }));
  control.handle("metrics", H([deps](const json&) -> Result<json> { return agentMetrics(deps); }));
}

}  // namespace floorlink::agent
