// bench_workflows: a station step with a long queue behind it.
//
// pack_scan_ms_p50/p99: scan of an order barcode at a pack bench (indexed
// lookup of the pending pack task, claim, task.started and the station's
// position in one durable commit, feedback) with 50,000 pending pack tasks.
// ship_scan_ms_p50/p99: scan of a parcel's SSCC at a dock door (lookup,
// claim, done, ship.confirmed) with 50,000 pending ship tasks.
// Baseline, same run and disk: a raw SQLite single-row durable commit.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/stations/station.h"
#include "agent/commands/commands.h"
#include "agent/store/task_store.h"
#include "bench/bench_util.h"
#include "bench/raw_commit.h"

namespace fl = floorlink;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPending = 50'000;
constexpr int kScans = 2'000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_workflows: %s\n", what.c_str());
  std::exit(1);
}

class FakeScanner final : public fl::drivers::Scanner {
 public:
  const std::string& id() const override { return id_; }
  void setHandlers(Handlers) override {}
  fl::drivers::DeviceClient deviceClient() override { return {}; }
  fl::Status feedback(bool good) override {
    lastGood = good;
    at = Clock::now();
    return fl::ok();
  }
  bool supportsFeedback() const override { return true; }
  Clock::time_point at{};
  bool lastGood = false;

 private:
  std::string id_ = "scanner1";
};

std::string sscc(int i) {
  std::string body = "00950600" + std::to_string(100000000 + i).substr(0, 9);
  int sum = 0;
  for (size_t k = 0; k < body.size(); ++k) sum += (body[body.size() - 1 - k] - '0') * (k % 2 == 0 ? 3 : 1);
  return body + std::to_string((10 - sum % 10) % 10);
}

fl::sync::Command wave(fl::sync::TaskKind kind) {
  fl::sync::WaveAssign w;
  w.waveId = kind == fl::sync::TaskKind::kPack ? "PACK" : "SHIP";
  w.revision = 1;
  for (int i = 0; i < kPending; ++i) {
    fl::sync::TaskSpec t;
    t.kind = kind;
    nlohmann::json j;
    if (kind == fl::sync::TaskKind::kPack) {
      t.taskId = "P" + std::to_string(i);
      t.orderId = "O" + std::to_string(i);
      t.pack.lines = {{"SKU-1", "", 1}};
      t.pack.expectedWeightG = 1000;
      t.pack.toleranceG = 50;
      j = {{"task_id", t.taskId}, {"kind", "pack"}, {"order_id", t.orderId},
           {"lines", nlohmann::json::array({{{"sku", "SKU-1"}, {"qty", 1}}})}, {"expected_weight_g", 1000},
           {"tolerance_g", 50}, {"label", {{"template", "shipping"}, {"fields", nlohmann::json::object()}}}};
    } else {
      t.taskId = "S" + std::to_string(i);
      t.orderId = "O" + std::to_string(i);
      t.ship.sscc = sscc(i);
      t.ship.door = "D1";
      j = {{"task_id", t.taskId}, {"kind", "ship"}, {"order_id", t.orderId}, {"sscc", t.ship.sscc}, {"door", "D1"}};
    }
    t.json = j.dump();
    w.tasks.push_back(std::move(t));
  }
  return fl::sync::Command{"bench-" + w.waveId, "wave.assign", 0, std::move(w)};
}

// Scans code(i) at station(i) for i < kScans; returns scan -> feedback times.
template <class StationOf, class CodeOf>
std::vector<double> scans(fl::agent::TaskStore& store, FakeScanner& scanner, StationOf stationOf, CodeOf codeOf) {
  fl::drivers::ScanClassifier classifier;
  std::vector<double> ms;
  for (int i = 0; i < kScans; ++i) {
    fl::agent::Station& st = stationOf(i);
    auto scan = classifier.classify(codeOf(i));
    if (!scan) die(scan.error().describe());
    auto t0 = Clock::now();
    st.onScan(*scan, fl::agent::ScanSource::kScanner);
    if (!scanner.lastGood) die("scan refused at " + st.id() + ": " + st.view().message);
    ms.push_back(std::chrono::duration<double, std::milli>(scanner.at - t0).count());
  }
  (void)store;
  return ms;
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/bench-workflows-XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  fl::SystemClock clock;
  FakeScanner scanner;
  nlohmann::json out = nlohmann::json::array();
  auto [baseP50, baseP99] = fl::bench::rawCommitMs(dir / "raw.db", kScans);
  for (auto kind : {fl::sync::TaskKind::kPack, fl::sync::TaskKind::kShip}) {
    const bool pack = kind == fl::sync::TaskKind::kPack;
    fl::agent::StoreOptions so;
    so.path = dir / (pack ? "pack.db" : "ship.db");
    so.site = "dc1";
    so.agentId = "pc7";
    auto store = fl::agent::TaskStore::open(so, clock);
    if (!store) die(store.error().describe());
    if (auto r = fl::agent::Commands(**store).apply(wave(kind)); !r || r->status != "accepted") die("wave not accepted");
    // One bench per order (each opens one box); one door for every parcel.
    std::vector<std::unique_ptr<fl::agent::Station>> stations;
    for (int i = 0; i < (pack ? kScans : 1); ++i) {
      fl::config::StationConfig c;
      c.id = (pack ? "pack" : "ship") + std::to_string(i);
      c.kind = pack ? fl::config::StationKind::kPack : fl::config::StationKind::kShip;
      fl::agent::StationDeps deps{**store, clock, fl::Logger()};
      deps.scanner = &scanner;
      stations.push_back(std::make_unique<fl::agent::Station>(c, std::move(deps), fl::drivers::ScanClassifier{}));
      stations.back()->start();
    }
    // Orders and parcels from all over the queue, newest included.
    auto pick = [](int i) { return (i * 7919 + (i == kScans - 1 ? kPending - 1 : 0)) % kPending; };
    auto ms = scans(**store, scanner, [&](int i) -> fl::agent::Station& { return *stations[pack ? i : 0]; },
                    [&](int i) { return pack ? "O" + std::to_string(pick(i)) : "]C100" + sscc(pick(i)); });
    double p50 = fl::bench::percentile(ms, 0.5), p99 = fl::bench::percentile(ms, 0.99);
    std::string name = pack ? "pack_scan_ms" : "ship_scan_ms";
    std::printf("%-20s p50 %8.3f ms  p99 %8.3f ms  (%d pending, %d scans)  baseline raw durable commit p50 %.3f p99 %.3f\n",
                name.c_str(), p50, p99, kPending, kScans, baseP50, baseP99);
    out.push_back({{"name", name + "_p50"}, {"value", p50}, {"unit", "ms"}, {"baseline", baseP50}, {"ratio", p50 / baseP50}});
    out.push_back({{"name", name + "_p99"}, {"value", p99}, {"unit", "ms"}, {"baseline", baseP99}, {"ratio", p99 / baseP99}});
  }
  std::filesystem::remove_all(dir);
  const char* outDir = std::getenv("FLOORLINK_BENCH_OUT");
  std::ofstream(std::filesystem::path(outDir ? outDir : ".") / "workflows.json") << out.dump(2) << "\n";
  return 0;
}
