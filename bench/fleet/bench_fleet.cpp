// bench_fleet: many agents against one loopback mosquitto, each with its own
// real SQLite task store (agent/store) in its own temporary directory and its
// own MQTT sync client, drained to one OMS simulator consuming every agent
// (wh/v1/dc1/+/evt, acking each on its own).
//
// Each agent is a child process (this binary re-run with --child): one event
// loop, one store, one Sync, as a deployed floorlink is. Processes rather than
// threads in one process because (a) the per-agent RSS is then the true
// VmRSS of an agent process (/proc/PID/status), not a difference of one big
// process, and (b) no agent shares an allocator, a logger or Paho's global
// state with another. The parent drives the children over pipes (fill,
// start, halt, rss, quit) and each child reports every successful connect
// with its steady-clock time (CLOCK_MONOTONIC, one clock for all processes).
//
//   fleet_drain_events_per_s_n1/_n10/_n50
//       N agents each with a 2,000-event unacked backlog; from telling them
//       to start (connect included) to the OMS holding every event of every
//       agent in seq order (the moment it acks them), total events/s.
//       Baseline: N bare Paho async clients (threads of the parent) publishing
//       the same payloads (the agents' own bytes, relabelled to the client's
//       id) at QoS 1 with the same in-flight window (64), connect included,
//       in the same run. Rounds alternate agent/bare; medians reported
//       (5 rounds at N = 1, 3 at N = 10, 3 at N = 50).
//   fleet_agent_rss_mib
//       Mean VmRSS of the N = 50 agent processes, online, just after draining
//       their backlog. Baseline: the same processes' mean VmRSS before their
//       store was opened (the binary and its libraries loaded, nothing else).
//       VmRSS counts shared library pages in every process, so this is what
//       `ps` shows per agent, an upper bound of the memory each one adds.
//   fleet_reconnect_s
//       With the 50 agents online (connected longer than 5 s), the broker is
//       stopped (SIGTERM), each agent commits 200 events while it is down,
//       and after 3 s it is started again on the same port. Time from the
//       broker accepting connections again to every agent reconnected and the
//       OMS holding all 50 outage backlogs. The agents run the default
//       backoff (mqtt.backoff_min 500 ms, backoff_max 30 s, jittered in the
//       upper half of each delay). Baseline: the same procedure with one
//       agent alone, in the same run (one draw of the jitter, so the ratio
//       says how much 49 more agents add, not a fixed bound).
//   fleet_reconnect_spread_s
//       First to last of the 50 reconnects. Baseline: broker back to the last
//       reconnect; a ratio near 1 means the jitter spread the reconnects over
//       the whole window instead of letting them come in step.
//   fleet_reconnect_max_per_100ms
//       Most reconnects in one 100 ms bucket; baseline N (all at once).
//
// FLOORLINK_FLEET_MAX (default 50) caps N; the largest N run gives the RSS
// and reconnect figures. FLOORLINK_FLEET_BROKER_LOG=FILE: on a failure the
// broker's log (every packet) is copied to FILE. Prints a table and writes
// $FLOORLINK_BENCH_OUT/fleet.json (default: .).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/port/oms_port.h"
#include "agent/store/task_store.h"
#include "bench/bench_util.h"
#include "bench/mqtt_bench.h"
#include "core/clock.h"
#include "sync/sync.h"
#include "tests/support/loop_thread.h"
#include "tests/support/mosquitto_broker.h"
#include "tools/oms_sim/oms_sim.h"

extern char** environ;

namespace fl = floorlink;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using floorlink::bench::Figure;
using floorlink::bench::percentile;

