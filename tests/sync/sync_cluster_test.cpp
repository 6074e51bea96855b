// Sync against a real three-node RabbitMQ cluster (tests/support/rabbitmq_cluster):
// MQTT 3.1.1 only, retained messages per node, per-agent topic permissions.
// The node the agent is on is SIGKILLed, or frozen with SIGSTOP (half-open
// link), while events drain; the OMS reads a third node.
//
// Each test starts its own cluster (tens of seconds on 2 cores).
// FLOORLINK_CLUSTER_TESTS=0 skips them; FLOORLINK_CLUSTER_EVENTS sets how many
// events drain (default 1500).
#include <cstdlib>

#include "tests/support/rabbitmq_cluster.h"
#include "tests/sync/sync_test_util.h"
#include "tools/oms_sim/oms_sim.h"

namespace floorlink::sync::testing {
namespace {

using floorlink::testing::RabbitMqCluster;
using floorlink::testing::RabbitMqOptions;

int clusterEvents() {
  const char* v = std::getenv("FLOORLINK_CLUSTER_EVENTS");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : 1500;
}

class SyncClusterTest : public SyncHarness {
 protected:
  void SetUp() override {
    const char* on = std::getenv("FLOORLINK_CLUSTER_TESTS");
    if (on && std::string(on) == "0") GTEST_SKIP() << "FLOORLINK_CLUSTER_TESTS=0";
    if (!RabbitMqCluster::installed()) GTEST_SKIP() << "rabbitmq-server is not installed (scripts/deps)";
    RabbitMqOptions o;
    o.allowAnonymous = false;
    o.users = {{"pc7", "agent-pw-7"}, {"oms", "oms-pw"}};
    // The RabbitMQ form of the mosquitto ACL wh/v1/{site}/%u/#: MQTT topics
    // become AMQP routing keys with "." for "/".
    o.topicPermissions = {{"pc7", "^wh\\.v1\\.dc1\\.{username}\\."}};
    auto c = RabbitMqCluster::start(o);
    ASSERT_TRUE(c) << c.error().describe();
    cluster_ = std::move(*c);
  }

  void TearDown() override {
    sim_.reset();
    SyncHarness::TearDown();
    cluster_.reset();
  }

  void startOms(size_t node, const std::string& agent = "pc7") {
    floorlink::omssim::OmsSimOptions so;
    so.url = cluster_->mqttUrl(node);
    so.clientId = "oms-" + agent;
    so.username = "oms";
    so.password = "oms-pw";
    so.mqttVersion = 4;
    so.agent = agent;
    auto sim = floorlink::omssim::OmsSim::connect(so);
    ASSERT_TRUE(sim) << sim.error().describe();
    sim_ = std::move(*sim);
  }

  config::Config clusterConfig() {
    auto cfg = testConfig(cluster_->mqttUrl(0));
    cfg.mqtt.urls = cluster_->mqttUrls();
    cfg.mqtt.username = "pc7";
    cfg.mqtt.password = "agent-pw-7";
    cfg.mqtt.keepalive = 2s;
    cfg.mqtt.connectTimeout = 3s;
    cfg.mqtt.ackTimeout = 5s;
    return cfg;
  }

  // Produces `total` events on the loop, 10 every 10 ms, as a busy agent commits them.
  EventLoop::TimerId produce(int total) {
    return loop_.call([&, total] {
      return loop_.loop().addTimer(10ms, [&, total] {
        if (produced_ >= total) return;
        port_.addEvents(10);
        produced_ += 10;
        sync_->notifyNewEvents();
      }, 10ms);
    });
  }

