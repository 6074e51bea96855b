#include "agent/daemon.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <csignal>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/control/verbs_agent.h"
#include "agent/control/verbs_devices.h"
#include "agent/control/verbs_print.h"
#include "agent/control/verbs_stations.h"
#include "agent/control/verbs_sync.h"
#include "agent/control/verbs_tasks.h"
#include "agent/daemon_impl.h"
#include "agent/store/salvage.h"
#include "config/loader.h"

namespace floorlink::agent {

using nlohmann::json;

Status Daemon::Impl::openStore() {
  auto opened = TaskStore::open(StoreOptions::fromConfig(config), clock, logging.get("store"));
  if (opened) {
    store = std::move(*opened);
    store->setCommitListener([this](const CommitNotice& n) { onCommit(n); });
    oms = std::make_unique<OmsPort>(*store);
    oms->setDeviceHealthSource([this] { return componentHealth(); });
    // C-E5: a full disk (and room again) reaches …/state at once.
    store->setHealthListener([this] {
      if (sync) sync->notifyHealthChanged();
      pagesChanged();
    });
    if (auto pruned = store->pruneAcked(); pruned && pruned->eventsPruned > 0) {
      log.info("pruned {} acknowledged events older than {} days", pruned->eventsPruned,
               config.storage.retention.count() / 24);
    }
    // Pruning stays current on a long-running agent.
    loop->addTimer(std::chrono::hours(1), [this] { (void)store->pruneAcked(); }, std::chrono::hours(1));
    return ok();
  }
  const auto& e = opened.error();
  if (e.code != ErrorCode::kCorrupt) return std::unexpected(e);
  // Never start afresh on a damaged database (seq would restart at 1): run
  // without a store, and say so everywhere a technician looks.
  storeProblem = "DATABASE DAMAGED: " + e.message +
                 " No work is accepted until it is salvaged: systemctl stop floorlink; floorlinkctl db salvage --config " +
                 options.configPath + "; systemctl start floorlink";
  log.error("{}", storeProblem);
  warnings.push_back(storeProblem);
  unavailable = std::make_unique<UnavailableStore>(storeProblem, StoreOptions::fromConfig(config).path);
  return ok();
}

Status Daemon::Impl::openSync() {
  sync::SyncOptions so;
  so.clock = &clock;
  so.startedAtMs = startedAtMs;
  auto s = sync::Sync::create(*loop, config, port(), logging.get("sync"), so);
  if (!s) return std::unexpected(s.error());
  sync = std::move(*s);
  return sync->start();
}

void Daemon::Impl::deviceStatus(const std::string& id, const std::string& state, const std::string& detail) {
  auto& h = health[id];
  if (h.state == state && h.detail == detail) return;
  h.state = state;
  h.detail = detail;
  h.sinceMs = clock.nowMs();
  auto level = state == "ok" ? LogLevel::kInfo : LogLevel::kWarn;
  if (level == LogLevel::kInfo) {
    log.info(LogFields{.device = id}, "{} {}: {}", h.kind, state, detail.empty() ? "ready" : detail);
  } else {
    log.warn(LogFields{.device = id}, "{} {}: {}", h.kind, state, detail);
  }
  if (store) {
    sync::EventDraft draft;
    draft.type = "device.status";
    draft.occurredAt = clock.nowMs();
    draft.dataJson = json{{"device", id}, {"kind", h.kind}, {"state", state}, {"detail", detail}}.dump();
    if (auto seq = store->appendEvent(draft); !seq) {
      log.error(LogFields{.device = id}, "cannot record device.status: {}", seq.error().message);
    }
  }
  if (sync) sync->notifyHealthChanged();
  pagesChanged();
}

std::vector<sync::ComponentHealth> Daemon::Impl::componentHealth() const {
  std::vector<sync::ComponentHealth> out;
  for (const auto& [id, h] : health) out.push_back({id, h.kind, h.state, h.detail});
  return out;
}

Status Daemon::Impl::openDevices() {
  // Devices keep their own reconnect delays (io::Backoff defaults), not the broker's.
  auto manager = drivers::DeviceManager::create(*loop, clock, logging.get("drivers"));
  if (!manager) return std::unexpected(manager.error());
  devices = std::move(*manager);
  devices->setStatusListener([this](const std::string& id, const drivers::DeviceStatus& s) {
    deviceStatus(id, std::string(drivers::toString(s.state)), s.detail);
  });
  for (const auto& st : config.stations) {
    if (!st.scanner.empty()) stationOfScanner[st.scanner] = st.id;
  }
  for (const auto& d : config.devices) {
    health[d.id].kind = std::string(config::toString(d.kind));
    health[d.id].sinceMs = clock.nowMs();
    if (d.kind == config::DeviceKind::kScanner) {
      auto scanner = drivers::createScanner(*loop, d, logging.get("drivers"));
      if (!scanner) return std::unexpected(scanner.error());
      std::string id = d.id;
      (*scanner)->setHandlers({
          .onScan =
              [this, id](const drivers::ScanValue& scan) {
                auto it = stationOfScanner.find(id);
                if (it == stationOfScanner.end()) {
                  log.info(LogFields{.device = id}, "scan \"{}\" from a scanner no station uses", scan.data);
                  return;
                }
                if (auto* s = station(it->second)) s->onScan(scan, ScanSource::kScanner);
              },
          .onBadScan =
              [this, id](const Error& why, const std::string& raw) {
                auto it = stationOfScanner.find(id);
                if (it == stationOfScanner.end()) return;
                if (auto* s = station(it->second)) s->onBadScan(why, raw, ScanSource::kScanner);
              },
      });
      if (auto s = devices->add(d, (*scanner)->deviceClient()); !s) return s;
      scanners[d.id] = std::move(*scanner);
    } else if (d.kind == config::DeviceKind::kScale) {
      auto scale = drivers::createScale(*loop, d, logging.get("drivers"));
      if (!scale) return std::unexpected(scale.error());
      std::string id = d.id;
      // The manager owns the connection; the scale reports what only the
      // protocol sees (silence, garbage, overload) back to it, and the
      // manager's status listener turns that into device.status.
      if (auto s = devices->add(d, (*scale)->deviceClient()); !s) return s;
      (*scale)->setStatusCallback([this, id](const drivers::DeviceStatus& s) {
        if (s.state == drivers::DeviceState::kFault) devices->reportFault(id, s.detail);
        if (s.state == drivers::DeviceState::kOk) devices->reportOk(id);
      });
      (*scale)->start();
      scales[d.id] = std::move(*scale);
    }
  }
  return ok();
}

Status Daemon::Impl::openPrinters() {
  bool any = false;
  for (const auto& d : config.devices) any = any || d.kind == config::DeviceKind::kPrinter;
  if (!any || !store) return ok();
  auto lib = printers::TemplateLibrary::loadDirectory(config.labels.templatesDir, logging.get("printers"));
  if (!lib) {
    return fail(lib.error().code, "label templates in " + config.labels.templatesDir.string() + ": " +
                                      lib.error().message);
  }
  templates = std::make_unique<printers::TemplateLibrary>(std::move(*lib));
  jobStore = std::make_unique<SqliteJobStore>(*store);
  printService = std::make_unique<printers::PrintService>(*loop, *jobStore, *templates, clock, logging.get("printers"),
                                                          printers::PrintServiceOptions::from(config));
  for (const auto& d : config.devices) {
    if (d.kind != config::DeviceKind::kPrinter) continue;
    auto printer = printers::createLabelPrinter(*loop, d, logging.get("printers"));
    if (!printer) return std::unexpected(printer.error());
    std::string id = d.id;
    auto started = (*printer)->start([this, id](const printers::PrinterStatus& s) {
      deviceStatus(id, std::string(printers::toString(s.state)), s.reason);
    });
    if (!started) return started;
    printService->addPrinter(**printer);
    printers[d.id] = std::move(*printer);
  }
  auto uncertain = printService->recover();
  if (uncertain && *uncertain > 0) {
    std::string w = std::to_string(*uncertain) +
                    " label(s) were being printed when the agent stopped and are now uncertain: check the printer, "
                    "then floorlinkctl print jobs --state uncertain";
    log.warn("{}", w);
    warnings.push_back(w);
  }
  return ok();
}

void Daemon::Impl::openStations() {
  if (!store) return;
  for (const auto& st : config.stations) {
    StationDeps deps{*store, clock, logging.get("agent")};
    deps.onViewChanged = [this](const std::string&) { pagesChanged(); };
    if (!st.scanner.empty() && scanners.count(st.scanner)) deps.scanner = scanners[st.scanner].get();
    if (!st.scale.empty() && scales.count(st.scale)) deps.scale = scales[st.scale].get();
    deps.printService = printService.get();
    deps.printerId = st.printer;
    drivers::ClassifierOptions co;
    if (const auto* dev = config.device(st.scanner)) {
      if (auto it = dev->options.find("bin_pattern"); it != dev->options.end()) co.binLabelPattern = it->second.text;
      if (auto it = dev->options.find("command_pattern"); it != dev->options.end()) co.commandPattern = it->second.text;
    }
    auto classifier = drivers::ScanClassifier::create(co);
    auto s = std::make_unique<Station>(st, std::move(deps), classifier ? std::move(*classifier) : drivers::ScanClassifier{});
    stations[st.id] = std::move(s);
  }
  if (printService) {
    // Posted: a job may change inside a workflow's own call into the service.
    printService->setJobListener([this](const printers::PrintJob& job) {
      bound->post([this, job] {
        if (auto* s = station(job.station)) s->onPrintJob(job);
      });
    });
  }
  for (auto& [id, s] : stations) s->start();
}

Station* Daemon::Impl::station(const std::string& id) {
  auto it = stations.find(id);
  return it == stations.end() ? nullptr : it->second.get();
}

void Daemon::Impl::onCommit(const CommitNotice& notice) {
  if (sync && notice.lastSeq > 0) sync->notifyNewEvents();
  pagesChanged();  // backlog size, task state
  // Tell stations after the committing call returns (a station may itself be
  // the committer, mid-step), once per loop pass however many commits came.
  // Idle stations look for new work after any commit: a new wave is one.
  pendingChanges.insert(pendingChanges.end(), notice.taskChanges.begin(), notice.taskChanges.end());
  if (stationPokePending) return;
  stationPokePending = true;
  bound->post([this] {
    stationPokePending = false;
    auto changes = std::move(pendingChanges);
    pendingChanges.clear();
    for (auto& [id, s] : stations) {
      for (const auto& c : changes) s->onTaskChanged(c);
      s->onWorkMayHaveArrived();
    }
  });
}

// After everything is opened: the verbs keep the pointers they are given.
void Daemon::Impl::registerVerbs() {
  StoreRef storeRef{store.get(), storeProblem};
  registerAgentVerbs(*control, AgentVerbDeps{.config = config,
                                             .clock = clock,
                                             .startedAtMs = startedAtMs,
                                             .store = storeRef,
                                             .sync = sync.get(),
                                             .health = health,
                                             .stations = stations,
                                             .warnings = warnings,
                                             .devices = devices.get(),
                                             .jobStore = jobStore.get(),
                                             .logging = logging});
  registerTaskVerbs(*control, storeRef);
  registerSyncVerbs(*control, SyncVerbDeps{storeRef, sync.get()});
  registerDeviceVerbs(*control, DeviceVerbDeps{*loop, config, health, devices.get(), scales, printers});
  registerPrintVerbs(*control, PrintVerbDeps{printService.get(), storeRef, config.stations});
  registerStationVerbs(*control, StationVerbDeps{stations});
}

Status Daemon::Impl::openWeb() {
  if (!config.http.enabled) return ok();
  auto webOptions = WebOptions::from(config);
  webOptions.version = FLOORLINK_VERSION;
  auto w = WebServer::create(*loop, *control, std::move(webOptions), logging.get("web"));
  if (!w) return std::unexpected(w.error());
  web = std::move(*w);
  // The live weight: only a change of what the screen shows wakes the pages.
  for (auto& [id, scale] : scales) {
    scale->watchReadings([this, id](const drivers::Reading& r) {
      auto text = r.describe();
      if (lastReadingText[id] == text) return;
      lastReadingText[id] = std::move(text);
      pagesChanged();
    });
  }
  // Broker connection and acks change no station or task: look twice a second.
  loop->addTimer(std::chrono::milliseconds(500), [this] {
    if (!sync) return;
    auto st = sync->status();
    auto fp = fmt::format("{}/{}/{}/{}", st.connected, st.session, st.outbox.depth, st.outbox.ackedThrough);
    if (fp == webFingerprint) return;
    webFingerprint = std::move(fp);
    pagesChanged();
  }, std::chrono::milliseconds(500));
  return ok();
}

void Daemon::Impl::reload() {
  // Only what can change at run time is applied: log levels. The rest
  // needs a restart, and we say so rather than half-apply it.
  auto fresh = config::loadFile(options.configPath, options.overrides);
  if (!fresh) {
    log.error("reload: configuration not applied, the running one stays: {}", fresh.error().message);
    return;
  }
  logging.setLevel("*", fresh->log.level);
  for (auto& [module, level] : fresh->log.modules) logging.setLevel(module, level);
  bool restartNeeded = fresh->mqtt.brokerUrls() != config.mqtt.brokerUrls() ||
                       fresh->devices.size() != config.devices.size() ||
                       fresh->stations.size() != config.stations.size() || fresh->agent.dataDir != config.agent.dataDir;
  config.log = fresh->log;
  log.info("reload: log levels applied{}",
           restartNeeded ? "; other changes need a restart (systemctl restart floorlink)" : "");
}

void Daemon::Impl::startWatchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  // Fed from the loop: a stuck loop stops the pings and systemd restarts us.
  auto period = std::chrono::milliseconds(usec / 2000);
  loop->addTimer(period, [] { sd_notify(0, "WATCHDOG=1"); }, period);
  log.info("systemd watchdog on, pinging every {} ms", period.count());
}