namespace {

constexpr int kBacklog = 2000;      // per agent, per drain round
constexpr int kOutageBacklog = 200;  // per agent, committed while the broker is down
constexpr int kWindow = 64;
constexpr auto kOutage = 3s;
constexpr auto kStable = 5500ms;  // longer than Sync's 5 s "stable connection"

std::unique_ptr<fl::testing::MosquittoBroker> gBroker;  // static: killed by exit() in die() too
[[noreturn]] void die(const std::string& what) {
  if (const char* keep = std::getenv("FLOORLINK_FLEET_BROKER_LOG"); keep && *keep && gBroker) {
    std::ofstream(keep) << gBroker->log();
  }
  floorlink::bench::die("bench_fleet", what);
}

// ---------------------------------------------------------------- child ---

std::mutex gOutMutex;
void reply(const std::string& line) {
  std::lock_guard lock(gOutMutex);
  std::string text = line + "\n";
  if (::write(1, text.data(), text.size()) < 0) std::_Exit(1);  // the parent went away
}

int64_t nowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

// Reports each successful connect ("connected to …" at info) to the parent
// the moment Sync logs it; errors go to stderr.
class ConnectSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ConnectSink(std::string id) : id_(std::move(id)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    std::string_view text(m.payload.data(), m.payload.size());
    if (text.rfind("connected to ", 0) == 0) reply(fmt::format("conn {}", nowNs()));
    if (m.level >= spdlog::level::err) std::fprintf(stderr, "agent %s: %.*s\n", id_.c_str(), int(text.size()), text.data());
  }
  void flush_() override {}

 private:
  std::string id_;
};

fl::config::Config agentConfig(const std::string& url, const std::string& id) {
  fl::config::Config c;
  c.agent.site = "dc1";
  c.agent.id = id;
  c.mqtt.url = url;
  c.mqtt.inflight = kWindow;
  c.mqtt.ackTimeout = 60s;  // no timeout resends during a measurement
  c.mqtt.stateInterval = 600s;
  // backoff_min/max, keepalive: the defaults a deployment has.
  return c;
}

int childMain(const std::string& url, const std::string& id, const std::string& dir) {
  ::closefrom(3);  // nothing of the parent's (broker sockets) stays open here
  double rssBefore = floorlink::bench::statusMib("VmRSS");
  fl::SystemClock clock;
  fl::testing::LoopThread lt;
  fl::agent::StoreOptions so;
  so.path = dir + "/floorlink.db";
  so.site = "dc1";
  so.agentId = id;
  auto store = lt.call([&] { return fl::agent::TaskStore::open(so, clock); });
  if (!store) die(id + ": store: " + store.error().describe());
  fl::agent::OmsPort st(**store);
  auto logger = std::make_shared<spdlog::logger>("sync", std::make_shared<ConnectSink>(id));
  logger->set_level(spdlog::level::info);
  auto cfg = agentConfig(url, id);
  std::unique_ptr<fl::sync::Sync> sync;
  int filled = 0;
  reply(fmt::format("ready {}", rssBefore));
  std::string line;
  while (std::getline(std::cin, line)) {
    auto space = line.find(' ');
    std::string cmd = line.substr(0, space);
    std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    if (cmd == "fill") {
      int n = std::stoi(arg);
      int64_t last = lt.call([&] {
        if (auto r = floorlink::bench::appendPickEvents(st, n, filled); !r) die(id + ": " + r.error().describe());
        if (sync) sync->notifyNewEvents();
        return st.outboxStats()->lastSeq;
      });
      filled += n;
      reply(fmt::format("ok {}", last));
    } else if (cmd == "start") {
      lt.call([&] {
        auto s = fl::sync::Sync::create(lt.loop(), cfg, st, fl::Logger(logger));
        if (!s) die(id + ": " + s.error().describe());
        sync = std::move(*s);
        (void)sync->start();
      });
      reply("ok");
    } else if (cmd == "halt") {
      lt.call([&] { sync.reset(); });
      reply("ok");
    } else if (cmd == "acked") {
      reply(fmt::format("ok {}", lt.call([&] { return st.outboxStats()->ackedThrough; })));
    } else if (cmd == "status") {
      reply("ok " + lt.call([&] {
        if (!sync) return std::string("no sync");
        auto t = sync->status();
        return fmt::format("connected={} acks received={} applied={} ignored={} acked_through={} last_sent={} "
                           "inflight={} window={} error={}",
                           t.connected, t.acksReceived, t.acksApplied, t.acksIgnored, t.outbox.ackedThrough,
                           t.lastSentSeq, t.inflight, t.window, t.lastError);
      }));
    } else if (cmd == "rss") {
      reply(fmt::format("ok {} {}", floorlink::bench::statusMib("VmRSS"), floorlink::bench::statusMib("RssAnon")));
    } else if (cmd == "dump") {
      // dump FROM PATH: the payloads of seq > FROM, one a line.
      auto at = arg.find(' ');
      auto events = lt.call([&] { return st.eventsAfter(std::stoll(arg.substr(0, at)), 1'000'000); });
      if (!events) die(id + ": " + events.error().describe());
      std::ofstream out(arg.substr(at + 1));
      for (auto& e : *events) out << e.payload << '\n';
      if (!out) die(id + ": cannot write " + arg.substr(at + 1));
      reply("ok");
    } else if (cmd == "quit") {
      break;
    }
  }
  lt.call([&] {
    sync.reset();
    store->reset();
  });
  reply("ok");
  return 0;
}

