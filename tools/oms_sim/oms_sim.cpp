#include "tools/oms_sim/oms_sim.h"

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace floorlink::omssim {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string OmsSimSummary::describe() const {
  std::string s;
  s += "events received      " + std::to_string(eventsReceived) + "\n";
  s += "unique events        " + std::to_string(uniqueEvents) + "\n";
  s += "duplicates ignored   " + std::to_string(duplicates) + "\n";
  s += "byte mismatches      " + std::to_string(byteMismatches) + (byteMismatches ? "  <-- C-E3 broken" : "") + "\n";
  s += "malformed events     " + std::to_string(malformed) + "\n";
  s += "first arrivals late  " + std::to_string(outOfOrder) + (outOfOrder ? "  <-- out of seq order" : "") + "\n";
  s += "seq range            " + std::to_string(firstSeq) + ".." + std::to_string(maxSeq) + "\n";
  s += "contiguous through   " + std::to_string(contiguousThrough) +
       (gaps() ? "  <-- " + std::to_string(gaps()) + " seqs missing" : "") + "\n";
  s += "acks sent/lost/dup   " + std::to_string(acksSent) + "/" + std::to_string(acksLost) + "/" +
       std::to_string(acksDuplicated) + "\n";
  s += "commands sent        " + std::to_string(commandsSent) + "\n";
  s += "cmd.result received  " + std::to_string(results) + " (" + std::to_string(resultsRejected) + " rejected)\n";
  s += "cmd.invalid received " + std::to_string(invalids) + "\n";
  s += std::string("checks               ") + (checksHold() ? "hold" : "FAILED") + "\n";
  return s;
}

// Paho C leaves Nagle on; small commands and acks would wait for delayed
// ACKs. Set TCP_NODELAY on this process's sockets to the broker's port.
void setNoDelayTowardPort(const std::string& url) {
  auto colon = url.rfind(':');
  if (colon == std::string::npos) return;
  int port = std::atoi(url.c_str() + colon + 1);
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* e = ::readdir(dir)) {
    int fd = std::atoi(e->d_name);
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (fd <= 2 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    int p = peer.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port)
            : peer.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port)
                                         : -1;
    if (p != port) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::closedir(dir);
}

struct OmsSim::Impl : mqtt::callback {
  OmsSimOptions opt;
  std::string prefix;
  std::unique_ptr<mqtt::async_client> client;
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  // One per agent ("site/agent"); a single-agent sim has exactly one.
  struct AgentState {
    OmsSimSummary sum;
    std::unordered_map<int64_t, std::pair<size_t, size_t>> seen;  // seq -> (hash, size)
    bool needAck = false;
  };
  std::map<std::string, AgentState> agents;
  OmsSimSummary sum;  // commands and acks of the single-agent sim, and the state topic
  std::map<std::string, Clock::time_point> pendingCommands;

  bool multi() const { return opt.agent == "+" || opt.site == "+"; }
  AgentState& agentState(const std::string& key) {
    auto [it, fresh] = agents.try_emplace(key);
    if (fresh) it->second.sum.contiguousThrough = opt.startSeq - 1;
    return it->second;
  }
  // wh/v1/{site}/{agent}/{leaf} -> ("site/agent", leaf); empty key if not ours.
  static std::pair<std::string, std::string> splitTopic(const std::string& topic) {
    if (topic.rfind("wh/v1/", 0) != 0) return {};
    auto a = topic.find('/', 6);
    if (a == std::string::npos) return {};
    auto b = topic.find('/', a + 1);
    if (b == std::string::npos) return {};
    return {topic.substr(6, b - 6), topic.substr(b + 1)};
  }
  std::atomic<bool> stopping{false};
  std::thread acker;
  std::mt19937_64 rng;

