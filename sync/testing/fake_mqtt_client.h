#pragma once
// A scripted MQTT network for the sync unit tests: no broker, no threads.
// FakeMqttNetwork stands for the broker nodes (one per URL) and makes a
// FakeMqttClient per connection attempt through factory(); the test decides
// what each node does (down, refuses MQTT 5, receive maximum, packet limit,
// PUBACKs at once or when told) and sees every connect and publish.
//
// Threads: everything runs on the loop thread; the client answers through
// posted callbacks, as the Paho adaptor does, so Sync sees the same order.
// Ownership: Sync owns each client; the network only knows the live one.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "sync/mqtt_client.h"

namespace floorlink::sync::testing {

struct FakeNode {
  bool up = true;
  bool speaksV5 = true;         // false: refuses an MQTT 5 CONNECT with "version refused"
  bool closesOnV5 = false;      // RabbitMQ 3.10: closes the link on MQTT 5, no CONNACK
  uint32_t receiveMaximum = 0;  // MQTT 5 CONNACK property, 0: none
  uint32_t maximumPacketSize = 0;
  bool autoPuback = true;       // false: PUBACKs only through FakeMqttNetwork::puback()
};

struct FakeConnect {
  std::string url;
  MqttConnectParams params;
  bool accepted = false;
};

struct FakePublish {
  std::string url;
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
  uint64_t id = 0;  // 0 for publishAndWait
};

class FakeMqttClient;

class FakeMqttNetwork {
 public:
  explicit FakeMqttNetwork(EventLoop& loop) : loop_(loop) {}
  ~FakeMqttNetwork();
  FakeMqttNetwork(const FakeMqttNetwork&) = delete;
  FakeMqttNetwork& operator=(const FakeMqttNetwork&) = delete;

  // For SyncOptions::clientFactory. The network must outlive the Sync.
  MqttClientFactory factory();

  FakeNode& node(const std::string& url) { return nodes_[url]; }

  // The node goes down: the client connected to it loses its connection.
  void kill(const std::string& url, const std::string& cause = "connection reset by peer");
  // PUBACKs the oldest `count` unacknowledged publishes of the live client.
  void puback(size_t count = SIZE_MAX);
  // A message from the broker to the live client (a command, an ack).
  void deliver(const std::string& topic, std::string payload);

  // The connected client's URL, "" when none.
  std::string connectedUrl() const;
  size_t unacked() const { return unacked_.size(); }
  // Event publishes (topic ending in /evt), in order, resends included.
  std::vector<FakePublish> eventPublishes() const;

  std::vector<FakeConnect> connects;
  std::vector<FakePublish> publishes;
  std::vector<std::vector<std::string>> subscriptions;

 private:
  friend class FakeMqttClient;
  EventLoop& loop_;
  std::map<std::string, FakeNode> nodes_;
  FakeMqttClient* live_ = nullptr;  // connected (or connecting) client, not owned
  std::deque<uint64_t> unacked_;    // publish ids of live_ awaiting PUBACK
};

}  // namespace floorlink::sync::testing
