// Sync against several broker nodes (mqtt.urls) and brokers with tighter
// flow control: failover to the next node, rounds and backoff, the MQTT 5
// receive maximum and maximum packet size. Real mosquitto brokers.
#include <algorithm>
#include <set>

#include "tests/sync/sync_test_util.h"
#include "tools/oms_sim/oms_sim.h"

namespace floorlink::sync::testing {
namespace {

class SyncFailoverTest : public SyncHarness {
 protected:
  std::unique_ptr<MosquittoBroker> second_;

  void startSecond(MosquittoOptions o = {}) {
    auto b = MosquittoBroker::start(std::move(o));
    ASSERT_TRUE(b) << b.error().describe();
    second_ = std::move(*b);
  }
};

// The first node is down from the start: the agent tries the next one at
// once (no backoff within a round) and connects there.
TEST_F(SyncFailoverTest, FirstNodeDownConnectsToTheNextAtOnce) {
  startSecond();
  std::string deadUrl = broker_->url();
  ASSERT_TRUE(broker_->kill());
  auto cfg = testConfig(deadUrl);
  cfg.mqtt.urls = {deadUrl, second_->url()};
  cfg.mqtt.backoffMin = std::chrono::milliseconds(60'000);  // a backoff would outlast the deadline
  cfg.mqtt.backoffMax = std::chrono::milliseconds(60'000);
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected(10s)) << status().lastError;
  auto s = status();
  EXPECT_EQ(s.brokerUrl, second_->url());
  EXPECT_EQ(s.brokerNodes, 2u);
  EXPECT_EQ(s.connectFailures, 1u);
}

// C-A2, C-E3, C-E4: the node the agent is on dies while events drain; the
// agent moves to the other node, publishes its state there and resends
// everything unacknowledged; the OMS (on the other node's side) ends with
// every seq, first arrivals in order, redeliveries byte-identical.
TEST_F(SyncFailoverTest, C_A2_C_E4_NodeKilledAgentMovesToTheNextNodeLosingNothing) {
  startSecond();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.urls = {broker_->url(), second_->url()};
  cfg.mqtt.inflight = 8;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  ASSERT_EQ(status().brokerUrl, broker_->url());
  // The OMS reads the second node (two mosquittos do not share messages, so
  // it sees what was sent after the move: the resend of everything unacked).
  connectOms(second_->url());
  loop_.call([&] {
    port_.addEvents(500);
    sync_->notifyNewEvents();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));  // a stable connection (>= 5 s)
  ASSERT_TRUE(broker_->kill());
  ASSERT_TRUE(waitConnected(15s, 2)) << status().lastError;
  EXPECT_EQ(status().brokerUrl, second_->url());
  EXPECT_EQ(status().failovers, 1u);
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true && j["session"] == 2; }).is_object())
      << "no birth state on the new node (C-P2)";
  ASSERT_TRUE(waitEvents(500));
  auto seqs = seqsOf(evts());
  std::vector<int64_t> first;
  std::set<int64_t> seen;
  for (auto s : seqs) {
    if (seen.insert(s).second) first.push_back(s);
  }
  EXPECT_EQ(seen.size(), 500u);
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end()));
  for (const auto& m : evts()) {
    auto j = Json::parse(m.payload);
    EXPECT_EQ(m.payload, loop_.call([&] { return port_.payloadOf(j["seq"].get<int64_t>()); })) << "C-E3";
  }
}

// Stays on the node it reached: the first node coming back changes nothing.
TEST_F(SyncFailoverTest, StaysOnTheNodeItReached) {
  startSecond();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.urls = {broker_->url(), second_->url()};
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  ASSERT_TRUE(broker_->kill());
  ASSERT_TRUE(waitConnected(15s, 2));
  ASSERT_TRUE(broker_->restart());
  std::this_thread::sleep_for(2s);
  auto s = status();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.connects, 2u);
  EXPECT_EQ(s.brokerUrl, second_->url());
}

// Every node down: one attempt per node, then the backoff; when a node
// comes back the agent connects to it.
TEST_F(SyncFailoverTest, WholeRoundFailedThenBackoffThenConnects) {
  startSecond();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.urls = {broker_->url(), second_->url()};
  cfg.mqtt.backoffMin = 1500ms;
  cfg.mqtt.backoffMax = 1500ms;
  ASSERT_TRUE(broker_->kill());
  ASSERT_TRUE(second_->kill());
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(eventually([&] { return status().connectFailures >= 2; }));
  auto s = status();
  EXPECT_EQ(s.connectFailures, 2u) << "tried beyond one round without a backoff";
  EXPECT_GT(s.nextRetryInMs, 0);
  ASSERT_TRUE(second_->restart());
  ASSERT_TRUE(waitConnected(15s)) << status().lastError;
  EXPECT_EQ(status().brokerUrl, second_->url());
}

// mqtt.url_order = "shuffle": a stable order per client id, so different
// agents start on different nodes.
TEST_F(SyncFailoverTest, ShuffleSpreadsAgentsOverTheNodes) {
  startSecond();
  std::set<std::string> firstNodes;
  for (const char* id : {"pc1", "pc2", "pc3", "pc4", "pc5", "pc6", "pc7", "pc8"}) {
    auto cfg = testConfig(broker_->url());
    cfg.mqtt.urls = {broker_->url(), second_->url()};
    cfg.mqtt.urlOrder = "shuffle";
    cfg.mqtt.clientId = std::string("dc1-") + id;
    ASSERT_TRUE(startSync(cfg));
    ASSERT_TRUE(waitConnected());
    firstNodes.insert(status().brokerUrl);
    destroySync();
  }
  EXPECT_EQ(firstNodes.size(), 2u);
}