  void message_arrived(mqtt::const_message_ptr msg) override {
    const auto& topic = msg->get_topic();
    std::string payload = msg->to_string();
    auto now = Clock::now();
    std::lock_guard lock(mutex);
    auto [key, leaf] = splitTopic(topic);
    if (key.empty()) return;
    if (leaf == "state") {
      auto j = Json::parse(payload, nullptr, false);
      if (j.is_object() && j["online"].is_boolean()) {
        auto& st = agentState(key).sum;
        st.lastStateOnline = sum.lastStateOnline = j["online"].get<bool>();
        if (j["session"].is_number_unsigned()) {
          st.lastStateSession = sum.lastStateSession = j["session"].get<uint64_t>();
        }
      }
    } else if (leaf == "evt") {
      onEvent(key, agentState(key), payload, now);
    }
    cv.notify_all();
  }

  void onEvent(const std::string& key, AgentState& a, const std::string& payload, Clock::time_point now) {
    auto& st = a.sum;
    auto& seen = a.seen;
    ++st.eventsReceived;
    auto j = Json::parse(payload, nullptr, false);
    if (!j.is_object() || j["v"] != 1 || !j["seq"].is_number_integer() || !j["event_id"].is_string() ||
        !j["type"].is_string() || !j["occurred_at"].is_number_integer() || !j["data"].is_object()) {
      ++st.malformed;
      return;
    }
    int64_t seq = j["seq"].get<int64_t>();
    if (j["event_id"] != key + "/" + std::to_string(seq) || seq < 1) {
      ++st.malformed;
      return;
    }
    auto fingerprint = std::pair(std::hash<std::string>{}(payload), payload.size());
    auto [it, fresh] = seen.emplace(seq, fingerprint);
    a.needAck = true;  // a redelivery means our ack may have been lost: ack again
    if (!fresh) {
      ++st.duplicates;
      if (it->second != fingerprint) ++st.byteMismatches;
      return;
    }
    // Applied exactly once, by event_id.
    ++st.uniqueEvents;
    if (seq < st.maxSeq) ++st.outOfOrder;
    if (st.firstSeq == 0 || seq < st.firstSeq) st.firstSeq = seq;
    st.maxSeq = std::max(st.maxSeq, seq);
    while (seen.count(st.contiguousThrough + 1)) ++st.contiguousThrough;
    if (j["type"] == "cmd.result") {
      auto cmdId = j["data"]["cmd_id"];
      if (cmdId.is_string()) {
        auto p = pendingCommands.find(cmdId.get<std::string>());
        if (p != pendingCommands.end()) {
          ++sum.results;
          if (j["data"]["status"] == "rejected") ++sum.resultsRejected;
          sum.commandLatencyMs.push_back(std::chrono::duration<double, std::milli>(now - p->second).count());
          pendingCommands.erase(p);
        }
      }
    } else if (j["type"] == "cmd.invalid") {
      ++st.invalids;
    }
  }

  void publishAck(int64_t n) { publishAck(opt.site + "/" + opt.agent, n); }
  // Acks in flight stay below the broker's receive maximum (mosquitto's is
  // 20): past it Paho C queues the publishes and sends that queue only on its
  // own timed wake-up, about 20 a second, which starves a fleet of its acks.
  static constexpr int kMaxAcksInFlight = 16;
  std::atomic<int> acksInFlight{0};
  struct AckListener final : mqtt::iaction_listener {
    std::atomic<int>* inFlight = nullptr;
    void on_success(const mqtt::token&) override { --*inFlight; }
    void on_failure(const mqtt::token&) override { --*inFlight; }
  } ackListener;

  void publishAck(const std::string& key, int64_t n) {
    ackListener.inFlight = &acksInFlight;
    ++acksInFlight;
    try {
      client->publish(mqtt::make_message("wh/v1/" + key + "/ack",
                                         "{\"v\":1,\"acked_through\":" + std::to_string(n) + "}", 1, false),
                      nullptr, ackListener);
    } catch (const mqtt::exception&) {
      --acksInFlight;
      // Not connected: the agent resends after its ack timeout and we ack again.
    }
  }

