// Sync through outages and with security on: broker killed and restarted,
// broker frozen (half-open link), TLS with client certificates, a broker ACL,
// and no secret in any log line.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "agent/store/task_store.h"

#include "tests/support/tcp_proxy.h"
#include "tests/sync/sync_test_util.h"
#include "tools/oms_sim/oms_sim.h"

extern char** environ;

namespace floorlink::sync::testing {
namespace {

using floorlink::testing::makeTempDir;
using floorlink::testing::makeTestPki;

// An OMS that keeps acking what it has seen contiguously, across broker
// restarts (it reconnects itself), and records every event.
class AckingOms {
 public:
  explicit AckingOms(std::string url) : url_(std::move(url)) { thread_ = std::thread([this] { run(); }); }
  ~AckingOms() {
    stop_ = true;
    thread_.join();
  }
  std::set<int64_t> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  // First arrival order of every seq.
  std::vector<int64_t> order() {
    std::lock_guard lock(mutex_);
    return order_;
  }
  size_t mismatches() {
    std::lock_guard lock(mutex_);
    return mismatches_;
  }

 private:
  void run() {
    std::unique_ptr<MqttTestClient> client;
    size_t consumed = 0;
    int64_t contiguous = 0;
    while (!stop_) {
      if (!client) {
        // A persistent session: the broker (persistence on) queues events for
        // us across its own restart, so first arrivals show the agent's order.
        floorlink::testing::MqttTestClientOptions o;
        o.url = url_;
        o.clientId = "acking-oms";
        o.cleanSession = false;
        auto c = MqttTestClient::connect(o);
        if (c && (*c)->subscribe(kEvt)) {
          client = std::move(*c);
          consumed = 0;
        } else {
          std::this_thread::sleep_for(100ms);
          continue;
        }
      }
      auto msgs = client->messagesOn(kEvt);
      {
        std::lock_guard lock(mutex_);
        for (; consumed < msgs.size(); ++consumed) {
          auto j = Json::parse(msgs[consumed].payload, nullptr, false);
          int64_t seq = j["seq"].get<int64_t>();
          if (seen_.insert(seq).second) order_.push_back(seq);
          payloads_.emplace(seq, msgs[consumed].payload);
          if (payloads_.at(seq) != msgs[consumed].payload) ++mismatches_;
        }
        while (seen_.count(contiguous + 1)) ++contiguous;
      }
      if (!client->connected() || (contiguous > 0 && !client->publish(kAck, R"({"v":1,"acked_through":)" + std::to_string(contiguous) + "}"))) {
        client.reset();  // broker gone: reconnect
        continue;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  std::string url_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::set<int64_t> seen_;
  std::vector<int64_t> order_;
  std::map<int64_t, std::string> payloads_;
  size_t mismatches_ = 0;
};

class SyncOutageTest : public SyncHarness {};

// C-A2, C-E4, C-E5: the broker is SIGKILLed and restarted while the agent
// keeps producing events; the OMS ends with every seq, first seen in order.
TEST_F(SyncOutageTest, C_A2_C_E4_BrokerKilledAndRestartedWhileProducingLosesNothing) {
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.ackTimeout = 2s;
  cfg.mqtt.inflight = 8;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  AckingOms oms(broker_->url());
  ASSERT_TRUE(eventually([&] { return broker_->log().find("acking-oms") != std::string::npos; }));
  std::this_thread::sleep_for(1500ms);  // autosave_interval 1: the OMS session is on disk
  constexpr int kTotal = 1500;
  std::atomic<int> produced{0};
  // Producer on the loop: 10 events every 10 ms, as a busy agent would commit them.
  auto timer = loop_.call([&] {
    return loop_.loop().addTimer(10ms, [&] {
      if (produced >= kTotal) return;
      port_.addEvents(10);
      produced += 10;
      sync_->notifyNewEvents();
    }, 10ms);
  });
  ASSERT_TRUE(eventually([&] { return produced >= 400; }));
  ASSERT_TRUE(broker_->kill());
  ASSERT_TRUE(eventually([&] { return !status().connected; }, 20s));
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(broker_->restart());
  ASSERT_TRUE(eventually([&] { return oms.seen().size() == kTotal; }, 60s))
      << "OMS has " << oms.seen().size() << " of " << kTotal << "; agent connected " << status().connected
      << ", sent " << status().eventsSent << ", last error " << status().lastError;
  loop_.call([&] { loop_.loop().cancelTimer(timer); });
  auto order = oms.order();
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "first arrivals out of seq order";
  EXPECT_EQ(*oms.seen().begin(), 1);
  EXPECT_EQ(*oms.seen().rbegin(), kTotal);
  EXPECT_EQ(oms.mismatches(), 0u) << "a resend carried other bytes (C-E3)";
  EXPECT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == kTotal; }));
  EXPECT_GE(status().reconnects, 1u);
}

// Half-open link: a SIGSTOPped broker keeps the TCP connection but answers
// nothing; keepalive notices, and after SIGCONT the agent recovers.
TEST_F(SyncOutageTest, C_A2_FrozenBrokerDetectedByKeepaliveThenRecovers) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.keepalive = 1s;
  cfg.mqtt.connectTimeout = 2s;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  loop_.call([&] {
    port_.addEvents(3);
    sync_->notifyNewEvents();
  });
  ASSERT_TRUE(waitEvents(3));
  oms_.reset();  // its own keepalive would trip too
  ASSERT_TRUE(broker_->freeze());
  loop_.call([&] {
    port_.addEvents(2);  // published into the void
    sync_->notifyNewEvents();
  });
  bool detected = eventually([&] { return !status().connected; }, 20s);
  ASSERT_TRUE(broker_->thaw());
  ASSERT_TRUE(detected) << "keepalive did not detect the frozen broker";
  EXPECT_FALSE(status().lastError.empty());
  ASSERT_TRUE(waitConnected(30s, 2)) << status().lastError;
  connectOms();
  // Unacked events go again after the reconnect (C-A2).
  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"cmd_id":"after-thaw","type":"resync","sent_at":1})"));
  ASSERT_TRUE(waitResult("after-thaw").is_object());
  auto seqs = seqsOf(evts());
  std::set<int64_t> got(seqs.begin(), seqs.end());
  for (int64_t s = 1; s <= 6; ++s) EXPECT_TRUE(got.count(s)) << "missing seq " << s;
}