  // The agent drains while the node it is on fails (`breakNode`); the OMS on
  // the last node ends with every event once, first arrivals in seq order.
  void drainThroughNodeFailure(const std::function<void(size_t)>& breakNode) {
    startOms(2);
    ASSERT_TRUE(startSync(clusterConfig()));
    ASSERT_TRUE(waitConnected(60s)) << status().lastError;
    auto s = status();
    EXPECT_EQ(s.protocol, "3.1.1") << "RabbitMQ 3.10 speaks MQTT 3.1.1 only: auto must fall back";
    EXPECT_EQ(s.brokerUrl, cluster_->mqttUrl(0));
    const int total = clusterEvents();
    auto timer = produce(total);
    ASSERT_TRUE(sim_->waitFor([&](auto& sum) { return sum.uniqueEvents >= static_cast<uint64_t>(total / 4); }, 60s))
        << sim_->summary().describe();
    int node = cluster_->nodeOf(status().brokerUrl);
    ASSERT_EQ(node, 0);
    breakNode(static_cast<size_t>(node));
    ASSERT_TRUE(eventually([&] {
      auto st = status();
      return st.connected && st.connects >= 2;
    }, 90s)) << status().lastError;
    s = status();
    EXPECT_NE(cluster_->nodeOf(s.brokerUrl), 0) << "still on the broken node";
    EXPECT_EQ(s.failovers, 1u);
    ASSERT_TRUE(sim_->waitFor([&](auto& sum) { return sum.uniqueEvents >= static_cast<uint64_t>(total); }, 120s))
        << sim_->summary().describe() << "agent: connected " << status().connected << ", last error "
        << status().lastError;
    loop_.call([&] { loop_.loop().cancelTimer(timer); });
    auto sum = sim_->summary();
    EXPECT_TRUE(sum.checksHold()) << sum.describe();
    EXPECT_EQ(sum.firstSeq, 1);
    EXPECT_EQ(sum.maxSeq, total);
    EXPECT_EQ(sum.byteMismatches, 0u) << "a redelivery carried other bytes (C-E3)";
    EXPECT_EQ(sum.outOfOrder, 0u) << "first arrivals out of seq order (C-E4)";
    EXPECT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == total; }, 60s))
        << "acks through the new node did not reach the agent";
  }

  std::unique_ptr<RabbitMqCluster> cluster_;
  std::unique_ptr<floorlink::omssim::OmsSim> sim_;
  std::atomic<int> produced_{0};
};

// C-A2, C-E3, C-E4, C-P2: SIGKILL of the agent's node mid-drain.
TEST_F(SyncClusterTest, C_A2_C_E4_NodeKilledMidDrainAgentMovesToAnotherNodeLosingNothing) {
  drainThroughNodeFailure([&](size_t node) { ASSERT_TRUE(cluster_->kill(node)); });
}

// C-A2, C-E4: the agent's node frozen (SIGSTOP): the link stays up and
// nothing answers; keepalive notices and the agent moves on.
TEST_F(SyncClusterTest, C_A2_C_E4_NodeFrozenHalfOpenAgentMovesToAnotherNodeLosingNothing) {
  drainThroughNodeFailure([&](size_t node) { ASSERT_TRUE(cluster_->freeze(node)); });
}

// C-S2: topic permissions ^wh\.v1\.dc1\.{username}\. confine the agent the
// way the mosquitto ACL wh/v1/{site}/%u/# does: its own prefix works
// (commands, events, acks); an agent id that is not its user name gets nothing
// through, and the status says what to check.
TEST_F(SyncClusterTest, C_S2_TopicPermissionsConfineTheAgentToItsPrefix) {
  startOms(1);
  ASSERT_TRUE(startSync(clusterConfig()));
  ASSERT_TRUE(waitConnected(60s)) << status().lastError;
  loop_.call([&] {
    port_.addEvents(3);
    sync_->notifyNewEvents();
  });
  // The agent subscribes before it publishes, on the same connection: once
  // its events are here, its subscription is too.
  ASSERT_TRUE(sim_->waitFor([](auto& s) { return s.uniqueEvents >= 3; }, 30s)) << sim_->summary().describe();
  ASSERT_TRUE(sim_->sendCommand("perm-1", R"({"v":1,"cmd_id":"perm-1","type":"resync","sent_at":1})"));
  ASSERT_TRUE(sim_->waitFor([](auto& s) { return s.results == 1 && s.uniqueEvents >= 4; }, 30s))
      << sim_->summary().describe();
  EXPECT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == 4; }, 30s));
  EXPECT_EQ(status().lastError, "");
  destroySync();

  // pc8 logging in as pc7: outside its permissions.
  floorlink::omssim::OmsSimOptions so;
  so.url = cluster_->mqttUrl(1);
  so.clientId = "oms-pc8";
  so.username = "oms";
  so.password = "oms-pw";
  so.mqttVersion = 4;
  so.agent = "pc8";
  auto sim8 = floorlink::omssim::OmsSim::connect(so);
  ASSERT_TRUE(sim8) << sim8.error().describe();
  auto cfg = clusterConfig();
  cfg.agent.id = "pc8";
  loop_.call([&] { port_.addEvents(2); });
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(eventually([&] { return status().connects >= 1; }, 60s)) << status().lastError;
  EXPECT_TRUE(eventually([&] {
    auto e = status().lastError;
    return e.find("ACL") != std::string::npos || e.find("not authorised") != std::string::npos ||
           e.find("refused") != std::string::npos;
  }, 30s)) << status().lastError;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ((*sim8)->summary().eventsReceived, 0u) << "an event outside the agent's prefix got through";
}

}  // namespace
}  // namespace floorlink::sync::testing