// The baseline client, a process of its own like an agent: the payloads of
// `dump` (events of agent `dumpId`) relabelled to `id`; on "start" it
// connects, publishes them all with the agents' window and answers once the
// broker acknowledged every one.
int bareMain(const std::string& url, const std::string& id, const std::string& dump, const std::string& dumpId) {
  ::closefrom(3);
  std::vector<std::string> payloads;
  {
    std::ifstream in(dump);
    const std::string theirs = "/" + dumpId + "/", mine = "/" + id + "/";
    for (std::string p; std::getline(in, p);) {
      auto at = p.find(theirs);
      if (at == std::string::npos || theirs.size() != mine.size()) die("unexpected event shape: " + p);
      p.replace(at, theirs.size(), mine);  // same length
      payloads.push_back(std::move(p));
    }
  }
  reply(fmt::format("ready {}", payloads.size()));
  std::string line;
  if (!std::getline(std::cin, line) || line != "start") return 0;
  mqtt::async_client client(url, id, mqtt::create_options(MQTTVERSION_5), nullptr);
  const int window = floorlink::bench::connectBare(client, kWindow);
  fl::omssim::setNoDelayTowardPort(url);  // as the agent's adaptor does
  floorlink::bench::WindowedPublisher publisher(window);
  publisher.publishAll(client, "wh/v1/dc1/" + id + "/evt", payloads);
  publisher.waitIdle(60s);
  client.disconnect()->wait();
  reply("ok");
  while (std::getline(std::cin, line) && line != "quit") {
  }
  reply("ok");
  return 0;
}

// --------------------------------------------------------------- parent ---

// One agent process and the pipes to it.
class Child {
 public:
  // Runs `exe` with `args` (after argv[0]); `id` names it in messages.
  Child(const std::string& exe, std::vector<std::string> args, std::string id) : id_(std::move(id)) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    args.insert(args.begin(), exe);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ) != 0) die("cannot spawn " + exe);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    toChild_ = in[1];
    fromChild_ = out[0];
    reader_ = std::thread([this] { readLoop(); });
  }
  ~Child() {
    send("quit");
    (void)await(10s);
    ::close(toChild_);
    if (reader_.joinable()) reader_.join();
    ::close(fromChild_);
    ::waitpid(pid_, nullptr, 0);
  }

  void send(const std::string& line) {
    std::string text = line + "\n";
    if (::write(toChild_, text.data(), text.size()) < 0) die(id_ + " went away");
  }
  // The next reply ("ok …" or "ready …"), without its first word.
  std::string await(std::chrono::milliseconds timeout = 120s) {
    std::unique_lock lock(m_);
    if (!cv_.wait_for(lock, timeout, [&] { return !replies_.empty() || eof_; }) || replies_.empty()) {
      die(id_ + (eof_ ? " exited" : " did not answer"));
    }
    std::string r = std::move(replies_.front());
    replies_.pop_front();
    auto space = r.find(' ');
    return space == std::string::npos ? "" : r.substr(space + 1);
  }
  std::string call(const std::string& line) {
    send(line);
    return await();
  }
  std::vector<Clock::time_point> connects() {
    std::lock_guard lock(m_);
    return connects_;
  }
  const std::string& id() const { return id_; }
  pid_t pid() const { return pid_; }

 private:
  void readLoop() {
    std::string buf;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(fromChild_, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
        std::string line = buf.substr(0, nl);
        std::lock_guard lock(m_);
        if (line.rfind("conn ", 0) == 0) {
          connects_.push_back(Clock::time_point(std::chrono::nanoseconds(std::stoll(line.substr(5)))));
        } else {
          replies_.push_back(std::move(line));
        }
        cv_.notify_all();
      }
    }
    std::lock_guard lock(m_);
    eof_ = true;
    cv_.notify_all();
  }

  std::string id_;
  pid_t pid_ = -1;
  int toChild_ = -1, fromChild_ = -1;
  std::thread reader_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::string> replies_;
  std::vector<Clock::time_point> connects_;
  bool eof_ = false;
};

