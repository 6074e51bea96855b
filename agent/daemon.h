#pragma once
// The floorlink agent process: owns the event loop and wires configuration,
// the task store, sync, devices, printers, stations and the control socket.
// main() only parses the command line and hands over.
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"

namespace floorlink::agent {

struct DaemonOptions {
  std::string configPath;                // reloaded on SIGHUP
  std::vector<std::string> overrides;    // --set, reapplied on reload
};

class Daemon {
 public:
  // Opens everything the configuration names. Errors say what to fix.
  static Result<std::unique_ptr<Daemon>> create(config::Config config, DaemonOptions options, Logging& logging);
  ~Daemon();

  // Runs until SIGTERM/SIGINT (or stop()); tells systemd READY=1 and feeds
  // its watchdog meanwhile.
  Status run();
  void stop();

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::agent