  void ackLoop() {
    struct Due {
      Clock::time_point at;
      std::string key;
      int64_t n;
    };
    std::deque<Due> due;
    std::map<std::string, Clock::time_point> lastAck;
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      auto now = Clock::now();
      {
        std::lock_guard lock(mutex);
        for (auto& [key, a] : agents) {
          auto last = lastAck.try_emplace(key, now - opt.ackInterval).first;
          if (a.needAck && a.sum.contiguousThrough > 0 && now - last->second >= opt.ackInterval &&
              acksInFlight.load() < kMaxAcksInFlight) {
            a.needAck = false;
            last->second = now;
            due.push_back({now + opt.ackDelay, key, a.sum.contiguousThrough});
          }
        }
      }
      while (!due.empty() && due.front().at <= now && acksInFlight.load() < kMaxAcksInFlight) {
        int64_t n = due.front().n;
        std::string key = due.front().key;
        due.pop_front();
        bool lost, dup;
        {
          std::lock_guard lock(mutex);
          lost = coin(rng) < opt.ackLoss;
          dup = !lost && coin(rng) < opt.ackDup;
          auto& as = agentState(key).sum;
          if (lost) ++as.acksLost;
          else ++as.acksSent;
          if (dup) ++as.acksDuplicated;
        }
        if (lost) continue;
        publishAck(key, n);
        if (dup) publishAck(key, n);
      }
    }
  }
};

OmsSim::OmsSim(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OmsSim::~OmsSim() {
  impl_->stopping = true;
  if (impl_->acker.joinable()) impl_->acker.join();
  try {
    if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(std::chrono::seconds(2));
  } catch (...) {
  }
  impl_->client.reset();  // before the ack listener it may still call
}

Result<std::unique_ptr<OmsSim>> OmsSim::connect(const OmsSimOptions& o) {
  auto impl = std::make_unique<Impl>();
  impl->opt = o;
  impl->prefix = "wh/v1/" + o.site + "/" + o.agent + "/";
  impl->rng.seed(o.seed);
  impl->sum.contiguousThrough = o.startSeq - 1;
  if (!impl->multi()) impl->agentState(o.site + "/" + o.agent);
  try {
    impl->client = std::make_unique<mqtt::async_client>(
        o.url, o.clientId, mqtt::create_options(o.mqttVersion >= 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1), nullptr);
    impl->client->set_callback(*impl);
    mqtt::connect_options opts;
    if (o.mqttVersion >= 5) {
      opts.set_mqtt_version(MQTTVERSION_5);
      opts.set_clean_session(false);
      opts.set_clean_start(!o.keepSession);
      if (o.keepSession) {
        mqtt::properties props;
        props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600));
        opts.set_properties(props);
      }
    } else {
      opts.set_mqtt_version(MQTTVERSION_3_1_1);
    }
    opts.set_keep_alive_interval(10);
    opts.set_connect_timeout(5);
    opts.set_max_inflight(1000);
    if (!o.username.empty()) opts.set_user_name(o.username);
    if (!o.password.empty()) opts.set_password(o.password);
    if (o.url.rfind("ssl://", 0) == 0) {
      mqtt::ssl_options ssl;
      if (!o.caFile.empty()) ssl.set_trust_store(o.caFile);
      if (!o.certFile.empty()) ssl.set_key_store(o.certFile);
      if (!o.keyFile.empty()) ssl.set_private_key(o.keyFile);
      opts.set_ssl(ssl);
    }
    impl->client->connect(opts)->wait_for(std::chrono::seconds(10));
    if (!impl->client->is_connected()) return fail(ErrorCode::kDisconnected, "cannot connect to " + o.url);
    setNoDelayTowardPort(o.url);
    impl->client->subscribe(impl->prefix + "evt", 1)->wait_for(std::chrono::seconds(5));
    impl->client->subscribe(impl->prefix + "state", 1)->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception& e) {
    return fail(ErrorCode::kDisconnected, "cannot connect to " + o.url + ": " + e.what());
  }
  if (o.ack) {
    auto* raw = impl.get();
    impl->acker = std::thread([raw] { raw->ackLoop(); });
  }
  return std::unique_ptr<OmsSim>(new OmsSim(std::move(impl)));
}