std::string agentId(int n, char kind, int i) { return fmt::format("n{}-{}{:03}", n, kind, i); }

std::unique_ptr<fl::omssim::OmsSim> connectOms(const std::string& url, const std::string& clientId, int64_t startSeq,
                                               bool keepSession = false) {
  fl::omssim::OmsSimOptions o;
  o.url = url;
  o.agent = "+";
  o.clientId = clientId;
  o.startSeq = startSeq;
  o.keepSession = keepSession;
  auto sim = fl::omssim::OmsSim::connect(o);
  if (!sim) die(sim.error().describe());
  return std::move(*sim);
}

// Waits until the OMS holds every event through `last` of every agent in
// `ids` (contiguous from its startSeq), then checks C-E3/C-E4 held for each.
void awaitDrained(const fl::omssim::OmsSim& sim, const std::vector<std::string>& ids, int64_t last, int64_t total,
                  std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  (void)sim.waitFor([total](const auto& s) { return static_cast<int64_t>(s.uniqueEvents) >= total; }, timeout);
  for (;;) {
    auto per = sim.perAgent();
    size_t done = 0;
    for (const auto& id : ids) {
      auto it = per.find("dc1/" + id);
      if (it == per.end() || it->second.contiguousThrough < last) break;
      if (!it->second.checksHold()) die("OMS checks failed for " + id + ":\n" + it->second.describe());
      ++done;
    }
    if (done == ids.size()) return;
    if (Clock::now() > deadline) die(fmt::format("drain stalled: {} of {} agents complete", done, ids.size()));
    std::this_thread::sleep_for(2ms);
  }
}

class Fleet {
 public:
  Fleet(const std::string& exe, const std::string& url, const std::string& root, int n)
      : exe_(exe), url_(url), n_(n) {
    for (int i = 0; i < n; ++i) {
      std::string id = agentId(n, 'a', i);
      std::string dir = root + "/" + id;
      std::filesystem::create_directories(dir);
      kids_.push_back(std::make_unique<Child>(exe, std::vector<std::string>{"--child", url, id, dir}, id));
      ids_.push_back(id);
    }
    for (auto& k : kids_) rssBefore_.push_back(std::stod(k->await()));
    dump_ = root + "/" + agentId(n, 'a', 0) + ".payloads";
  }

  // Every child at once: sends `line` to all, then collects the replies.
  std::vector<std::string> all(const std::string& line) {
    for (auto& k : kids_) k->send(line);
    std::vector<std::string> out;
    for (auto& k : kids_) out.push_back(k->await());
    return out;
  }

  // One agent round: fill, start (connect included), drained; events/s.
  // halt=false leaves the agents online.
  double agentRound(int round, bool halt) {
    from_ = last_;
    last_ = std::stoll(all(fmt::format("fill {}", kBacklog)).front());
    auto sim = connectOms(url_, fmt::format("oms-fleet-n{}-agents-{}", n_, round), from_ + 1);
    auto t0 = Clock::now();
    all("start");
    awaitDrained(*sim, ids_, last_, int64_t{n_} * kBacklog, 120s);
    double rate = n_ * kBacklog / std::chrono::duration<double>(Clock::now() - t0).count();
    awaitAcked();
    if (halt) all("halt");
    return rate;
  }

