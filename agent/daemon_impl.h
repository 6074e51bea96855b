#pragma once
// Internal: the state of a running agent (daemon.cpp: wiring and lifecycle).
// The floorlinkctl verbs (agent/control/verbs_*) see only the parts they need.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/control/control_server.h"
#include "agent/daemon.h"
#include "agent/device_health.h"
#include "agent/stations/station.h"
#include "agent/port/oms_port.h"
#include "agent/store/high_water.h"
#include "agent/store/sqlite_job_store.h"
#include "agent/store/task_store.h"
#include "agent/web/web_server.h"
#include "core/loop_bound.h"
#include "drivers/device_manager.h"
#include "drivers/scale/scale.h"
#include "drivers/scanner.h"
#include "printers/label_printer.h"
#include "printers/label_template.h"
#include "printers/print_service.h"
#include "sync/sync.h"

namespace floorlink::agent {

// Stands in for the task store when the database could not be opened
// (corrupt, salvage pending): sync still connects and the state topic says
// loudly why no work is accepted; commands are not applied.
class UnavailableStore final : public sync::AgentPort {
 public:
  UnavailableStore(std::string why, std::filesystem::path databasePath)
      : why_(std::move(why)), databasePath_(std::move(databasePath)) {}
  Result<sync::CommandOutcome> applyCommand(const sync::Command&) override { return fail(ErrorCode::kStorage, why_); }
  Result<sync::CommandOutcome> rejectCommand(const sync::RejectedCommand&) override {
    return fail(ErrorCode::kStorage, why_);
  }
  Status recordInvalid(const sync::InvalidMessage&) override { return fail(ErrorCode::kStorage, why_); }
  Result<std::vector<sync::OutboxEvent>> eventsAfter(int64_t, size_t) override { return std::vector<sync::OutboxEvent>{}; }
  Result<bool> acknowledge(int64_t) override { return false; }
  Result<sync::OutboxStats> outboxStats() override { return sync::OutboxStats{}; }
  // From the high-water file beside the database: counting from 1 here
  // would reuse sessions the OMS has seen (C-P3, C-E6).
  // If even the file cannot be written, the wall clock in ms still grows
  // past any counted session, and the state topic must get out.
  Result<uint64_t> nextSession() override {
    auto next = nextSessionFromHighWater(databasePath_);
    if (next) return *next;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    fallback_ = std::max<uint64_t>(fallback_ + 1, static_cast<uint64_t>(ms));
    return fallback_;
  }
  sync::AgentHealth health() override { return {false, why_, {}}; }

 private:
  std::string why_;
  std::filesystem::path databasePath_;
  uint64_t fallback_ = 0;
};

struct Daemon::Impl {
  config::Config config;
  DaemonOptions options;
  Logging& logging;
  Logger log;
  SystemClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<ControlServer> control;
  int64_t startedAtMs = 0;

  std::unique_ptr<TaskStore> store;
  std::unique_ptr<OmsPort> oms;  // sync's view of the store (after it: destroyed first)
  std::string storeProblem;  // why there is no store
  std::unique_ptr<UnavailableStore> unavailable;
  std::unique_ptr<sync::Sync> sync;

  std::unique_ptr<drivers::DeviceManager> devices;
  std::map<std::string, std::unique_ptr<drivers::Scanner>> scanners;
  std::map<std::string, std::unique_ptr<drivers::Scale>> scales;
  std::map<std::string, std::unique_ptr<printers::LabelPrinter>> printers;
  DeviceHealthMap health;  // every configured device
  std::unique_ptr<SqliteJobStore> jobStore;
  std::unique_ptr<printers::TemplateLibrary> templates;
  std::unique_ptr<printers::PrintService> printService;
  std::map<std::string, std::unique_ptr<Station>> stations;
  std::map<std::string, std::string> stationOfScanner;
  std::vector<std::string> warnings;  // shown by floorlinkctl status
  std::vector<TaskChange> pendingChanges;  // for stations, delivered once per loop pass
  bool stationPokePending = false;
  std::string webFingerprint;  // sync state last told to the pages
  std::map<std::string, std::string> lastReadingText;  // per scale, for the live weight
  // Destroyed (threads joined) before anything its requests reach.
  std::unique_ptr<WebServer> web;
  // Last member: work the daemon posts to itself does not run once it goes.
  std::unique_ptr<LoopBound> bound;

  Impl(config::Config c, DaemonOptions o, Logging& l)
      : config(std::move(c)), options(std::move(o)), logging(l), log(l.get("agent")) {}

  sync::AgentPort& port() { return oms ? static_cast<sync::AgentPort&>(*oms) : *unavailable; }

  Status openStore();
  Status openSync();
  Status openDevices();
  Status openPrinters();
  void openStations();
  void registerVerbs();
  void deviceStatus(const std::string& id, const std::string& state, const std::string& detail);
  void onCommit(const CommitNotice& notice);
  std::vector<sync::ComponentHealth> componentHealth() const;
  Station* station(const std::string& id);
  Status openWeb();
  void pagesChanged() {
    if (web) web->notifyChanged();
  }
  void reload();
  void startWatchdog();
  void shutdown();
};

}  // namespace floorlink::agent
