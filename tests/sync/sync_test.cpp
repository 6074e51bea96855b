// Sync's logic against FakeMqttNetwork: no broker, every step on this thread.
// The broker tests (sync_broker_test.cpp, …) check the same against mosquitto
// and RabbitMQ; these pin down the decisions: windows, order, failover.
#include "sync/sync.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sync/testing/fake_mqtt_client.h"
#include "tests/sync/fake_agent_port.h"
#include "tests/sync/sync_test_util.h"

namespace floorlink::sync::testing {
namespace {

class SyncUnit : public ::testing::Test {
 protected:
  void start(config::Config cfg) {
    SyncOptions o;
    o.clientFactory = net_.factory();
    auto s = Sync::create(*loop_, cfg, port_, Logger(), std::move(o));
    ASSERT_TRUE(s) << s.error().describe();
    sync_ = std::move(*s);
    ASSERT_TRUE(sync_->start());
  }
  // Runs the loop until pred holds (deadline only, no timing assertion).
  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 5s) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      (void)loop_->runFor(5ms);
    }
    return true;
  }
  void settle() { (void)loop_->runFor(30ms); }
  std::vector<int64_t> seqsPublished() const {
    std::vector<int64_t> out;
    for (const auto& p : net_.eventPublishes()) out.push_back(Json::parse(p.payload)["seq"].get<int64_t>());
    return out;
  }
  static config::Config nodes(std::vector<std::string> urls) {
    auto c = testConfig(urls.front());
    c.mqtt.urls = std::move(urls);
    return c;
  }

  std::unique_ptr<EventLoop> loop_ = std::move(*EventLoop::create());
  FakeMqttNetwork net_{*loop_};
  FakeAgentPort port_;
  std::unique_ptr<Sync> sync_;  // after net_: destroyed first
};