pid_t spawnAgent(const std::string& url, const std::string& db, int events) {
  std::string bin = SYNC_TEST_AGENT;
  std::string ev = std::to_string(events);
  std::vector<std::string> args{bin, "--url", url, "--db", db, "--events", ev, "--ack-timeout", "2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

int reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// C-E1, C-A2, C-P1, C-P3: an agent process (real SQLite store) is SIGKILLed
// mid-drain and started again on the same database: the broker publishes its
// will, the new run uses the next session, and the OMS ends with every seq
// from 1 to last_seq, each redelivery byte-identical, first arrivals in order.
TEST_F(SyncOutageTest, C_E1_C_A2_AgentKilledMidDrainAndRestartedLosesNothing) {
  connectOms();
  auto dir = makeTempDir("floorlink-crash");
  ASSERT_TRUE(dir);
  std::string db = *dir + "/floorlink.db";
  AckingOms oms(broker_->url());
  ASSERT_TRUE(eventually([&] { return broker_->log().find("acking-oms") != std::string::npos; }));
  pid_t pid = spawnAgent(broker_->url(), db, 3000);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(eventually([&] { return oms.seen().size() >= 600; }, 30s)) << oms.seen().size();
  ::kill(pid, SIGKILL);
  reap(pid);
  auto will = waitState([](const Json& j) { return j["online"] == false && j["session"] == 1; });
  EXPECT_TRUE(will.is_object()) << "no will after SIGKILL";

  pid = spawnAgent(broker_->url(), db, 0);
  ASSERT_GT(pid, 0);
  auto birth = waitState([](const Json& j) { return j["online"] == true && j["session"] == 2; }, 20s);
  ASSERT_TRUE(birth.is_object()) << "no birth with session 2";
  int64_t last = birth["last_seq"].get<int64_t>();
  EXPECT_GE(last, 600);
  ASSERT_TRUE(eventually([&] { return static_cast<int64_t>(oms.seen().size()) == last; }, 60s))
      << oms.seen().size() << " of " << last;
  EXPECT_EQ(*oms.seen().begin(), 1);
  EXPECT_EQ(*oms.seen().rbegin(), last);
  EXPECT_EQ(oms.mismatches(), 0u) << "a resend carried other bytes (C-E3)";
  auto order = oms.order();
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  ::kill(pid, SIGTERM);
  int status = reap(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(waitState([](const Json& j) { return j["online"] == false && j["session"] == 2; }).is_object())
      << "no online:false on clean shutdown (C-P4)";
  floorlink::SystemClock clock;
  floorlink::agent::StoreOptions so;
  so.path = db;
  so.site = "dc1";
  so.agentId = "pc7";
  auto store = floorlink::agent::TaskStore::open(so, clock);
  ASSERT_TRUE(store) << store.error().describe();
  auto stats = (*store)->outboxStats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->lastSeq, last);
  EXPECT_LE(stats->ackedThrough, last);
  std::filesystem::remove_all(*dir);
}

struct TlsSetup {
  std::string dir;
  floorlink::testing::TestPki pki;
};

TlsSetup makeTls() {
  auto dir = makeTempDir("floorlink-pki");
  EXPECT_TRUE(dir);
  auto pki = makeTestPki(*dir);
  EXPECT_TRUE(pki) << pki.error().describe();
  return {*dir, *pki};
}

// C-S1: TLS with server verification, a client certificate and an encrypted key.
TEST_F(SyncOutageTest, C_S1_TlsWithClientCertificateAndEncryptedKey) {
  auto tls = makeTls();
  MosquittoOptions mo;
  mo.tls = true;
  mo.caFile = tls.pki.caFile;
  mo.certFile = tls.pki.serverCert;
  mo.keyFile = tls.pki.serverKey;
  mo.requireClientCert = true;
  startBroker(mo);
  ASSERT_EQ(broker_->url().substr(0, 6), "ssl://");
  floorlink::testing::MqttTestClientOptions co;
  co.url = broker_->url();
  co.clientId = "oms-tls";
  co.caFile = tls.pki.caFile;
  co.certFile = tls.pki.clientCert;
  co.keyFile = tls.pki.clientKey;
  auto c = MqttTestClient::connect(co);
  ASSERT_TRUE(c) << c.error().describe();
  oms_ = std::move(*c);
  ASSERT_TRUE(oms_->subscribe(kState));
  ASSERT_TRUE(oms_->subscribe(kEvt));

  auto cfg = testConfig(broker_->url());
  cfg.mqtt.caFile = tls.pki.caFile;
  cfg.mqtt.certFile = tls.pki.clientCert;
  cfg.mqtt.keyFile = tls.pki.clientKeyEncrypted;
  cfg.mqtt.keyPassword = tls.pki.keyPassword;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true; }).is_object());
  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"cmd_id":"tls-1","type":"resync","sent_at":1})"));
  EXPECT_TRUE(waitResult("tls-1").is_object());
  std::filesystem::remove_all(tls.dir);
}

