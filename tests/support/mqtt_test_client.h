#pragma once
// A plain MQTT client for tests (the "OMS" side): connects, subscribes,
// publishes and records every message it receives, thread-safe.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::testing {

struct ReceivedMessage {
  std::string topic;
  std::string payload;
  bool retained = false;
};

struct MqttTestClientOptions {
  std::string url;
  std::string clientId;
  std::string username, password;
  std::string caFile, certFile, keyFile;
  int mqttVersion = 4;  // 4 = 3.1.1, 5
  bool cleanSession = true;  // false: the broker keeps subscriptions and queues QoS 1 while away
};

class MqttTestClient {
 public:
  static Result<std::unique_ptr<MqttTestClient>> connect(const MqttTestClientOptions& options);
  static Result<std::unique_ptr<MqttTestClient>> connect(const std::string& url, const std::string& clientId);
  ~MqttTestClient();

  Status subscribe(const std::string& filter, int qos = 1);
  Status publish(const std::string& topic, const std::string& payload, int qos = 1, bool retained = false);

  bool connected() const;

  // Every message so far (a copy).
  std::vector<ReceivedMessage> messages() const;
  std::vector<ReceivedMessage> messagesOn(const std::string& topic) const;
  void clear();
  // Waits until pred(messages) holds or the timeout passes; returns pred's last value.
  bool waitFor(const std::function<bool(const std::vector<ReceivedMessage>&)>& pred,
               std::chrono::milliseconds timeout) const;
  // Called on the Paho thread for each message, after it is recorded.
  void onMessage(std::function<void(const ReceivedMessage&)> handler);

  struct Impl;

 private:
  explicit MqttTestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::testing
