// bench_sync: the agent's MQTT sync against a loopback mosquitto, with the
// real SQLite task store (agent/store) behind it.
//
//   backlog_drain_events_per_s  100,000 unacked events drained to the OMS
//                               simulator (acking), vs a bare Paho async client
//                               publishing the same payloads at QoS 1 with the
//                               same in-flight window, in the same run.
//   cmd_to_result_ms_p50/p99    a 1,000-task wave.assign, from the OMS
//                               publishing it to the OMS receiving cmd.result;
//                               baseline: the same round trip for a command
//                               that stores nothing but its answer (task.cancel
//                               of an unknown task).
//   burst_1000_events_ms_p50/99 1,000 events committed in one transaction (as a
//                               wave.cancel of 1,000 tasks does), from the
//                               commit to the last event at the OMS; baseline:
//                               the same 1,000 payloads published by bare Paho
//                               (same window) in the same run.
//   rss_at_100k_backlog_mib     process RSS while the agent holds 100,000
//                               unacked events and has sent them all once;
//                               baseline: RSS before the store was opened.
//
// Prints a table and writes $FLOORLINK_BENCH_OUT/sync.json (default: .).
#include <fmt/format.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/mqtt_bench.h"
#include "tests/support/loop_thread.h"
#include "agent/port/oms_port.h"
#include "agent/store/task_store.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "sync/sync.h"
#include "tests/support/mosquitto_broker.h"
#include "tools/oms_sim/oms_sim.h"

namespace fl = floorlink;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kBacklog = 100'000;
constexpr int kWindow = 64;
constexpr int kDrainRounds = 5;
constexpr int kWaveTasks = 1000;
constexpr int kLatencyRounds = 30;
constexpr int kBurst = 1000;
constexpr int kBurstRounds = 20;

using floorlink::bench::Figure;
using floorlink::bench::WindowedPublisher;

[[noreturn]] void die(const std::string& what) { floorlink::bench::die("bench_sync", what); }

double rssMib() { return floorlink::bench::statusMib("VmRSS"); }

using floorlink::bench::percentile;

using floorlink::testing::LoopThread;

fl::config::Config agentConfig(const std::string& url) {
  fl::config::Config c;
  c.agent.site = "dc1";
  c.agent.id = "pc7";
  c.mqtt.url = url;
  c.mqtt.inflight = kWindow;
  c.mqtt.keepalive = 10s;
  c.mqtt.ackTimeout = 60s;  // no timeout resends during the measurement
  c.mqtt.stateInterval = 600s;
  c.mqtt.backoffMin = 100ms;
  c.mqtt.backoffMax = 1000ms;
  return c;
}

void fillBacklog(fl::agent::TaskStore& store) {
  if (auto r = floorlink::bench::appendPickEvents(store, kBacklog); !r) die("backlog: " + r.error().describe());
}

// Baseline: a bare Paho async client, QoS 1, at most kWindow unacknowledged.
double bareDrain(const std::string& url, const std::vector<std::string>& payloads, int64_t firstSeq) {
  fl::omssim::OmsSimOptions so;
  so.url = url;
  so.startSeq = firstSeq;
  so.agent = "base";
  so.clientId = "oms-sim-baseline";
  // Same event ids as the agent's would be "dc1/pc7/N": the sim checks them, so relabel.
  auto sim = fl::omssim::OmsSim::connect(so);
  if (!sim) die(sim.error().describe());
  mqtt::async_client client(url, "bare-paho", mqtt::create_options(MQTTVERSION_5), nullptr);
  WindowedPublisher publisher(floorlink::bench::connectBare(client, kWindow));
  auto start = Clock::now();
  publisher.publishAll(client, "wh/v1/dc1/base/evt", payloads);
  const int64_t last = firstSeq - 1 + kBacklog;
  if (!(*sim)->waitFor([last](auto& s) { return s.contiguousThrough >= last; }, 120s)) {
    die("baseline OMS got " + std::to_string((*sim)->summary().contiguousThrough));
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  publisher.waitIdle(10s);
  client.disconnect()->wait();
  return kBacklog / secs;
}

// Baseline of a burst: bare Paho publishes `payloads` at once (window kWindow);
// returns ms from the first publish to the OMS holding the last one.
double bareBurst(mqtt::async_client& client, int window, fl::omssim::OmsSim& sim,
                 const std::vector<std::string>& payloads, int64_t last) {
  WindowedPublisher publisher(window);
  auto start = Clock::now();
  publisher.publishAll(client, "wh/v1/dc1/base/evt", payloads);
  if (!sim.waitFor([last](auto& s) { return s.contiguousThrough >= last; }, 60s)) die("bare burst stalled");
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  publisher.waitIdle(10s);
  return ms;
}

}  // namespace

