#include "agent/control/verbs_stations.h"

#include "agent/control/verb_args.h"

namespace floorlink::agent {

using nlohmann::json;
using H = ControlServer::SimpleHandler;

void registerStationVerbs(ControlServer& control, StationVerbDeps deps) {
  auto find = [deps](const std::string& id) -> Station* {
    auto it = deps.stations.find(id);
    return it == deps.stations.end() ? nullptr : it->second.get();
  };

  control.handle("scan", H([find](const json& args) -> Result<json> {
    auto id = stringArg(args, "station");
    if (!id) return std::unexpected(id.error());
    auto code = stringArg(args, "code");
    if (!code) return std::unexpected(code.error());
    auto* s = find(*id);
    if (!s) return fail(ErrorCode::kNotFound, "no station \"" + *id + "\"");
    std::string c = *code;
    for (size_t p; (p = c.find("\\x1d")) != std::string::npos;) c.replace(p, 4, "\x1d");
    // The station screen's keyboard entry says so; floorlinkctl injects.
    s->onCode(c, args.value("source", "") == "keyboard" ? ScanSource::kKeyboard : ScanSource::kInjected);
    return toJson(s->view());
  }));

  control.handle("station", H([deps, find](const json& args) -> Result<json> {
    auto id = stringArg(args, "station");
    if (!id) return std::unexpected(id.error());
    auto* s = find(*id);
    if (!s) {
      return fail(ErrorCode::kNotFound, "no station \"" + *id + "\" (configured: " + configuredIds(deps.stations) + ")");
    }
    json v = toJson(s->view());
    const auto& cfg = s->config();
    v["devices"] = {{"scanner", cfg.scanner}, {"scale", cfg.scale}, {"printer", cfg.printer}};
    return v;
  }));
}

}  // namespace floorlink::agent
