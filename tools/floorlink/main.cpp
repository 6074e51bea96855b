// floorlink: the warehouse edge agent. main only parses the command line and
// hands over to agent::Daemon.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "agent/daemon.h"
#include "config/loader.h"

int main(int argc, char** argv) {
  using namespace floorlink;
  CLI::App app{"floorlink: warehouse edge agent (scanners, scales, label printers, OMS sync over MQTT)"};
  std::string configPath = "/etc/floorlink/floorlink.toml";
  std::string checkPath;
  std::vector<std::string> overrides;
  bool printDefault = false, version = false;
  app.add_option("-c,--config", configPath, "configuration file")->capture_default_str();
  app.add_option("--set", overrides, "override a key: --set mqtt.url=tcp://10.0.0.5:1883 (repeatable)");
  app.add_option("--check-config", checkPath, "validate a configuration file and exit 0 (valid) or 1");
  app.add_flag("--print-default-config", printDefault, "print a complete commented example configuration");
  app.add_flag("--version", version, "print the version");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "floorlink " << FLOORLINK_VERSION << "\n";
    return 0;
  }
  if (printDefault) {
    std::cout << config::defaultConfigText();
    return 0;
  }
  if (!checkPath.empty()) {
    auto c = config::loadFile(checkPath, overrides);
    if (!c) {
      std::cerr << c.error().message << "\n";
      return 1;
    }
    std::cout << checkPath << ": ok (" << c->devices.size() << " devices, " << c->stations.size() << " stations)\n";
    return 0;
  }

  auto cfg = config::loadFile(configPath, overrides);
  if (!cfg) {
    std::cerr << "floorlink: configuration not valid:\n" << cfg.error().message << "\n";
    return 1;
  }
  LoggingOptions logOptions;
  logOptions.target = cfg->log.target;
  logOptions.defaultLevel = cfg->log.level;
  logOptions.moduleLevels = cfg->log.modules;
  auto logging = Logging::create(logOptions);
  if (!logging) {
    std::cerr << "floorlink: " << logging.error().message << "\n";
    return 1;
  }
  if (const char* spec = std::getenv("FLOORLINK_LOG")) {
    if (auto s = (*logging)->applySpec(spec); !s) {
      std::cerr << "floorlink: FLOORLINK_LOG: " << s.error().message << "\n";
      return 1;
    }
  }
  auto daemon = agent::Daemon::create(std::move(*cfg), {configPath, overrides}, **logging);
  if (!daemon) {
    (*logging)->get("agent").error("cannot start: {}", daemon.error().message);
    return 1;
  }
  if (auto s = (*daemon)->run(); !s) {
    (*logging)->get("agent").error("stopped on error: {}", s.error().message);
    return 1;
  }
  return 0;
}