// A broker with an MQTT 5 receive maximum below mqtt.inflight: the agent's
// window follows it and delivery stays complete and in order.
TEST_F(SyncFailoverTest, C_E4_ReceiveMaximumBelowInflightBoundsTheWindow) {
  MosquittoOptions o;
  o.extraConfig = "max_inflight_messages 4";
  startBroker(o);
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.protocol = "5";
  cfg.mqtt.inflight = 32;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  loop_.call([&] {
    port_.addEvents(300);
    sync_->notifyNewEvents();
  });
  ASSERT_TRUE(waitEvents(300));
  auto s = status();
  EXPECT_EQ(s.window, 4u);
  auto seqs = seqsOf(evts());
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(seqs.back(), 300);
}

// mosquitto's default max_inflight_messages 20 is announced to MQTT 5
// clients as receive maximum 20. Paho then holds publishes beyond 20 in its
// own queue, and its send thread wakes for them only when a new publish
// comes (or after up to 1 s): at the tail of a burst that was the stall.
// The agent's window follows the broker's receive maximum instead.
TEST_F(SyncFailoverTest, C_E4_MosquittoDefaultReceiveMaximumIsTheWindow) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.inflight = 64;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  EXPECT_EQ(status().protocol, "5");
  EXPECT_EQ(status().window, 20u);
}

// C-E5: an event larger than the broker's maximum packet size is reported
// clearly and kept; nothing after it is sent out of order; a broker that
// allows it gets it.
TEST_F(SyncFailoverTest, C_E5_EventOverTheBrokersMaximumPacketSizeIsKeptAndReported) {
  MosquittoOptions o;
  o.extraConfig = "max_packet_size 2000";
  startBroker(o);
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.protocol = "5";
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected()) << status().lastError;
  loop_.call([&] {
    port_.addEvents(2);
    port_.addEvent("task.started", R"({"operator":")" + std::string(3000, 'x') + "\"}");
    port_.addEvents(2);
    sync_->notifyNewEvents();
  });
  ASSERT_TRUE(waitEvents(2));
  ASSERT_TRUE(eventually([&] { return status().blockedSeq == 3; }));
  auto s = status();
  EXPECT_EQ(s.brokerMaxPacket, 2000u);
  EXPECT_NE(s.lastError.find("event seq 3"), std::string::npos) << s.lastError;
  EXPECT_NE(s.lastError.find("maximum packet size"), std::string::npos) << s.lastError;
  EXPECT_TRUE(s.connected) << "the agent must not get itself disconnected over it";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(seqsOf(evts()), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(loop_.call([&] { return port_.lastSeq(); }), 5);  // kept

  // The same agent database against a broker without the limit.
  startSecond();
  destroySync();
  oms_.reset();
  auto c = MqttTestClient::connect(second_->url(), "oms-2");
  ASSERT_TRUE(c);
  oms_ = std::move(*c);
  ASSERT_TRUE(oms_->subscribe(kEvt));
  ASSERT_TRUE(startSync(testConfig(second_->url())));
  ASSERT_TRUE(waitEvents(5));
  EXPECT_EQ(seqsOf(evts()), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// floorlink-oms-sim --agent +: one simulator consumes every agent of the
// site (wh/v1/dc1/+/evt), checks seq and exactly-once per agent and acks
// each agent on its own.
TEST_F(SyncFailoverTest, OmsSimConsumesManyAgentsEachCheckedAndAckedOnItsOwn) {
  floorlink::omssim::OmsSimOptions so;
  so.url = broker_->url();
  so.agent = "+";
  auto sim = floorlink::omssim::OmsSim::connect(so);
  ASSERT_TRUE(sim) << sim.error().describe();
  FakeAgentPort port8("dc1", "pc8");
  std::unique_ptr<Sync> sync8;
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(loop_.call([&]() -> Status {
    auto cfg = testConfig(broker_->url());
    cfg.agent.id = "pc8";
    auto s = Sync::create(loop_.loop(), cfg, port8, Logger());
    if (!s) return std::unexpected(s.error());
    sync8 = std::move(*s);
    return sync8->start();
  }));
  loop_.call([&] {
    port_.addEvents(120);
    port8.addEvents(80);
    sync_->notifyNewEvents();
    sync8->notifyNewEvents();
  });
  ASSERT_TRUE((*sim)->waitFor([](auto& s) { return s.uniqueEvents >= 200; }, 30s)) << (*sim)->summary().describe();
  auto per = (*sim)->perAgent();
  ASSERT_EQ(per.size(), 2u);
  EXPECT_EQ(per["dc1/pc7"].contiguousThrough, 120);
  EXPECT_EQ(per["dc1/pc8"].contiguousThrough, 80);
  EXPECT_TRUE(per["dc1/pc7"].checksHold());
  EXPECT_TRUE(per["dc1/pc8"].checksHold());
  EXPECT_TRUE((*sim)->summary().checksHold());
  EXPECT_TRUE(eventually([&] {
    return loop_.call([&] { return port_.ackedThrough() == 120 && port8.ackedThrough() == 80; });
  }));
  loop_.call([&] { sync8.reset(); });
}

}  // namespace
}  // namespace floorlink::sync::testing