TEST_F(SyncUnit, ConnectSubscribesOwnTopicsPublishesStateThenEventsInOrder) {
  port_.addEvents(5);
  start(testConfig("tcp://a:1883"));
  ASSERT_TRUE(runUntil([&] { return seqsPublished().size() == 5; }));
  ASSERT_EQ(net_.subscriptions.size(), 1u);
  EXPECT_EQ(net_.subscriptions[0], (std::vector<std::string>{kCmd, kAck}));  // C-S2
  ASSERT_FALSE(net_.publishes.empty());
  EXPECT_EQ(net_.publishes.front().topic, kState);  // C-P2: state first
  EXPECT_TRUE(net_.publishes.front().retained);
  EXPECT_EQ(seqsPublished(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  // C-E3: the stored bytes, unchanged.
  EXPECT_EQ(net_.eventPublishes()[2].payload, port_.payloadOf(3));
  EXPECT_EQ(net_.connects.at(0).params.willTopic, kState);  // C-P1
}

TEST_F(SyncUnit, WindowBoundsEventsAwaitingPuback) {
  net_.node("tcp://a:1883").autoPuback = false;
  auto cfg = testConfig("tcp://a:1883");
  cfg.mqtt.inflight = 4;
  port_.addEvents(10);
  start(cfg);
  ASSERT_TRUE(runUntil([&] { return seqsPublished().size() == 4; }));
  settle();
  EXPECT_EQ(seqsPublished().size(), 4u);
  EXPECT_EQ(sync_->status().inflight, 4u);
  net_.puback(3);  // the birth state, seq 1 and seq 2
  ASSERT_TRUE(runUntil([&] { return seqsPublished().size() == 6; }));
  settle();
  EXPECT_EQ(seqsPublished(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(SyncUnit, ReceiveMaximumBelowInflightBoundsTheWindow) {
  auto& node = net_.node("tcp://a:1883");
  node.autoPuback = false;
  node.receiveMaximum = 3;
  auto cfg = testConfig("tcp://a:1883");
  cfg.mqtt.inflight = 16;
  port_.addEvents(10);
  start(cfg);
  ASSERT_TRUE(runUntil([&] { return seqsPublished().size() == 3; }));
  settle();
  EXPECT_EQ(seqsPublished().size(), 3u);
  EXPECT_EQ(sync_->status().window, 3u);
}

TEST_F(SyncUnit, OversizedEventIsKeptAndDeliveryWaitsAtIt) {
  net_.node("tcp://a:1883").maximumPacketSize = 300;
  port_.addEvents(2);
  port_.addEvent("task.started", "{\"operator\":\"" + std::string(400, 'x') + "\"}");
  port_.addEvents(2);
  start(testConfig("tcp://a:1883"));
  ASSERT_TRUE(runUntil([&] { return sync_->status().blockedSeq == 3; }));
  settle();
  EXPECT_EQ(seqsPublished(), (std::vector<int64_t>{1, 2}));  // C-E4: never past the gap
  auto s = sync_->status();
  EXPECT_EQ(s.brokerMaxPacket, 300u);
  EXPECT_NE(s.lastError.find("300"), std::string::npos) << s.lastError;
  EXPECT_EQ(port_.lastSeq(), 5);  // kept, not dropped
}

TEST_F(SyncUnit, NodeDiesAgentMovesToNextAtOnceAndResendsUnackedSameBytes) {
  std::vector<std::string> urls{"tcp://a:1883", "tcp://b:1883", "tcp://c:1883"};
  net_.node(urls[0]).autoPuback = false;
  port_.addEvents(6);
  start(nodes(urls));
  ASSERT_TRUE(runUntil([&] { return seqsPublished().size() == 6; }));
  EXPECT_EQ(net_.connectedUrl(), urls[0]);
  uint64_t firstSession = port_.session();
  net_.deliver(kAck, R"({"v":1,"acked_through":2})");
  ASSERT_TRUE(runUntil([&] { return port_.ackedThrough() == 2; }));
  auto before = net_.eventPublishes();
  net_.kill(urls[0]);
  ASSERT_TRUE(runUntil([&] { return net_.connectedUrl() == urls[1] && seqsPublished().size() == 10; }));
  EXPECT_EQ(port_.session(), firstSession + 1);  // a session per successful connect
  auto after = net_.eventPublishes();
  auto all = seqsPublished();
  std::vector<int64_t> resent(all.begin() + 6, all.end());
  EXPECT_EQ(resent, (std::vector<int64_t>{3, 4, 5, 6}));  // C-A2, in order
  for (size_t i = 6; i < after.size(); ++i) {
    EXPECT_EQ(after[i].url, urls[1]);
    EXPECT_EQ(after[i].payload, before[i - 4].payload);  // C-E3: the same bytes
  }
  auto s = sync_->status();
  EXPECT_EQ(s.failovers, 1u);
  EXPECT_EQ(s.brokerNodes, 3u);
}

TEST_F(SyncUnit, DownNodesAreSkippedWithoutBackoffUntilARoundFails) {
  std::vector<std::string> urls{"tcp://a:1883", "tcp://b:1883", "tcp://c:1883"};
  net_.node(urls[0]).up = false;
  net_.node(urls[1]).up = false;
  start(nodes(urls));
  ASSERT_TRUE(runUntil([&] { return net_.connectedUrl() == urls[2]; }, 1s));  // backoff_min is 100 ms
  net_.kill(urls[2]);
  // a and b are still down: one round fails, then the backoff with jitter.
  ASSERT_TRUE(runUntil([&] { return sync_->status().nextRetryInMs > 0; }));
  auto attempts = net_.connects.size();
  net_.node(urls[1]).up = true;
  ASSERT_TRUE(runUntil([&] { return net_.connectedUrl() == urls[1]; }));
  EXPECT_GT(net_.connects.size(), attempts);
}

TEST_F(SyncUnit, StaysOnTheNodeItReachedWhenTheFirstComesBack) {
  std::vector<std::string> urls{"tcp://a:1883", "tcp://b:1883"};
  net_.node(urls[0]).up = false;
  start(nodes(urls));
  ASSERT_TRUE(runUntil([&] { return net_.connectedUrl() == urls[1]; }));
  net_.node(urls[0]).up = true;
  auto attempts = net_.connects.size();
  (void)loop_->runFor(300ms);
  EXPECT_EQ(net_.connectedUrl(), urls[1]);
  EXPECT_EQ(net_.connects.size(), attempts);
}

TEST_F(SyncUnit, BrokerWithoutMqtt5GetsMqtt311OnTheSameNode) {
  net_.node("tcp://a:1883").closesOnV5 = true;  // RabbitMQ 3.10
  auto cfg = testConfig("tcp://a:1883");
  cfg.mqtt.protocol = "auto";
  start(cfg);
  ASSERT_TRUE(runUntil([&] { return sync_->status().connected; }));
  EXPECT_EQ(sync_->status().protocol, "3.1.1");
  ASSERT_GE(net_.connects.size(), 2u);
  EXPECT_EQ(net_.connects[0].params.mqttVersion, 5);
  EXPECT_EQ(net_.connects.back().params.mqttVersion, 4);
  EXPECT_EQ(net_.connects.back().url, "tcp://a:1883");
}

TEST_F(SyncUnit, CommandsReachThePortAndNewEventsFollow) {
  start(testConfig("tcp://a:1883"));
  ASSERT_TRUE(runUntil([&] { return sync_->status().connected; }));
  net_.deliver(kCmd, R"({"v":1,"cmd_id":"c-1","type":"wave.cancel","sent_at":1,"wave_id":"W-1","reason":"late"})");
  ASSERT_TRUE(runUntil([&] { return port_.applied.size() == 1; }));
  EXPECT_EQ(port_.applied[0].cmdId, "c-1");
  sync_->notifyNewEvents();
  ASSERT_TRUE(runUntil([&] { return !seqsPublished().empty(); }));
  auto result = Json::parse(net_.eventPublishes().back().payload);
  EXPECT_EQ(result["type"], "cmd.result");
}

TEST_F(SyncUnit, StopSaysOfflineBeforeDisconnecting) {
  start(testConfig("tcp://a:1883"));
  ASSERT_TRUE(runUntil([&] { return sync_->status().connected; }));
  sync_->stop();
  ASSERT_FALSE(net_.publishes.empty());
  auto last = net_.publishes.back();
  EXPECT_EQ(last.topic, kState);
  EXPECT_EQ(Json::parse(last.payload)["online"], false);  // C-P4
}

}  // namespace
}  // namespace floorlink::sync::testing