// C-S1: server verification is on by default: a broker certificate from an
// unknown CA is refused, and the error says so.
TEST_F(SyncOutageTest, C_S1_ServerVerificationOnByDefault) {
  auto tls = makeTls();
  auto other = makeTls();  // a second, unrelated CA
  MosquittoOptions mo;
  mo.tls = true;
  mo.caFile = tls.pki.caFile;
  mo.certFile = tls.pki.serverCert;
  mo.keyFile = tls.pki.serverKey;
  startBroker(mo);
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.caFile = other.pki.caFile;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(eventually([&] { return status().connectFailures >= 2; }, 20s));
  auto s = status();
  EXPECT_FALSE(s.connected);
  EXPECT_EQ(s.connects, 0u);
  EXPECT_NE(s.lastError.find("cannot connect"), std::string::npos) << s.lastError;
  std::filesystem::remove_all(tls.dir);
  std::filesystem::remove_all(other.dir);
}

MosquittoOptions aclBroker() {
  MosquittoOptions mo;
  mo.allowAnonymous = false;
  mo.users = {{"pc7", "agent-pw-7"}, {"pc8", "agent-pw-8"}, {"oms", "oms-pw"}};
  mo.acl = "pattern readwrite wh/v1/dc1/%u/#\n\nuser oms\ntopic readwrite wh/#\n";
  return mo;
}