  // The baseline round: N bare Paho clients, a process each, publish the
  // last agent round's payloads relabelled to their own ids; events/s.
  double bareRound(int round) {
    kids_.front()->call(fmt::format("dump {} {}", from_, dump_));
    std::vector<std::string> bareIds;
    std::vector<std::unique_ptr<Child>> bare;
    for (int i = 0; i < n_; ++i) {
      bareIds.push_back(agentId(n_, 'b', i));
      bare.push_back(std::make_unique<Child>(
          exe_, std::vector<std::string>{"--bare", url_, bareIds.back(), dump_, ids_.front()}, bareIds.back()));
    }
    for (auto& b : bare) {
      if (std::stoi(b->await()) != kBacklog) die(b->id() + ": wrong payload count");
    }
    auto sim = connectOms(url_, fmt::format("oms-fleet-n{}-bare-{}", n_, round), from_ + 1);
    auto t0 = Clock::now();
    for (auto& b : bare) b->send("start");
    awaitDrained(*sim, bareIds, last_, int64_t{n_} * kBacklog, 120s);
    double rate = n_ * kBacklog / std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& b : bare) (void)b->await();
    return rate;
  }

  struct Reconnect {
    double allDrainedS = 0;  // broker back -> every agent reconnected and drained
    double lastConnectS = 0;  // broker back -> the last reconnect
    double spreadS = 0;       // first -> last reconnect
    int maxPer100ms = 0;
  };

  // The agents are online (agentRound(…, false)): stop the broker, commit an
  // outage backlog, start it again after kOutage, wait for the drain.
  Reconnect brokerRestart(fl::testing::MosquittoBroker& broker) {
    std::string omsId = fmt::format("oms-fleet-n{}-restart", n_);
    connectOms(url_, omsId, last_ + 1, true).reset();  // leaves the subscription in the broker
    // Connected long enough to count as stable: the loss retries at once, then backs off.
    auto newest = Clock::time_point{};
    for (auto& k : kids_) {
      auto c = k->connects();
      if (c.empty()) die(k->id() + " never connected");
      newest = std::max(newest, c.back());
    }
    std::this_thread::sleep_until(newest + kStable);
    auto down = Clock::now();
    if (auto s = broker.terminate(); !s) die(s.error().describe());
    from_ = last_;
    last_ = std::stoll(all(fmt::format("fill {}", kOutageBacklog)).front());
    std::this_thread::sleep_until(down + kOutage);
    if (auto s = broker.restart(); !s) die(s.error().describe());
    auto back = Clock::now();
    auto sim = connectOms(url_, omsId, from_ + 1, true);
    awaitDrained(*sim, ids_, last_, int64_t{n_} * kOutageBacklog, 120s);
    auto drained = Clock::now();
    std::vector<double> at;  // s after the broker came back
    for (auto& k : kids_) {
      auto c = k->connects();
      auto it = std::find_if(c.begin(), c.end(), [&](auto t) { return t >= back; });
      if (it == c.end()) die(k->id() + " drained without a reconnect?");
      at.push_back(std::chrono::duration<double>(*it - back).count());
    }
    std::sort(at.begin(), at.end());
    Reconnect r;
    r.lastConnectS = at.back();
    r.allDrainedS = std::max(std::chrono::duration<double>(drained - back).count(), r.lastConnectS);
    r.spreadS = at.back() - at.front();
    std::map<int, int> buckets;
    for (double s : at) r.maxPer100ms = std::max(r.maxPer100ms, ++buckets[static_cast<int>(s * 10)]);
    awaitAcked();
    return r;
  }

  // Mean VmRSS of the agent processes now, and before their store was opened.
  std::pair<double, double> rssMib() {
    double now = 0, anon = 0;
    for (auto& r : all("rss")) {
      now += std::stod(r);
      anon += std::stod(r.substr(r.find(' ') + 1));
    }
    double before = 0;
    for (double b : rssBefore_) before += b;
    std::fprintf(stderr, "n=%d: agent VmRSS mean %.1f MiB (RssAnon %.1f MiB), %.1f MiB before the store opened\n", n_,
                 now / n_, anon / n_, before / n_);
    return {now / n_, before / n_};
  }

  int size() const { return n_; }

 private:
  // The OMS acked everything: wait until each agent stored it (acks are
  // batched for 100 ms), so the next phase starts from an empty outbox.
  void awaitAcked() {
    auto deadline = Clock::now() + 30s;
    for (auto& k : kids_) {
      for (int64_t acked; (acked = std::stoll(k->call("acked"))) < last_;) {
        if (Clock::now() > deadline) {
          die(fmt::format("{} stored acks through {} of {}: {}", k->id(), acked, last_, k->call("status")));
        }
        std::this_thread::sleep_for(10ms);
      }
    }
  }

  std::string exe_, url_;
  int n_;
  std::vector<std::unique_ptr<Child>> kids_;
  std::vector<std::string> ids_;
  std::vector<double> rssBefore_;
  std::string dump_;
  int64_t from_ = 0, last_ = 0;
};

