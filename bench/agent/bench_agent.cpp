// bench_agent: what an operator feels at a station under load, and what the
// agent costs while idle.
//
// scan_to_feedback_ms_p50/p99: scanner bytes in (framing, classification) ->
// station workflow -> durable commit of task state + event -> feedback to the
// scanner, with 50,000 open tasks in the store and a 10,000-event backlog
// draining to a loopback mosquitto (acked by the OMS simulator) on the same
// event loop. Baseline, same run and disk: a raw SQLite single-row durable
// commit (WAL, synchronous=FULL).
// agent_idle_cpu_percent / agent_idle_rss_mib: the real floorlink binary,
// connected to the broker, no device, for 10 s.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/bench_util.h"
#include "bench/raw_commit.h"
#include "tests/support/loop_thread.h"
#include "agent/stations/station.h"
#include "agent/commands/commands.h"
#include "agent/port/oms_port.h"
#include "agent/store/task_store.h"
#include "sync/sync.h"
#include "tests/support/mosquitto_broker.h"
#include "tools/oms_sim/oms_sim.h"

namespace fl = floorlink;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kOpenTasks = 50'000;
constexpr int kBacklog = 10'000;
constexpr int kScans = 2'000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_agent: %s\n", what.c_str());
  std::exit(1);
}

using floorlink::bench::percentile;

using floorlink::testing::LoopThread;

// Records when the workflow gives the operator feedback.
class FakeScanner final : public fl::drivers::Scanner {
 public:
  const std::string& id() const override { return id_; }
  void setHandlers(Handlers) override {}
  fl::drivers::DeviceClient deviceClient() override { return {}; }
  fl::Status feedback(bool good) override {
    lastGood = good;
    at = Clock::now();
    ++count;
    return fl::ok();
  }
  bool supportsFeedback() const override { return true; }
  Clock::time_point at{};
  bool lastGood = false;
  uint64_t count = 0;

 private:
  std::string id_ = "scanner1";
};

fl::sync::Command bigWave() {
  fl::sync::WaveAssign w;
  w.waveId = "BENCH";
  w.revision = 1;
  for (int i = 0; i < kOpenTasks; ++i) {
    fl::sync::TaskSpec t;
    t.taskId = "T" + std::to_string(i);
    t.kind = fl::sync::TaskKind::kPick;
    t.orderId = "O" + std::to_string(i);
    t.station = "pick1";
    t.pick.bin = "B-" + std::to_string(i);
    t.pick.sku = "SKU-" + std::to_string(i % 977);
    t.pick.gtin = "09506000134352";
    t.pick.qty = 1;
    t.pick.sequence = i;
    nlohmann::json j{{"task_id", t.taskId}, {"kind", "pick"}, {"order_id", t.orderId}, {"station", "pick1"},
                     {"bin", t.pick.bin}, {"sku", t.pick.sku}, {"gtin", t.pick.gtin}, {"qty", 1},
                     {"sequence", i}, {"description", "bench item"}};
    t.json = j.dump();
    w.tasks.push_back(std::move(t));
  }
  return fl::sync::Command{"bench-wave", "wave.assign", 0, std::move(w)};
}

struct Idle {
  double cpuPercent = 0, rssMib = 0;
};

