// floorlinkctl: the technician's tool. Talks to the running agent over its
// control socket; every verb that prints takes --json.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "agent/control/control_server.h"
#include "config/loader.h"

namespace {

using nlohmann::json;
using floorlink::Result;

std::string text(const json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump();
}

std::string ago(int64_t ms) {
  if (ms <= 0) return "-";
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 120'000) return std::to_string(ms / 1000) + " s";
  if (ms < 7'200'000) return std::to_string(ms / 60'000) + " min";
  return std::to_string(ms / 3'600'000) + " h";
}

void printStatus(const json& s) {
  std::cout << "floorlink " << text(s, "agent_version") << "  " << text(s, "site") << "/" << text(s, "agent")
            << "  up " << ago(s.value("uptime_s", int64_t{0}) * 1000) << "\n";
  if (s.contains("database")) {
    const auto& d = s["database"];
    std::cout << "database  " << text(d, "state") << "  " << text(d, "detail", "") << "\n";
  }
  if (s.contains("broker")) {
    const auto& b = s["broker"];
    std::cout << "broker    " << (b.value("connected", false) ? "connected" : "NOT CONNECTED") << "  "
              << text(b, "url") << "  session " << text(b, "session") << "\n";
    if (b.contains("last_error") && !b["last_error"].get<std::string>().empty()) {
      std::cout << "          last error: " << text(b, "last_error") << "\n";
    }
  } else {
    std::cout << "broker    (sync not running)\n";
  }
  if (s.contains("outbox")) {
    const auto& o = s["outbox"];
    std::cout << "outbox    " << o.value("depth", 0) << " unacked, oldest " << ago(o.value("oldest_unacked_ms", int64_t{0}))
              << ", last seq " << o.value("last_seq", 0) << ", acked through " << o.value("acked_through", 0) << "\n";
  }
  if (s.contains("devices")) {
    std::cout << "devices   " << (s["devices"].empty() ? "none configured" : "") << "\n";
    for (const auto& d : s["devices"]) {
      std::cout << "  " << text(d, "id") << "  " << text(d, "kind") << "  " << text(d, "state") << "  "
                << text(d, "detail", "") << "\n";
    }
  }
  if (s.contains("warnings")) {
    for (const auto& w : s["warnings"]) std::cout << "WARNING: " << w.get<std::string>() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floorlinkctl: inspect and drive a running floorlink agent"};
  app.require_subcommand(1);
  std::string socket = "/run/floorlink/control.sock";
  std::string configPath;
  bool asJson = false;
  int timeoutS = 30;
  app.add_option("--socket", socket, "the agent's control socket")->capture_default_str();
  app.add_option("--config", configPath, "take the control socket from this configuration file");
  app.add_flag("--json", asJson, "print machine-readable JSON");
  app.add_option("--timeout", timeoutS, "seconds to wait for the agent")->capture_default_str();

  std::string verb;
  json args = json::object();
  std::function<void(const json&)> render = [](const json& j) { std::cout << j.dump(2) << "\n"; };

  auto* status = app.add_subcommand("status", "version, uptime, broker connection, devices, outbox");
  status->callback([&] {
    verb = "status";
    render = printStatus;
  });
  for (auto* sub : app.get_subcommands({})) sub->add_flag("--json", asJson, "print machine-readable JSON");

  CLI11_PARSE(app, argc, argv);

  if (!configPath.empty()) {
    auto c = floorlink::config::loadFile(configPath);
    if (!c) {
      std::cerr << c.error().message << "\n";
      return 2;
    }
    socket = c->control.socket.string();
  }
  auto progress = [&](const json& p) {
    if (asJson) {
      std::cout << json{{"progress", p}}.dump() << "\n";
    } else if (p.contains("message")) {
      std::cerr << p["message"].get<std::string>() << "\n";
    } else {
      std::cerr << p.dump() << "\n";
    }
  };
  auto result = floorlink::agent::controlRequest(socket, verb, args, progress, timeoutS * 1000);
  if (!result) {
    if (asJson) {
      std::cout << json{{"ok", false}, {"error", result.error().message}}.dump() << "\n";
    } else {
      std::cerr << "floorlinkctl: " << result.error().message << "\n";
    }
    return result.error().code == floorlink::ErrorCode::kDisconnected ? 3 : 1;
  }
  if (asJson) {
    std::cout << result->dump(2) << "\n";
  } else {
    render(*result);
  }
  return 0;
}
