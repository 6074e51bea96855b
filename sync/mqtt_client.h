#pragma once
// A small MQTT client interface over Paho MQTT C++ (async). Paho types stay in
// paho_mqtt_client.cpp; Paho exceptions stop there and come back as Errors.
//
// Threading: methods are called on the event-loop thread. Paho calls back on
// its own threads; the adaptor only post()s to the loop, so every handler
// below runs on the loop thread. publish() never blocks: the adaptor's own
// sender thread hands messages to Paho (whose locks can be held for ms). One client object serves one connection
// attempt: after a failed connect or a lost connection the owner destroys it
// and makes a new one, so no stale Paho state (queued publishes, tokens)
// survives into the next connection.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/event_loop.h"

namespace floorlink::sync {

struct MqttConnectParams {
  std::string url;  // tcp://host:port or ssl://host:port
  std::string clientId;
  std::string username;
  std::string password;  // secret
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  std::string keyPassword;  // secret
  bool verifyServer = true;
  int mqttVersion = 5;  // 4 (3.1.1) or 5
  std::chrono::seconds keepalive{30};
  std::chrono::seconds connectTimeout{10};
  int maxInflight = 64;
  bool cleanSession = false;        // keep the broker session so queued commands survive
  uint32_t sessionExpiryS = 7 * 24 * 3600;  // MQTT 5 only
  std::string willTopic;
  std::string willPayload;
  bool willRetained = true;
  int willQos = 1;
};

struct MqttConnectResult {
  bool ok = false;
  int mqttVersion = 0;       // of the connection made
  bool sessionPresent = false;
  int returnCode = 0;        // Paho or CONNACK reason code on failure
  bool versionRefused = false;  // the broker does not speak the requested version
  // The TCP (and TLS) link was made but the broker closed it without a
  // CONNACK: what a broker that speaks only MQTT 3.1.1 (RabbitMQ 3.10) does
  // to an MQTT 5 CONNECT.
  bool closedBeforeConnack = false;
  // MQTT 5 CONNACK properties; 0 when the broker announced none (no limit).
  uint32_t receiveMaximum = 0;     // publishes the broker takes unacknowledged at once
  uint32_t maximumPacketSize = 0;  // bytes, whole packet
  std::string error;
};

struct MqttHandlers {
  std::function<void(const MqttConnectResult&)> connected;
  std::function<void(const std::string& cause)> connectionLost;
  std::function<void(const std::string& topic, std::string payload)> message;
  // One call per publish() that returned an id: ok once the broker PUBACKed (QoS 1).
  std::function<void(uint64_t id, bool ok, const std::string& error)> published;
  std::function<void(bool ok, const std::string& error)> subscribed;
  // Detail about a failure in progress (OpenSSL's words); the failure itself
  // still arrives through connected or connectionLost.
  std::function<void(const std::string& detail)> error;
};

class MqttClient {
 public:
  virtual ~MqttClient() = default;

  // Starts connecting; the outcome arrives through handlers.connected.
  virtual Status connect(const MqttConnectParams& params) = 0;
  // Queues a publish (fails at once when not connected); the PUBACK, or a
  // failure to send, arrives through handlers.published(id).
  // The payload is taken (moved into the message, no copy per publish).
  virtual Result<uint64_t> publish(const std::string& topic, std::string payload, int qos, bool retained) = 0;
  virtual Status subscribe(const std::vector<std::string>& topics, int qos) = 0;
  // Blocking, bounded: publishes and waits for the broker's PUBACK (shutdown only).
  virtual Status publishAndWait(const std::string& topic, const std::string& payload, int qos,
                                bool retained, std::chrono::milliseconds timeout) = 0;
  // Blocking, bounded: sends DISCONNECT (the will is not published).
  virtual Status disconnect(std::chrono::milliseconds timeout) = 0;
  virtual bool isConnected() const = 0;
};

// Makes the client of one connection attempt (Sync makes a new one per
// attempt). SyncOptions::clientFactory picks it; empty means Paho.
using MqttClientFactory = std::function<Result<std::unique_ptr<MqttClient>>(
    EventLoop& loop, const std::string& url, const std::string& clientId, int mqttVersion,
    MqttHandlers handlers)>;

// Creates a Paho-backed client with no Paho persistence (the outbox owns
// delivery state) and no Paho automatic reconnect (Sync owns the backoff).
Result<std::unique_ptr<MqttClient>> createPahoMqttClient(EventLoop& loop, const std::string& url,
                                                         const std::string& clientId, int mqttVersion,
                                                         MqttHandlers handlers);

}  // namespace floorlink::sync
