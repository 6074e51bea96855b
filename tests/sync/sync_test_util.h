#pragma once
// Shared pieces of the broker-backed sync tests.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "sync/sync.h"
#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_test_client.h"
#include "tests/sync/fake_agent_port.h"
#include "tests/support/loop_thread.h"

namespace floorlink::sync::testing {

using namespace std::chrono_literals;
using floorlink::testing::MosquittoBroker;
using floorlink::testing::MosquittoOptions;
using floorlink::testing::MqttTestClient;
using floorlink::testing::ReceivedMessage;
using floorlink::testing::LoopThread;
using Json = nlohmann::json;

inline const std::string kPrefix = "wh/v1/dc1/pc7/";
inline const std::string kState = kPrefix + "state";
inline const std::string kEvt = kPrefix + "evt";
inline const std::string kCmd = kPrefix + "cmd";
inline const std::string kAck = kPrefix + "ack";

// Short timers so the suite stays fast; only deadlines, never timing assertions.
inline config::Config testConfig(const std::string& url) {
  config::Config c;
  c.agent.site = "dc1";
  c.agent.id = "pc7";
  c.mqtt.url = url;
  c.mqtt.keepalive = 2s;
  c.mqtt.connectTimeout = 3s;
  c.mqtt.backoffMin = 100ms;
  c.mqtt.backoffMax = 800ms;
  c.mqtt.ackTimeout = 30s;
  c.mqtt.stateInterval = 60s;
  c.mqtt.inflight = 16;
  return c;
}

// Polls `pred` (run wherever the caller decides) until true or the deadline.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 15s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

inline std::vector<Json> parsed(const std::vector<ReceivedMessage>& msgs) {
  std::vector<Json> out;
  for (const auto& m : msgs) out.push_back(Json::parse(m.payload, nullptr, false));
  return out;
}

inline std::vector<int64_t> seqsOf(const std::vector<ReceivedMessage>& msgs) {
  std::vector<int64_t> out;
  for (const auto& m : msgs) {
    auto j = Json::parse(m.payload, nullptr, false);
    if (j.is_object() && j.contains("seq")) out.push_back(j["seq"].get<int64_t>());
  }
  return out;
}

// Harness: broker, loop thread, fake port, OMS-side client, one Sync.
class SyncHarness : public ::testing::Test {
 protected:
  void SetUp() override { startBroker({}); }

  void TearDown() override {
    destroySync();
    oms_.reset();
    loop_.stop();
  }

  void startBroker(MosquittoOptions options) {
    auto b = MosquittoBroker::start(std::move(options));
    ASSERT_TRUE(b) << b.error().describe();
    broker_ = std::move(*b);
  }

  void connectOms(const std::string& url = "") {
    auto c = MqttTestClient::connect(url.empty() ? broker_->url() : url, "oms-test");
    ASSERT_TRUE(c) << c.error().describe();
    oms_ = std::move(*c);
    ASSERT_TRUE(oms_->subscribe(kState));
    ASSERT_TRUE(oms_->subscribe(kEvt));
  }

  Status startSync(const config::Config& config, Logger logger = Logger()) {
    return loop_.call([&]() -> Status {
      auto s = Sync::create(loop_.loop(), config, port_, logger);
      if (!s) return std::unexpected(s.error());
      sync_ = std::move(*s);
      return sync_->start();
    });
  }

  void destroySync() {
    loop_.call([&] { sync_.reset(); });
  }

  SyncStatus status() {
    return loop_.call([&] { return sync_->status(); });
  }

  bool waitConnected(std::chrono::milliseconds deadline = 15s, uint64_t connects = 1) {
    return eventually([&] {
      auto s = status();
      return s.connected && s.connects >= connects;
    }, deadline);
  }

  std::vector<ReceivedMessage> evts() const { return oms_->messagesOn(kEvt); }
  std::vector<ReceivedMessage> states() const { return oms_->messagesOn(kState); }

  bool waitEvents(size_t n, std::chrono::milliseconds deadline = 15s) {
    return oms_->waitFor([&](const std::vector<ReceivedMessage>& all) {
      size_t count = 0;
      for (const auto& m : all) count += m.topic == kEvt;
      return count >= n;
    }, deadline);
  }

  // Waits for a state message matching pred; returns it (or null JSON).
  Json waitState(const std::function<bool(const Json&)>& pred, std::chrono::milliseconds deadline = 15s) {
    Json found;
    oms_->waitFor([&](const std::vector<ReceivedMessage>& all) {
      for (const auto& m : all) {
        if (m.topic != kState) continue;
        auto j = Json::parse(m.payload, nullptr, false);
        if (j.is_object() && pred(j)) {
          found = j;
          return true;
        }
      }
      return false;
    }, deadline);
    return found;
  }

  // Waits for the cmd.result/cmd.invalid event that matches pred.
  Json waitEvent(const std::function<bool(const Json&)>& pred, std::chrono::milliseconds deadline = 15s) {
    Json found;
    oms_->waitFor([&](const std::vector<ReceivedMessage>& all) {
      for (const auto& m : all) {
        if (m.topic != kEvt) continue;
        auto j = Json::parse(m.payload, nullptr, false);
        if (j.is_object() && pred(j)) {
          found = j;
          return true;
        }
      }
      return false;
    }, deadline);
    return found;
  }

  Json waitResult(const std::string& cmdId, std::chrono::milliseconds deadline = 15s) {
    return waitEvent([&](const Json& j) {
      return j["type"] == "cmd.result" && j["data"]["cmd_id"] == cmdId;
    }, deadline);
  }

  LoopThread loop_;
  FakeAgentPort port_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<MqttTestClient> oms_;
  std::unique_ptr<Sync> sync_;
};

}  // namespace floorlink::sync::testing