Idle idleAgent(const std::filesystem::path& dir, uint16_t brokerPort) {
  auto cfg = dir / "idle.toml";
  std::ofstream(cfg) << "[agent]\nsite = \"dc1\"\nid = \"idle\"\ndata_dir = \"" << (dir / "idle-data").string()
                     << "\"\n[mqtt]\nurl = \"tcp://127.0.0.1:" << brokerPort << "\"\n[control]\nsocket = \""
                     << (dir / "idle.sock").string() << "\"\n[log]\ntarget = \"stderr\"\nlevel = \"warn\"\n";
  pid_t pid = fork();
  if (pid == 0) {
    std::string bin = std::string(FLOORLINK_BINARY_DIR) + "/tools/floorlink/floorlink";
    execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(3s);  // start-up and connect are not idle
  auto ticks = [pid] {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    auto rp = s.rfind(')');
    std::istringstream rest(s.substr(rp + 2));
    std::string f;
    std::vector<std::string> fields;
    while (rest >> f) fields.push_back(f);
    return std::stoll(fields.at(11)) + std::stoll(fields.at(12));  // utime + stime
  };
  auto t0 = ticks();
  auto w0 = Clock::now();
  std::this_thread::sleep_for(10s);
  auto t1 = ticks();
  double wall = std::chrono::duration<double>(Clock::now() - w0).count();
  Idle out;
  out.cpuPercent = 100.0 * static_cast<double>(t1 - t0) / static_cast<double>(sysconf(_SC_CLK_TCK)) / wall;
  std::ifstream st("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(st, line)) {
    if (line.rfind("VmRSS:", 0) == 0) out.rssMib = std::stod(line.substr(6)) / 1024.0;
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return out;
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/bench-agent-XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  auto broker = fl::testing::MosquittoBroker::start();
  if (!broker) die(broker.error().describe());
  std::string url = "tcp://127.0.0.1:" + std::to_string((*broker)->port());

  fl::SystemClock clock;
  LoopThread lt;
  fl::config::Config cfg;
  cfg.agent.site = "dc1";
  cfg.agent.id = "pc7";
  cfg.agent.dataDir = dir;
  cfg.mqtt.url = url;
  cfg.mqtt.clientId = "dc1-pc7";  // the loader's default; set by hand here
  cfg.mqtt.ackTimeout = 60s;
  cfg.mqtt.stateInterval = 600s;
  fl::config::StationConfig stationCfg;
  stationCfg.id = "pick1";
  stationCfg.kind = fl::config::StationKind::kPick;
  stationCfg.scanner = "scanner1";

  std::unique_ptr<fl::agent::TaskStore> store;
  std::unique_ptr<fl::agent::OmsPort> port;
  std::unique_ptr<fl::sync::Sync> sync;
  std::unique_ptr<fl::agent::Station> station;
  FakeScanner scanner;
  fl::drivers::ScanFramer framer;
  fl::drivers::ScanClassifier classifier;

  std::fprintf(stderr, "bench_agent: storing %d open tasks and a %d-event backlog…\n", kOpenTasks, kBacklog);
  lt.call([&] {
    auto s = fl::agent::TaskStore::open(fl::agent::StoreOptions::fromConfig(cfg), clock);
    if (!s) die(s.error().describe());
    store = std::move(*s);
    if (auto r = fl::agent::Commands(*store).apply(bigWave()); !r || r->status != "accepted") die("wave not accepted");
    for (int done = 0; done < kBacklog;) {
      auto tx = store->begin();
      for (int i = 0; i < 1000; ++i, ++done) {
        fl::sync::EventDraft d{"device.status", clock.nowMs(), "", "", "",
                               R"({"device":"scale1","kind":"scale","state":"ok","detail":""})"};
        if (auto e = tx->appendEvent(d); !e) die(e.error().describe());
      }
      if (auto c = tx->commit(); !c) die(c.error().describe());
    }
    fl::agent::StationDeps deps{*store, clock, fl::Logger()};
    deps.scanner = &scanner;
    station = std::make_unique<fl::agent::Station>(stationCfg, std::move(deps), classifier);
    station->start();
    return 0;
  });

  fl::omssim::OmsSimOptions so;
  so.url = url;
  so.clientId = "oms-bench";
  auto oms = fl::omssim::OmsSim::connect(so);
  if (!oms) die(oms.error().describe());
  lt.call([&] {
    port = std::make_unique<fl::agent::OmsPort>(*store);
    auto s = fl::sync::Sync::create(lt.loop(), cfg, *port, fl::Logger());
    if (!s) die(s.error().describe());
    sync = std::move(*s);
    store->setCommitListener([&](const fl::agent::CommitNotice& n) {
      if (n.lastSeq > 0) sync->notifyNewEvents();
    });
    (void)sync->start();
    return 0;
  });
  // Measure while the backlog drains: once connected and sending.
  for (auto until = Clock::now() + 15s; !lt.call([&] { return sync->status().connected; });) {
    if (Clock::now() > until) die("sync did not connect within 15 s: " + lt.call([&] { return sync->status().lastError; }));
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(200ms);
  auto depthAtStart = lt.call([&] { return store->outboxStats()->depth; });

  std::vector<double> ms;
  int good = 0;
  for (int i = 0; i < kScans; ++i) {
    std::string code = lt.call([&] {
      const auto& v = station->view();
      if (!v.task) die("station has no task");
      return v.step == fl::agent::Step::kScanBin ? v.task->bin : std::string("09506000134352");
    });
    std::string bytes = code + "\r";
    auto t0 = Clock::now();
    auto t1 = lt.call([&] {
      std::vector<fl::Result<std::string>> frames;
      framer.feed(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), frames);
      for (auto& f : frames) {
        auto scan = classifier.classify(*f);
        if (!scan) die(scan.error().describe());
        station->onScan(*scan, fl::agent::ScanSource::kScanner);
      }
      return scanner.at;
    });
    if (scanner.lastGood) ++good;
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  auto depthAtEnd = lt.call([&] { return store->outboxStats()->depth; });
  auto syncStatus = lt.call([&] { return sync->status(); });
  if (!syncStatus.connected) die("sync never connected: " + syncStatus.lastError);
  if (depthAtEnd >= depthAtStart) die("the backlog did not drain while scanning");
  lt.call([&] {
    sync->stop();
    sync.reset();
    station.reset();
    store.reset();
    return 0;
  });
  auto [baseP50, baseP99] = fl::bench::rawCommitMs(dir / "raw.db", kScans);
  auto idle = idleAgent(dir, (*broker)->port());
  std::filesystem::remove_all(dir);

  double p50 = percentile(ms, 0.5), p99 = percentile(ms, 0.99);
  std::printf("%d scans (%d good-read), %d open tasks, backlog %lld -> %lld while scanning\n", kScans, good, kOpenTasks,
              static_cast<long long>(depthAtStart), static_cast<long long>(depthAtEnd));
  std::printf("%-28s %10.3f ms   baseline raw SQLite durable commit %8.3f ms   ratio %.2f\n", "scan_to_feedback_ms_p50",
              p50, baseP50, p50 / baseP50);
  std::printf("%-28s %10.3f ms   baseline raw SQLite durable commit %8.3f ms   ratio %.2f\n", "scan_to_feedback_ms_p99",
              p99, baseP99, p99 / baseP99);
  std::printf("%-28s %10.2f %%\n%-28s %10.1f MiB\n", "agent_idle_cpu_percent", idle.cpuPercent, "agent_idle_rss_mib",
              idle.rssMib);
  nlohmann::json out = nlohmann::json::array(
      {{{"name", "scan_to_feedback_ms_p50"}, {"value", p50}, {"unit", "ms"}, {"baseline", baseP50}, {"ratio", p50 / baseP50}},
       {{"name", "scan_to_feedback_ms_p99"}, {"value", p99}, {"unit", "ms"}, {"baseline", baseP99}, {"ratio", p99 / baseP99}},
       {{"name", "agent_idle_cpu_percent"}, {"value", idle.cpuPercent}, {"unit", "%"}},
       {{"name", "agent_idle_rss_mib"}, {"value", idle.rssMib}, {"unit", "MiB"}}});
  const char* outDir = std::getenv("FLOORLINK_BENCH_OUT");
  std::ofstream(std::filesystem::path(outDir ? outDir : ".") / "agent.json") << out.dump(2) << "\n";
  return good == kScans ? 0 : 1;
}