Status OmsSim::sendCommand(const std::string& cmdId, const std::string& payload) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->pendingCommands[cmdId] = Clock::now();
    ++impl_->sum.commandsSent;
  }
  try {
    impl_->client->publish(impl_->prefix + "cmd", payload, 1, false)->wait_for(std::chrono::seconds(10));
  } catch (const mqtt::exception& e) {
    return fail(ErrorCode::kDisconnected, std::string("publish command: ") + e.what());
  }
  return ok();
}

Status OmsSim::sendAck(int64_t ackedThrough) {
  impl_->publishAck(ackedThrough);
  return ok();
}

namespace {

// Adds one agent's figures to a total; seq figures come from the agent with
// the most missing, so checksHold() of the total holds only if each holds.
void addUp(OmsSimSummary& total, const OmsSimSummary& a, bool first) {
  total.eventsReceived += a.eventsReceived;
  total.uniqueEvents += a.uniqueEvents;
  total.duplicates += a.duplicates;
  total.byteMismatches += a.byteMismatches;
  total.malformed += a.malformed;
  total.outOfOrder += a.outOfOrder;
  total.invalids += a.invalids;
  total.acksSent += a.acksSent;
  total.acksLost += a.acksLost;
  total.acksDuplicated += a.acksDuplicated;
  if (first || a.gaps() > total.gaps()) {
    total.firstSeq = a.firstSeq;
    total.contiguousThrough = a.contiguousThrough;
    total.maxSeq = a.maxSeq;
  }
}

// The caller holds impl.mutex.
OmsSimSummary totalOf(const OmsSim::Impl& impl) {
  OmsSimSummary out = impl.sum;  // commands, results, state
  bool first = true;
  for (const auto& [key, a] : impl.agents) {
    addUp(out, a.sum, first);
    first = false;
  }
  return out;
}

}  // namespace

OmsSimSummary OmsSim::summary() const {
  std::lock_guard lock(impl_->mutex);
  return totalOf(*impl_);
}

std::map<std::string, OmsSimSummary> OmsSim::perAgent() const {
  std::lock_guard lock(impl_->mutex);
  std::map<std::string, OmsSimSummary> out;
  for (const auto& [key, a] : impl_->agents) out[key] = a.sum;
  return out;
}

bool OmsSim::waitFor(const std::function<bool(const OmsSimSummary&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(totalOf(*impl_)); });
}

bool OmsSim::connected() const { return impl_->client->is_connected(); }

std::string generateWave(const std::string& cmdId, const std::string& waveId, int revision, int tasks) {
  Json j;
  j["v"] = 1;
  j["cmd_id"] = cmdId;
  j["type"] = "wave.assign";
  j["sent_at"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  j["wave_id"] = waveId;
  j["revision"] = revision;
  auto arr = Json::array();
  for (int i = 0; i < tasks; ++i) {
    std::string n = std::to_string(i + 1);
    arr.push_back({{"task_id", waveId + "-T" + n},
                   {"kind", "pick"},
                   {"order_id", waveId + "-O" + std::to_string(i / 5 + 1)},
                   {"station", "cart" + std::to_string(i % 4 + 1)},
                   {"bin", "A-" + std::to_string(i % 40 + 1) + "-" + std::to_string(i % 7 + 1)},
                   {"sku", "SKU-" + n},
                   {"gtin", "09506000134352"},
                   {"description", "Item " + n},
                   {"qty", i % 3 + 1},
                   {"sequence", i + 1}});
  }
  j["tasks"] = std::move(arr);
  return j.dump();
}

}  // namespace floorlink::omssim