void connectOmsUser(SyncHarness& h, std::unique_ptr<MqttTestClient>& oms, const std::string& url) {
  floorlink::testing::MqttTestClientOptions co;
  co.url = url;
  co.clientId = "oms-acl";
  co.username = "oms";
  co.password = "oms-pw";
  auto c = MqttTestClient::connect(co);
  ASSERT_TRUE(c) << c.error().describe();
  oms = std::move(*c);
  ASSERT_TRUE(oms->subscribe("wh/v1/dc1/+/state"));
  ASSERT_TRUE(oms->subscribe("wh/v1/dc1/+/evt"));
  (void)h;
}

// C-S2: with a broker ACL wh/v1/{site}/%u/#, the agent subscribes, publishes
// and gets its commands without a single denial in the broker log.
TEST_F(SyncOutageTest, C_S2_AgentStaysInsideBrokerAcl) {
  startBroker(aclBroker());
  connectOmsUser(*this, oms_, broker_->url());
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.username = "pc7";
  cfg.mqtt.password = "agent-pw-7";
  loop_.call([&] { port_.addEvents(2); });
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true; }).is_object());
  ASSERT_TRUE(waitEvents(2));
  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"cmd_id":"acl-1","type":"resync","sent_at":1})"));
  ASSERT_TRUE(waitResult("acl-1").is_object());
  ASSERT_TRUE(oms_->publish(kAck, R"({"v":1,"acked_through":3})"));
  ASSERT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == 3; }));
  loop_.call([&] { sync_->stop(); });
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == false; }).is_object());
  auto log = broker_->log();
  EXPECT_EQ(log.find("Denied"), std::string::npos) << log;
  EXPECT_EQ(status().lastError, "");
}

// The ACL of the test above does bite: an agent whose id is not its user name
// is denied, and nothing of it reaches the OMS.
TEST_F(SyncOutageTest, C_S2_AclDeniesAnAgentOutsideItsPrefix) {
  startBroker(aclBroker());
  connectOmsUser(*this, oms_, broker_->url());
  auto cfg = testConfig(broker_->url());
  cfg.agent.id = "pc8";
  cfg.mqtt.username = "pc7";
  cfg.mqtt.password = "agent-pw-7";
  ASSERT_TRUE(startSync(cfg));
  // The broker accepts the login, then drops the client on its refused
  // publish: count connects rather than catch the short connected moment.
  ASSERT_TRUE(eventually([&] { return status().connects >= 1; })) << status().lastError;
  ASSERT_TRUE(eventually([&] { return broker_->log().find("Denied PUBLISH") != std::string::npos; }));
  EXPECT_TRUE(oms_->messages().empty());
  // The refusal (subscription or publish) shows in the status with what to check.
  EXPECT_TRUE(eventually([&] { return status().lastError.find("ACL") != std::string::npos; }))
      << status().lastError;
}

