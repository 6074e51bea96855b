#include "agent/daemon.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "agent/control/control_server.h"
#include "config/loader.h"

namespace floorlink::agent {

using nlohmann::json;

struct Daemon::Impl {
  config::Config config;
  DaemonOptions options;
  Logging& logging;
  Logger log;
  SystemClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<ControlServer> control;
  int64_t startedAtMs = 0;

  Impl(config::Config c, DaemonOptions o, Logging& l)
      : config(std::move(c)), options(std::move(o)), logging(l), log(l.get("agent")) {}

  json status() const {
    json s;
    s["agent_version"] = FLOORLINK_VERSION;
    s["site"] = config.agent.site;
    s["agent"] = config.agent.id;
    s["started_at"] = startedAtMs;
    s["uptime_s"] = (clock.nowMs() - startedAtMs) / 1000;
    s["config"] = config.sourceFile;
    s["data_dir"] = config.agent.dataDir.string();
    return s;
  }

  void reload() {
    // Only what can change at run time is applied: log levels. The rest
    // needs a restart, and we say so rather than half-apply it.
    auto fresh = config::loadFile(options.configPath, options.overrides);
    if (!fresh) {
      log.error("reload: configuration not applied, the running one stays: {}", fresh.error().message);
      return;
    }
    logging.setLevel("*", fresh->log.level);
    for (auto& [module, level] : fresh->log.modules) logging.setLevel(module, level);
    bool restartNeeded = fresh->mqtt.url != config.mqtt.url || fresh->devices.size() != config.devices.size() ||
                         fresh->stations.size() != config.stations.size() || fresh->agent.dataDir != config.agent.dataDir;
    config.log = fresh->log;
    log.info("reload: log levels applied{}", restartNeeded ? "; other changes need a restart (systemctl restart floorlink)" : "");
  }

  void startWatchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    // Fed from the loop: a stuck loop stops the pings and systemd restarts us.
    auto period = std::chrono::milliseconds(usec / 2000);
    loop->addTimer(period, [] { sd_notify(0, "WATCHDOG=1"); }, period);
    log.info("systemd watchdog on, pinging every {} ms", period.count());
  }
};

Result<std::unique_ptr<Daemon>> Daemon::create(config::Config config, DaemonOptions options, Logging& logging) {
  auto impl = std::make_unique<Impl>(std::move(config), std::move(options), logging);
  for (const auto& s : impl->config.secrets()) logging.addSecret(s);
  auto loop = EventLoop::create();
  if (!loop) return std::unexpected(loop.error());
  impl->loop = std::move(*loop);
  impl->startedAtMs = impl->clock.nowMs();

  std::error_code ec;
  std::filesystem::create_directories(impl->config.agent.dataDir, ec);
  if (ec) {
    return fail(ErrorCode::kIo, "cannot create data directory " + impl->config.agent.dataDir.string() + ": " +
                                    ec.message());
  }

  auto control = ControlServer::create(*impl->loop, {impl->config.control.socket, impl->config.control.group},
                                       logging.get("control"));
  if (!control) return std::unexpected(control.error());
  impl->control = std::move(*control);
  auto* p = impl.get();
  impl->control->handle("status", ControlServer::SimpleHandler([p](const json&) -> Result<json> { return p->status(); }));
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

Status Daemon::run() {
  auto& d = *impl_;
  auto stopNow = [&d] {
    d.log.info("stopping");
    sd_notify(0, "STOPPING=1");
    d.loop->stop();
  };
  if (auto s = d.loop->watchSignal(SIGTERM, stopNow); !s) return s;
  if (auto s = d.loop->watchSignal(SIGINT, stopNow); !s) return s;
  if (auto s = d.loop->watchSignal(SIGHUP, [&d] { d.reload(); }); !s) return s;
  d.startWatchdog();
  d.log.info("floorlink {} running as {}/{}; control socket {}", FLOORLINK_VERSION, d.config.agent.site,
             d.config.agent.id, d.config.control.socket.string());
  sd_notify(0, "READY=1");
  return d.loop->run();
}

void Daemon::stop() { impl_->loop->stop(); }

}  // namespace floorlink::agent
