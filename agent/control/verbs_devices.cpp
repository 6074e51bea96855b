#include "agent/control/verbs_devices.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/control/verb_args.h"

namespace floorlink::agent {

using nlohmann::json;
using H = ControlServer::SimpleHandler;

namespace {

std::string hexOf(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (auto b : bytes) out += fmt::format("{:02x} ", b);
  if (!out.empty()) out.pop_back();
  return out;
}

std::string printable(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (auto b : bytes) {
    if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
    } else if (b == '\r') {
      out += "<CR>";
    } else if (b == '\n') {
      out += "<LF>";
    } else if (b == 0x1d) {
      out += "<GS>";
    } else {
      out += fmt::format("<{:02X}>", b);
    }
  }
  return out;
}

// The newest `max` chunks a device sent or received, oldest first.
json rawJson(drivers::DeviceManager& devices, const std::string& id, size_t max) {
  json raw = json::array();
  for (const auto& c : devices.raw(id, max)) {
    raw.push_back({{"time_ms", c.timeMs},
                   {"direction", c.direction == drivers::RawDirection::kIn ? "in" : "out"},
                   {"hex", hexOf(c.bytes)},
                   {"text", printable(c.bytes)}});
  }
  return raw;
}

json deviceListEntry(const DeviceVerbDeps& deps, const std::string& id, const DeviceHealth& h, int rawMax) {
  json d{{"id", id}, {"kind", h.kind}, {"state", h.state}, {"detail", h.detail}, {"since_ms", h.sinceMs}};
  if (const auto* cfg = deps.config.device(id)) d["address"] = cfg->address.text;
  if (deps.devices) {
    if (auto info = deps.devices->device(id)) {
      d["identity"] = info->identity;
      d["transport"] = info->transport;
      d["bytes_in"] = info->bytesIn;
      d["bytes_out"] = info->bytesOut;
      d["reconnects"] = info->reconnects;
      d["last_error"] = info->lastError;
    }
    if (rawMax > 0) d["raw"] = rawJson(*deps.devices, id, static_cast<size_t>(rawMax));
  }
  if (auto it = deps.scales.find(id); it != deps.scales.end()) {
    d["transport"] = it->second->describe();
    if (const auto* r = it->second->lastReading()) d["reading"] = readingJson(*r);
  }
  if (auto it = deps.printers.find(id); it != deps.printers.end()) {
    d["transport"] = it->second->describe();
    const auto& ps = it->second->status();
    d["dots_per_mm"] = ps.dotsPerMm;
    if (ps.host) {
      const auto& hs = *ps.host;
      d["host_status"] = {{"paper_out", hs.paperOut}, {"paused", hs.paused}, {"head_open", hs.headOpen},
                          {"ribbon_out", hs.ribbonOut}, {"buffer_full", hs.bufferFull},
                          {"formats_in_buffer", hs.formatsInBuffer}};
    }
  }
  return d;
}

void weigh(const DeviceVerbDeps& deps, const json& args, const std::shared_ptr<ControlReply>& reply) {
  std::string id = args.value("scale", "");
  auto it = deps.scales.find(id);
  if (it == deps.scales.end()) {
    reply->finish(fail(ErrorCode::kNotFound, "no scale \"" + id + "\""));
    return;
  }
  auto* scale = it->second.get();
  if (args.value("stable", false)) {
    scale->weigh([reply](Result<drivers::Weight> w) {
      if (!w) {
        reply->finish(std::unexpected(w.error()));
      } else {
        reply->finish(json{{"grams", w->grams}, {"net", w->net}, {"displayed", w->displayed},
                           {"readings", w->readings}, {"stable_for_ms", w->stableFor.count()}});
      }
    });
    return;
  }
  // Live: every reading as a progress line for `seconds`, or until floorlinkctl hangs up.
  int seconds = std::clamp(args.value("seconds", 10), 1, 3600);
  auto watch = std::make_shared<drivers::Scale::WatchId>(0);
  *watch = scale->watchReadings([reply, scale, watch](const drivers::Reading& r) {
    if (!reply->connected()) {
      scale->unwatchReadings(*watch);
      return;
    }
    reply->progress(readingJson(r));
  });
  deps.loop.addTimer(std::chrono::seconds(seconds), [reply, scale, watch] {
    scale->unwatchReadings(*watch);
    const auto* last = scale->lastReading();
    reply->finish(json{{"status", std::string(drivers::toString(scale->status().state))},
                       {"detail", scale->status().detail},
                       {"last", last ? readingJson(*last) : json(nullptr)}});
  });
}

}  // namespace

json readingJson(const drivers::Reading& r) {
  return {{"grams", r.weightKnown ? json(r.grams) : json(nullptr)},
          {"status", std::string(drivers::toString(r.status))},
          {"net", r.net},
          {"displayed", r.displayed},
          {"text", r.describe()}};
}

void registerDeviceVerbs(ControlServer& control, DeviceVerbDeps deps) {
  control.handle("devices", H([deps](const json& args) -> Result<json> {
    json out = json::array();
    int rawMax = args.value("raw", 0);
    for (const auto& [id, h] : deps.health) out.push_back(deviceListEntry(deps, id, h, rawMax));
    return json{{"devices", out}};
  }));

  control.handle("device", H([deps](const json& args) -> Result<json> {
    auto id = stringArg(args, "device");
    if (!id) return std::unexpected(id.error());
    auto it = deps.health.find(*id);
    if (it == deps.health.end()) {
      return fail(ErrorCode::kNotFound, "no device \"" + *id + "\" (configured: " + configuredIds(deps.health) + ")");
    }
    json d{{"id", *id}, {"kind", it->second.kind}, {"state", it->second.state}, {"detail", it->second.detail}};
    if (deps.devices) {
      if (auto info = deps.devices->device(*id)) {
        d["identity"] = info->identity;
        d["transport"] = info->transport;
        d["last_error"] = info->lastError;
      }
      d["raw"] = rawJson(*deps.devices, *id, args.value("max", 50));
    }
    return d;
  }));

  control.handle("weigh", [deps](const json& args, std::shared_ptr<ControlReply> reply) { weigh(deps, args, reply); });
}

}  // namespace floorlink::agent