int main() {
  std::vector<Figure> figures;
  double rssBase = rssMib();

  auto broker = fl::testing::MosquittoBroker::start(
      {.persistence = false, .extraConfig = "set_tcp_nodelay true"});  // as a latency-minded broker would run
  if (!broker) die(broker.error().describe());
  std::string url = (*broker)->url();
  auto dir = fl::testing::makeTempDir("floorlink-bench-sync");
  if (!dir) die(dir.error().describe());

  fl::SystemClock clock;
  LoopThread lt;
  fl::agent::StoreOptions so;
  so.path = *dir + "/floorlink.db";
  so.site = "dc1";
  so.agentId = "pc7";
  auto store = lt.call([&] { return fl::agent::TaskStore::open(so, clock); });
  if (!store) die("store: " + store.error().describe());
  fl::agent::OmsPort st(**store);
  lt.call([&] { fillBacklog(st); });

  // --- RSS while holding the backlog, everything sent once, nothing acked.
  auto cfg = agentConfig(url);
  std::unique_ptr<fl::sync::Sync> sync;
  lt.call([&] {
    auto s = fl::sync::Sync::create(lt.loop(), cfg, st, fl::Logger());
    if (!s) die(s.error().describe());
    sync = std::move(*s);
    (void)sync->start();
  });
  auto deadline = Clock::now() + 120s;
  while (lt.call([&] { return sync->status().lastSentSeq; }) < kBacklog) {
    if (Clock::now() > deadline) die("agent did not send the backlog");
    std::this_thread::sleep_for(20ms);
  }
  double rss = rssMib();
  lt.call([&] { sync.reset(); });
  figures.push_back({"rss_at_100k_backlog_mib", rss, "MiB", rssBase});

  // --- Drain: the agent reconnects and sends 100,000 unacked events; the OMS
  // acks. Five rounds, each agent drain followed by the bare one, medians
  // reported: a single pair swung between 0.66 and 0.95 on the 2-core VM.
  std::vector<double> agentRates, bareRates;
  for (int round = 0; round < kDrainRounds; ++round) {
    lt.call([&] { sync.reset(); });
    const int64_t from = lt.call([&] { return st.outboxStats()->ackedThrough; });
    if (round > 0) lt.call([&] { fillBacklog(st); });
    const int64_t last = from + kBacklog;
    fl::omssim::OmsSimOptions oo;
    oo.url = url;
    oo.startSeq = from + 1;
    auto sim = fl::omssim::OmsSim::connect(oo);
    if (!sim) die(sim.error().describe());
    auto start = Clock::now();
    lt.call([&] {
      auto s = fl::sync::Sync::create(lt.loop(), cfg, st, fl::Logger());
      if (!s) die(s.error().describe());
      sync = std::move(*s);
      (void)sync->start();
    });
    if (!(*sim)->waitFor([last](auto& s) { return s.contiguousThrough >= last; }, 150s)) {
      die("agent drain stalled at " + std::to_string((*sim)->summary().contiguousThrough));
    }
    agentRates.push_back(kBacklog / std::chrono::duration<double>(Clock::now() - start).count());
    auto sum = (*sim)->summary();
    if (!sum.checksHold()) die("OMS checks failed:\n" + sum.describe());
    // Wait for the acks to land so the next phase starts from an empty outbox.
    deadline = Clock::now() + 30s;
    while (lt.call([&] { return st.outboxStats()->ackedThrough; }) < last && Clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    auto payloads = lt.call([&] { return st.eventsAfter(from, kBacklog); });
    if (!payloads) die(payloads.error().describe());
    std::vector<std::string> bytes;
    bytes.reserve(payloads->size());
    for (auto& e : *payloads) {
      // Same size and shape; only the ids name the baseline's topic owner.
      std::string p = e.payload;
      auto at = p.find("dc1/pc7/");
      if (at != std::string::npos) p.replace(at, 8, "dc1/base/");
      bytes.push_back(std::move(p));
    }
    payloads->clear();
    bareRates.push_back(bareDrain(url, bytes, from + 1));
    std::fprintf(stderr, "drain round %d: agent %.0f ev/s, bare Paho %.0f ev/s\n", round + 1, agentRates.back(),
                 bareRates.back());
  }
  figures.push_back({"backlog_drain_events_per_s", percentile(agentRates, 0.5), "ev/s",
                     percentile(bareRates, 0.5)});

  // --- Command to result.
  {
    fl::omssim::OmsSimOptions oo;
    oo.url = url;
    oo.clientId = "oms-sim-latency";
    auto sim = fl::omssim::OmsSim::connect(oo);
    if (!sim) die(sim.error().describe());
    auto run = [&](auto makeCommand) {
      std::vector<double> ms;
      for (int i = 0; i < kLatencyRounds; ++i) {
        auto [id, payload] = makeCommand(i);
        auto before = (*sim)->summary().results;
        auto t0 = Clock::now();
        if (auto s = (*sim)->sendCommand(id, payload); !s) die(s.error().describe());
        if (!(*sim)->waitFor([&](auto& s) { return s.results > before; }, 30s)) die("no cmd.result for " + id);
        (void)t0;
        ms.push_back((*sim)->summary().commandLatencyMs.back());
      }
      return ms;
    };
    auto waves = run([](int i) {
      std::string id = "bench-wave-" + std::to_string(i);
      return std::pair(id, fl::omssim::generateWave(id, "BW" + std::to_string(i), 1, kWaveTasks));
    });
    auto trivial = run([](int i) {
      std::string id = "bench-cancel-" + std::to_string(i);
      return std::pair(id, R"({"v":1,"cmd_id":")" + id +
                               R"(","type":"task.cancel","sent_at":1,"task_id":"no-such-task-)" + std::to_string(i) +
                               "\"}");
    });
    figures.push_back({"cmd_to_result_ms_p50", percentile(waves, 0.5), "ms", percentile(trivial, 0.5)});
    figures.push_back({"cmd_to_result_ms_p99", percentile(waves, 0.99), "ms", percentile(trivial, 0.99)});
  }
  // --- Bursts: 1,000 events in one commit, commit -> last event at the OMS.
  {
    fl::omssim::OmsSimOptions oo;
    oo.url = url;
    oo.clientId = "oms-sim-burst";
    oo.startSeq = lt.call([&] { return st.outboxStats()->lastSeq; }) + 1;
    auto sim = fl::omssim::OmsSim::connect(oo);
    if (!sim) die(sim.error().describe());
    fl::omssim::OmsSimOptions bo = oo;
    bo.clientId = "oms-sim-burst-base";
    bo.agent = "base";
    bo.startSeq = 1;
    auto baseSim = fl::omssim::OmsSim::connect(bo);
    if (!baseSim) die(baseSim.error().describe());
    mqtt::async_client bare(url, "bare-paho-burst", mqtt::create_options(MQTTVERSION_5), nullptr);
    const int bareWindow = floorlink::bench::connectBare(bare, kWindow);
    std::vector<double> agentMs, bareMs;
    int64_t bareLast = 0;
    for (int round = 0; round < kBurstRounds; ++round) {
      std::vector<std::string> payloads;
      auto [t0, last] = lt.call([&] {
        auto tx = st.begin();
        if (!tx) die("begin: " + tx.error().describe());
        for (int i = 0; i < kBurst; ++i) {
          fl::sync::EventDraft d;
          d.type = "task.cancelled";
          d.occurredAt = 1763780000000 + i;
          d.station = "cart" + std::to_string(i % 4 + 1);
          d.taskId = "BW" + std::to_string(round) + "-T" + std::to_string(i + 1);
          d.waveId = "BW" + std::to_string(round);
          d.dataJson = R"({"reason":"wave cancelled by the OMS"})";
          if (auto r = tx->appendEvent(d); !r) die("appendEvent: " + r.error().describe());
        }
        if (auto r = tx->commit(); !r) die("commit: " + r.error().describe());
        auto t = Clock::now();
        sync->notifyNewEvents();
        return std::pair(t, st.outboxStats()->lastSeq);
      });
      if (!(*sim)->waitFor([last](auto& s) { return s.contiguousThrough >= last; }, 60s)) {
        die("agent burst stalled at " + std::to_string((*sim)->summary().contiguousThrough));
      }
      agentMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      auto events = lt.call([&] { return st.eventsAfter(last - kBurst, kBurst); });
      if (!events) die(events.error().describe());
      for (auto& e : *events) {
        std::string p = e.payload;
        auto seqAt = p.find("\"seq\":");
        auto idAt = p.find("dc1/pc7/");
        if (seqAt == std::string::npos || idAt == std::string::npos) die("unexpected event shape");
        ++bareLast;
        // The baseline's own seq and event_id, same size within a few bytes.
        p.replace(idAt, p.find('"', idAt) - idAt, "dc1/base/" + std::to_string(bareLast));
        auto seqEnd = p.find(',', seqAt);
        p.replace(seqAt + 6, seqEnd - seqAt - 6, std::to_string(bareLast));
        payloads.push_back(std::move(p));
      }
      bareMs.push_back(bareBurst(bare, bareWindow, **baseSim, payloads, bareLast));
    }
    bare.disconnect()->wait();
    std::fprintf(stderr, "burst: agent p50 %.1f ms p99 %.1f ms (window %zu), bare Paho p50 %.1f ms p99 %.1f ms\n",
                 percentile(agentMs, 0.5), percentile(agentMs, 0.99), lt.call([&] { return sync->status().window; }),
                 percentile(bareMs, 0.5), percentile(bareMs, 0.99));
    figures.push_back({"burst_1000_events_ms_p50", percentile(agentMs, 0.5), "ms", percentile(bareMs, 0.5)});
    figures.push_back({"burst_1000_events_ms_p99", percentile(agentMs, 0.99), "ms", percentile(bareMs, 0.99)});
  }
  lt.call([&] {
    sync.reset();
    store->reset();
  });
  std::filesystem::remove_all(*dir);

  floorlink::bench::writeFigures("bench_sync", figures, "sync.json");
  return 0;
}