// C-S3: neither the MQTT password nor the key password appears in any log
// line (the secrets are deliberately not registered for masking here), nor in
// the status or the state topic. Failed and successful connects both log.
TEST_F(SyncOutageTest, C_S3_NoSecretInAnyLogLine) {
  const std::string password = "Pa55-very-s3cret-mqtt";
  MosquittoOptions mo;
  mo.allowAnonymous = false;
  mo.users = {{"pc7", password}, {"oms", "oms-pw"}};
  startBroker(mo);
  connectOmsUser(*this, oms_, broker_->url());

  LoggingOptions lo;
  lo.target = LogTarget::kStderr;
  lo.defaultLevel = LogLevel::kTrace;
  auto logging = Logging::create(lo);
  ASSERT_TRUE(logging);
  std::mutex m;
  std::vector<std::string> lines;
  (*logging)->addObserver([&](const LogLine& line, const LogFields&) {
    std::lock_guard lock(m);
    lines.push_back(line.text);
  });
  auto logger = (*logging)->get("sync");

  // First a wrong password (errors get logged), then the right one.
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.username = "pc7";
  cfg.mqtt.password = password + "-wrong";
  cfg.mqtt.keyPassword = "k3y-pa55word";
  ASSERT_TRUE(startSync(cfg, logger));
  ASSERT_TRUE(eventually([&] { return status().connectFailures >= 1; }));
  EXPECT_NE(status().lastError.find("mqtt.password"), std::string::npos) << status().lastError;
  destroySync();
  cfg.mqtt.password = password;
  ASSERT_TRUE(startSync(cfg, logger));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"cmd_id":"s3","type":"resync","sent_at":1})"));
  ASSERT_TRUE(oms_->publish(kCmd, "not json " + password));
  ASSERT_TRUE(waitResult("s3").is_object());
  auto s = status();
  destroySync();
  std::lock_guard lock(m);
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    EXPECT_EQ(line.find(password), std::string::npos) << line;
    EXPECT_EQ(line.find("k3y-pa55word"), std::string::npos) << line;
  }
  EXPECT_EQ(s.lastError.find(password), std::string::npos);
  EXPECT_EQ(s.brokerUrl.find(password), std::string::npos);
  for (const auto& st : oms_->messagesOn(kState)) {
    EXPECT_EQ(st.payload.find(password), std::string::npos);
    EXPECT_EQ(st.payload.find("k3y-pa55word"), std::string::npos);
  }
}

// The simulator (tools/oms_sim) against the agent: a generated wave, acks
// lost and duplicated, and its checks hold.
TEST_F(SyncOutageTest, OmsSimChecksHoldWithLostAndDuplicatedAcks) {
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.ackTimeout = 1s;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  floorlink::omssim::OmsSimOptions so;
  so.url = broker_->url();
  so.ackLoss = 0.3;
  so.ackDup = 0.3;
  auto sim = floorlink::omssim::OmsSim::connect(so);
  ASSERT_TRUE(sim) << sim.error().describe();
  ASSERT_TRUE((*sim)->sendCommand("w-1", floorlink::omssim::generateWave("w-1", "W-1", 1, 200)));
  loop_.call([&] {
    port_.addEvents(300);
    sync_->notifyNewEvents();
  });
  ASSERT_TRUE((*sim)->waitFor([](auto& s) { return s.uniqueEvents >= 301 && s.results == 1; }, 30s))
      << (*sim)->summary().describe();
  ASSERT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == 301; }, 30s));
  auto s = (*sim)->summary();
  EXPECT_TRUE(s.checksHold()) << s.describe();
  EXPECT_EQ(s.firstSeq, 1);
  EXPECT_EQ(loop_.call([&] { return std::get<WaveAssign>(port_.applied.at(0).body).tasks.size(); }), 200u);
}

}  // namespace
}  // namespace floorlink::sync::testing