void Daemon::Impl::shutdown() {
  // Pages first: their requests wait on this loop, which is about to stop.
  if (web) web->stop();
  // C-P4: online:false goes out before we disconnect.
  if (sync) sync->stop();
  stations.clear();
  for (auto& [id, s] : scales) s->stop();
  for (auto& [id, p] : printers) p->stop();
}

Result<std::unique_ptr<Daemon>> Daemon::create(config::Config config, DaemonOptions options, Logging& logging) {
  auto impl = std::make_unique<Impl>(std::move(config), std::move(options), logging);
  auto& d = *impl;
  for (const auto& s : d.config.secrets()) logging.addSecret(s);
  auto loop = EventLoop::create();
  if (!loop) return std::unexpected(loop.error());
  d.loop = std::move(*loop);
  d.bound = std::make_unique<LoopBound>(*d.loop);
  d.startedAtMs = d.clock.nowMs();
  // Signals are blocked before any library thread (Paho, libusb) starts, so
  // they inherit the mask and SIGTERM/SIGHUP always reach the loop's signalfd
  // instead of killing the process from a thread with the default action.
  auto stopNow = [&d] {
    d.log.info("stopping");
    sd_notify(0, "STOPPING=1");
    d.shutdown();
    d.loop->stop();
  };
  if (auto s = d.loop->watchSignal(SIGTERM, stopNow); !s) return std::unexpected(s.error());
  if (auto s = d.loop->watchSignal(SIGINT, stopNow); !s) return std::unexpected(s.error());
  if (auto s = d.loop->watchSignal(SIGHUP, [&d] { d.reload(); }); !s) return std::unexpected(s.error());

  std::error_code ec;
  std::filesystem::create_directories(d.config.agent.dataDir, ec);
  if (ec) {
    return fail(ErrorCode::kIo, "cannot create data directory " + d.config.agent.dataDir.string() + ": " + ec.message());
  }
  auto control = ControlServer::create(*d.loop, {d.config.control.socket, d.config.control.group}, logging.get("control"));
  if (!control) return std::unexpected(control.error());
  d.control = std::move(*control);

  if (auto s = d.openStore(); !s) return std::unexpected(s.error());
  if (auto s = d.openDevices(); !s) return std::unexpected(s.error());
  if (auto s = d.openPrinters(); !s) return std::unexpected(s.error());
  d.openStations();
  if (auto s = d.openSync(); !s) return std::unexpected(s.error());
  d.registerVerbs();
  if (auto s = d.openWeb(); !s) return std::unexpected(s.error());
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() {
  impl_->shutdown();
}

Status Daemon::run() {
  auto& d = *impl_;
  d.startWatchdog();
  d.log.info("floorlink {} running as {}/{}; control socket {}", FLOORLINK_VERSION, d.config.agent.site,
             d.config.agent.id, d.config.control.socket.string());
  sd_notify(0, "READY=1");
  return d.loop->run();
}

void Daemon::stop() { impl_->loop->stop(); }

}  // namespace floorlink::agent