int roundsFor(int n) { return n <= 1 ? 5 : 3; }

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--child") return childMain(argv[2], argv[3], argv[4]);
  if (argc == 6 && std::string(argv[1]) == "--bare") return bareMain(argv[2], argv[3], argv[4], argv[5]);
  ::signal(SIGPIPE, SIG_IGN);
  int max = 50;
  if (const char* m = std::getenv("FLOORLINK_FLEET_MAX"); m && *m) max = std::max(1, std::atoi(m));
  std::vector<int> sizes;
  for (int n : {1, 10, 50}) {
    if (n <= max) sizes.push_back(n);
  }
  if (sizes.back() != max && max < 50) sizes.push_back(max);
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe");

  // Persistence so the OMS's subscription survives the broker restart; no
  // periodic autosave during the measurements (it still saves on SIGTERM);
  // no cap on what is queued for the OMS while it reconnects.
  auto broker = fl::testing::MosquittoBroker::start(
      {.persistence = true, .extraConfig = "set_tcp_nodelay true\nautosave_interval 3600\nmax_queued_messages 0\n"});
  if (!broker) die(broker.error().describe());
  gBroker = std::move(*broker);
  const std::string url = gBroker->url();
  auto root = fl::testing::makeTempDir("floorlink-bench-fleet");
  if (!root) die(root.error().describe());

  std::vector<Figure> figures;
  std::optional<Fleet::Reconnect> single, fleet;
  int fleetN = 0;
  for (int n : sizes) {
    auto t = Clock::now();
    Fleet f(exe, url, *root, n);
    const bool largest = n == sizes.back();
    std::vector<double> agentRates, bareRates;
    int rounds = roundsFor(n);
    for (int r = 0; r < rounds; ++r) {
      const bool keepOnline = r + 1 == rounds && (largest || n == 1);
      agentRates.push_back(f.agentRound(r, !keepOnline));
      bareRates.push_back(f.bareRound(r));
      std::fprintf(stderr, "n=%d round %d: agents %.0f ev/s, bare Paho %.0f ev/s\n", n, r + 1, agentRates.back(),
                   bareRates.back());
    }
    figures.push_back({fmt::format("fleet_drain_events_per_s_n{}", n), percentile(agentRates, 0.5), "ev/s",
                       percentile(bareRates, 0.5)});
    if (largest) {
      auto [rss, before] = f.rssMib();
      figures.push_back({"fleet_agent_rss_mib", rss, "MiB", before});
    }
    if (n == 1 && sizes.size() > 1) single = f.brokerRestart(*gBroker);
    if (largest) {
      fleet = f.brokerRestart(*gBroker);
      fleetN = n;
      if (!single) single = fleet;
    }
    if (single && n == 1) {
      std::fprintf(stderr, "n=1 broker restart: reconnected after %.2f s, drained after %.2f s\n",
                   single->lastConnectS, single->allDrainedS);
    }
    std::fprintf(stderr, "n=%d done in %.1f s\n", n, std::chrono::duration<double>(Clock::now() - t).count());
  }
  std::fprintf(stderr,
               "n=%d broker restart: last reconnect after %.2f s, all drained after %.2f s, spread %.2f s, "
               "at most %d reconnects in 100 ms\n",
               fleetN, fleet->lastConnectS, fleet->allDrainedS, fleet->spreadS, fleet->maxPer100ms);
  figures.push_back({"fleet_reconnect_s", fleet->allDrainedS, "s", single->allDrainedS});
  figures.push_back({"fleet_reconnect_spread_s", fleet->spreadS, "s", fleet->lastConnectS});
  figures.push_back({"fleet_reconnect_max_per_100ms", double(fleet->maxPer100ms), "count", double(fleetN)});
  std::filesystem::remove_all(*root);
  floorlink::bench::writeFigures("bench_fleet", figures, "fleet.json");
  return 0;
}
