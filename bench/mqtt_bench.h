#pragma once
// Helpers of the MQTT benchmarks (bench_sync, bench_fleet): the realistic
// backlog they fill the outbox with and the bare Paho publisher that is their
// baseline.
#include <mqtt/async_client.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "agent/store/task_store.h"
#include "bench/bench_util.h"

namespace floorlink::bench {

// `count` pick.confirmed events with their data (a realistic event size),
// committed 5,000 per transaction; `offset` numbers the tasks on.
inline Status appendPickEvents(agent::TaskStore& store, int count, int offset = 0) {
  int done = 0;
  while (done < count) {
    auto tx = store.begin();
    if (!tx) return std::unexpected(tx.error());
    for (int i = 0; i < 5000 && done < count; ++i, ++done) {
      int n = offset + done;
      sync::EventDraft d;
      d.type = "pick.confirmed";
      d.occurredAt = 1763780000000 + n;
      d.station = "cart" + std::to_string(n % 4 + 1);
      d.taskId = "W1-T" + std::to_string(n + 1);
      d.waveId = "W1";
      d.dataJson = R"({"bin":"A-01-02","sku":"SKU-)" + std::to_string(n % 977) +
                   R"(","gtin":"09506000134352","qty":2,"lot":"L2311","expiry":"2027-01-31"})";
      if (auto r = tx->appendEvent(d); !r) return std::unexpected(r.error());
    }
    if (auto r = tx->commit(); !r) return std::unexpected(r.error());
  }
  return ok();
}

// A bare Paho async client connected at MQTT 5 (clean start), the baseline.
// Returns its in-flight window: `window`, or the broker's smaller MQTT 5
// receive maximum (mosquitto's default is 20), as the agent bounds its own.
// More than that would sit in Paho's queue, whose tail Paho sends only on
// its next timed wake-up, seconds later.
inline int connectBare(mqtt::async_client& client, int window) {
  mqtt::connect_options opts;
  opts.set_mqtt_version(MQTTVERSION_5);
  opts.set_clean_session(false);
  opts.set_clean_start(true);
  opts.set_max_inflight(window + 16);
  auto tok = client.connect(opts);
  tok->wait();
  auto response = tok->get_connect_response();
  const auto& props = response.get_properties();
  if (props.contains(mqtt::property::RECEIVE_MAXIMUM)) {
    window = std::min<int>(window, mqtt::get<uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM));
  }
  return window;
}

// Publishes at QoS 1 with at most `window` publishes unacknowledged, as the
// agent does: the baseline of every drain and burst figure.
class WindowedPublisher : public mqtt::iaction_listener {
 public:
  explicit WindowedPublisher(int window) : window_(window) {}

  // Returns once the last publish is handed to Paho (not yet acknowledged).
  void publishAll(mqtt::async_client& client, const std::string& topic, const std::vector<std::string>& payloads) {
    for (const auto& p : payloads) {
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return inflight_ < window_; });
        ++inflight_;
      }
      client.publish(mqtt::make_message(topic, p, 1, false), nullptr, *this);
    }
  }
  // Waits (bounded) until every publish was acknowledged or failed.
  void waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, timeout, [&] { return inflight_ == 0; });
  }

  void on_success(const mqtt::token&) override { done(); }
  void on_failure(const mqtt::token&) override { done(); }

 private:
  void done() {
    std::lock_guard lock(m_);
    --inflight_;
    cv_.notify_one();
  }
  std::mutex m_;
  std::condition_variable cv_;
  int inflight_ = 0;
  const int window_;
};

}  // namespace floorlink::bench
