#include "agent/control/verbs_tasks.h"

#include "agent/stations/station.h"

namespace floorlink::agent {

using nlohmann::json;
using H = ControlServer::SimpleHandler;

void registerTaskVerbs(ControlServer& control, StoreRef store) {
  control.handle("tasks", H([store](const json& args) -> Result<json> {
    auto s = store.get();
    if (!s) return std::unexpected(s.error());
    TaskFilter f;
    f.waveId = args.value("wave", "");
    f.station = args.value("station", "");
    f.limit = args.value("limit", 1000);
    if (auto st = args.value("state", ""); !st.empty()) {
      auto parsed = parseTaskState(st);
      if (!parsed) return std::unexpected(parsed.error());
      f.state = *parsed;
    }
    auto tasks = (*s)->tasks(f);
    if (!tasks) return std::unexpected(tasks.error());
    json out = json::array();
    for (const auto& t : *tasks) out.push_back(toJson(t));
    return json{{"tasks", out}};
  }));

  control.handle("waves", H([store](const json&) -> Result<json> {
    auto s = store.get();
    if (!s) return std::unexpected(s.error());
    auto waves = (*s)->waves();
    if (!waves) return std::unexpected(waves.error());
    json out = json::array();
    for (const auto& w : *waves) {
      out.push_back({{"wave_id", w.waveId}, {"revision", w.revision}, {"priority", w.priority},
                     {"state", std::string(toString(w.state))}, {"pending", w.pending}, {"active", w.active},
                     {"done", w.done}, {"short", w.shortPicked}, {"cancelled", w.cancelled}});
    }
    return json{{"waves", out}};
  }));

  control.handle("db.info", H([store](const json&) -> Result<json> {
    auto s = store.get();
    if (!s) return std::unexpected(s.error());
    auto i = (*s)->info();
    if (!i) return std::unexpected(i.error());
    return json{{"path", i->path.string()}, {"schema_version", i->schemaVersion}, {"journal_mode", i->journalMode},
                {"synchronous", i->synchronous}, {"foreign_keys", i->foreignKeys},
                {"busy_timeout_ms", i->busyTimeoutMs}, {"size_bytes", i->sizeBytes}};
  }));
}

}  // namespace floorlink::agent
