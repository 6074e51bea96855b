// Paho MQTT C++ 1.2 adaptor. Everything Paho stays in this file.
#include <mqtt/async_client.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "core/loop_bound.h"
#include "sync/mqtt_client.h"

namespace floorlink::sync {
namespace {

std::string describeFailure(int rc, int reason) {
  std::string text;
  // With MQTT 5 Paho reports the broker's reason code either as the reason
  // or as the return code itself.
  if ((reason < 0x80 || reason == 255) && rc >= 0x80 && rc < 0xff) reason = rc;
  // CONNACK return codes of MQTT 3.1.1 arrive as the Paho return code.
  switch (rc) {
    case 1: text = "broker refused the protocol version"; break;
    case 2: text = "broker rejected the client id"; break;
    case 3: text = "broker unavailable"; break;
    case 4: text = "bad user name or password: check mqtt.username and mqtt.password"; break;
    case 5: text = "not authorised: check mqtt.username, mqtt.password and the broker ACL"; break;
    case MQTTASYNC_FAILURE: text = "connection failed (broker unreachable or refused the link)"; break;
    default: text = rc >= 0x80 ? std::string() : mqtt::exception::error_str(rc); break;
  }
  switch (reason) {
    case 0x84: text = "broker refused the protocol version"; break;
    case 0x85: text = "broker rejected the client id"; break;
    case 0x86: text = "bad user name or password: check mqtt.username and mqtt.password"; break;
    case 0x87: text = "not authorised: check mqtt.username, mqtt.password and the broker ACL"; break;
    case 0x88: text = "broker unavailable"; break;
    default: break;
  }
  if (reason >= 0x80 && reason != 255) {  // 255: Paho's "no v5 reason"
    text += " (MQTT 5 reason " + std::to_string(reason) + ": " +
            mqtt::exception::reason_code_str(reason) + ")";
  }
  if (text.empty()) text = "error " + std::to_string(rc);
  return text;
}

// Paho C leaves Nagle's algorithm on and has no socket hook. With small QoS 1
// publishes and PUBACKs in flight both ways, Nagle plus delayed ACKs stalls
// each round trip by tens of milliseconds. So after connecting, find the TCP
// sockets of this process whose peer is the broker's port and set
// TCP_NODELAY (another socket to the same port gets it too, harmlessly).
void setNoDelayTowardPort(const std::string& url) {
  auto colon = url.rfind(':');
  if (colon == std::string::npos) return;
  int port = std::atoi(url.c_str() + colon + 1);
  if (port <= 0) return;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* e = ::readdir(dir)) {
    int fd = std::atoi(e->d_name);
    if (fd <= 2) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    int peerPort = 0;
    if (peer.ss_family == AF_INET) peerPort = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
    else if (peer.ss_family == AF_INET6) peerPort = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
    else continue;
    if (peerPort != port) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::closedir(dir);
}

class PahoMqttClient final : public MqttClient {
 public:
  PahoMqttClient(EventLoop& loop, MqttHandlers handlers)
      : handlers_(std::make_shared<MqttHandlers>(std::move(handlers))),
        callback_(*this),
        connectListener_(*this),
        publishListener_(*this),
        subscribeListener_(*this),
        bound_(loop),
        poster_(bound_.poster()) {}

  ~PahoMqttClient() override {
    stopSender();
    if (client_) {
      try {
        client_->disable_callbacks();
      } catch (...) {
      }
      client_.reset();  // MQTTAsync_destroy; listeners below outlive it
    }
  }

  Status init(const std::string& url, const std::string& clientId, int version) {
    url_ = url;
    try {
      mqtt::create_options opts(version >= 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
      // nullptr persistence: MQTTCLIENT_PERSISTENCE_NONE. The outbox owns delivery.
      client_ = std::make_unique<mqtt::async_client>(url, clientId, opts, nullptr);
      client_->set_callback(callback_);
      sender_ = std::thread([this] { sendQueued(); });
    } catch (const mqtt::exception& e) {
      return fail(ErrorCode::kInvalidArgument, "cannot create MQTT client for " + url + ": " + e.what());
    } catch (const std::exception& e) {
      return fail(ErrorCode::kInternal, std::string("cannot create MQTT client: ") + e.what());
    }
    return ok();
  }

  Status connect(const MqttConnectParams& p) override {
    try {
      mqtt::connect_options opts;
      // Fields set one by one on the options object (not through the 1.2
      // builder, which can drop some when it copies), then checked below.
      if (p.mqttVersion >= 5) {
        opts.set_mqtt_version(MQTTVERSION_5);
        opts.set_clean_session(false);  // Paho rejects cleansession with v5
        opts.set_clean_start(p.cleanSession);
        mqtt::properties props;
        props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                 static_cast<int32_t>(p.cleanSession ? 0 : p.sessionExpiryS)));
        opts.set_properties(props);
      } else {
        opts.set_mqtt_version(MQTTVERSION_3_1_1);
        opts.set_clean_session(p.cleanSession);
      }
      opts.set_keep_alive_interval(static_cast<int>(p.keepalive.count()));
      opts.set_connect_timeout(static_cast<int>(p.connectTimeout.count()));
      opts.set_automatic_reconnect(false);
      opts.set_max_inflight(p.maxInflight);
      if (!p.username.empty()) opts.set_user_name(p.username);
      if (!p.password.empty()) opts.set_password(p.password);
      if (!p.willTopic.empty()) {
        mqtt::will_options will(p.willTopic, p.willPayload, p.willQos, p.willRetained);
        opts.set_will(will);
      }
      if (p.url.rfind("ssl://", 0) == 0 || p.url.rfind("mqtts://", 0) == 0) {
        mqtt::ssl_options ssl;
        if (!p.caFile.empty()) ssl.set_trust_store(p.caFile);
        if (!p.certFile.empty()) ssl.set_key_store(p.certFile);
        if (!p.keyFile.empty()) ssl.set_private_key(p.keyFile);
        if (!p.keyPassword.empty()) ssl.set_private_key_password(p.keyPassword);
        ssl.set_enable_server_cert_auth(p.verifyServer);
        ssl.set_verify(p.verifyServer);
        // No ssl error handler: Paho 1.2 keeps a pointer to the handler of the
        // options object we pass, which dies when connect() returns.
        opts.set_ssl(ssl);
      }
      if (auto s = verify(opts, p); !s) return s;
      client_->connect(opts, nullptr, connectListener_);
    } catch (const mqtt::exception& e) {
      return fail(ErrorCode::kInvalidArgument, std::string("MQTT connect failed to start: ") + e.what());
    } catch (const std::exception& e) {
      return fail(ErrorCode::kInternal, std::string("MQTT connect failed to start: ") + e.what());
    }
    return ok();
  }

  // Never blocks: Paho's publish takes the library's own mutex, which its
  // send and receive threads hold for milliseconds under load, and the loop
  // thread must not wait for it (an operator's scan would queue behind).
  // The sender thread hands messages to Paho in order.
  Result<uint64_t> publish(const std::string& topic, std::string payload, int qos, bool retained) override {
    if (!connected_.load()) return fail(ErrorCode::kDisconnected, "MQTT publish failed: not connected");
    uint64_t id = nextPublishId_++;
    // One shared copy of the topic (every event goes to …/evt), the payload moved in.
    if (!topicRef_ || topicRef_.str() != topic) topicRef_ = mqtt::string_ref(topic);
    auto message = mqtt::make_message(topicRef_, mqtt::binary_ref(std::move(payload)), qos, retained);
    bool first;
    {
      std::lock_guard lock(sendMutex_);
      first = sendQueue_.empty();
      sendQueue_.push_back(Outgoing{id, std::move(message)});
    }
    // Only a publish into an empty queue wakes the sender: while it hands a
    // batch to Paho, the next ones queue up and it takes them without a
    // wake-up (a notify with no waiter costs no system call).
    if (first) sendCv_.notify_one();
    return id;
  }

  Status subscribe(const std::vector<std::string>& topics, int qos) override {
    try {
      for (const auto& t : topics) client_->subscribe(t, qos, nullptr, subscribeListener_);
    } catch (const mqtt::exception& e) {
      return fail(ErrorCode::kDisconnected, std::string("MQTT subscribe failed: ") + e.what());
    }
    return ok();
  }

  Status publishAndWait(const std::string& topic, const std::string& payload, int qos, bool retained,
                        std::chrono::milliseconds timeout) override {
    try {
      auto tok = client_->publish(mqtt::make_message(topic, payload, qos, retained));
      if (!tok->wait_for(timeout)) return fail(ErrorCode::kTimeout, "no PUBACK in time");
    } catch (const mqtt::exception& e) {
      return fail(ErrorCode::kDisconnected, std::string("MQTT publish failed: ") + e.what());
    }
    return ok();
  }

  Status disconnect(std::chrono::milliseconds timeout) override {
    try {
      if (!client_->is_connected()) return ok();
      auto tok = client_->disconnect(static_cast<int>(timeout.count()));
      if (!tok->wait_for(timeout + std::chrono::milliseconds(500))) {
        return fail(ErrorCode::kTimeout, "MQTT disconnect did not finish in time");
      }
    } catch (const mqtt::exception& e) {
      return fail(ErrorCode::kDisconnected, std::string("MQTT disconnect failed: ") + e.what());
    }
    return ok();
  }

  bool isConnected() const override { return client_ && client_->is_connected(); }

 private:
  struct Outgoing {
    uint64_t id;
    mqtt::message_ptr message;
  };

  // The sender thread: hands queued publishes to Paho, in order. A publish
  // Paho refuses (the link went) is reported through handlers.published.
  void sendQueued() {
    std::unique_lock lock(sendMutex_);
    for (;;) {
      sendCv_.wait(lock, [this] { return sendStop_ || !sendQueue_.empty(); });
      if (sendStop_) return;
      std::deque<Outgoing> batch;
      batch.swap(sendQueue_);
      lock.unlock();
      for (auto& out : batch) {
        std::string err;
        try {
          client_->publish(out.message, reinterpret_cast<void*>(static_cast<uintptr_t>(out.id)), publishListener_);
        } catch (const std::exception& e) {
          err = std::string("MQTT publish failed: ") + e.what();
          connected_ = false;  // later publishes fail at once; connectionLost follows
        }
        if (!err.empty()) {
          post([id = out.id, err](MqttHandlers& h) {
            if (h.published) h.published(id, false, err);
          });
        }
      }
      lock.lock();
    }
  }

  void stopSender() {
    {
      std::lock_guard lock(sendMutex_);
      sendStop_ = true;
    }
    sendCv_.notify_one();
    if (sender_.joinable()) sender_.join();
  }

  // Confirms the options hold what we set: Paho 1.2 copies them around.
  static Status verify(const mqtt::connect_options& opts, const MqttConnectParams& p) {
    mqtt::connect_options copy(opts);  // connect() takes its options by value
    if (copy.get_keep_alive_interval() != p.keepalive) {
      return fail(ErrorCode::kInternal, "MQTT keepalive did not stick in the connect options");
    }
    if (!p.willTopic.empty()) {
      auto msg = copy.get_will_message();
      if (copy.get_will_topic() != p.willTopic || !msg || msg->to_string() != p.willPayload ||
          msg->get_qos() != p.willQos || msg->is_retained() != p.willRetained) {
        return fail(ErrorCode::kInternal, "MQTT will did not stick in the connect options");
      }
    }
    if (copy.get_mqtt_version() != (p.mqttVersion >= 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1)) {
      return fail(ErrorCode::kInternal, "MQTT version did not stick in the connect options");
    }
    return ok();
  }

  void post(std::function<void(MqttHandlers&)> work) {
    poster_.post([handlers = handlers_, work = std::move(work)] { work(*handlers); });
  }

  struct Callback final : mqtt::callback {
    explicit Callback(PahoMqttClient& c) : owner(c) {}
    void connection_lost(const std::string& cause) override {
      owner.connected_ = false;
      std::string text = cause.empty() ? "connection lost" : cause;
      owner.post([text](MqttHandlers& h) {
        if (h.connectionLost) h.connectionLost(text);
      });
    }
    void message_arrived(mqtt::const_message_ptr msg) override {
      if (!msg) return;
      owner.post([topic = msg->get_topic(), payload = msg->to_string()](MqttHandlers& h) mutable {
        if (h.message) h.message(topic, std::move(payload));
      });
    }
    PahoMqttClient& owner;
  };

  struct ConnectListener final : mqtt::iaction_listener {
    explicit ConnectListener(PahoMqttClient& c) : owner(c) {}
    void on_success(const mqtt::token& tok) override {
      setNoDelayTowardPort(owner.url_);
      owner.connected_ = true;
      MqttConnectResult r;
      r.ok = true;
      try {
        auto rsp = tok.get_connect_response();
        r.mqttVersion = rsp.get_mqtt_version();
        r.sessionPresent = rsp.is_session_present();
        const auto& props = rsp.get_properties();
        if (props.contains(mqtt::property::RECEIVE_MAXIMUM)) {
          r.receiveMaximum = mqtt::get<uint16_t>(props, mqtt::property::RECEIVE_MAXIMUM);
        }
        if (props.contains(mqtt::property::MAXIMUM_PACKET_SIZE)) {
          r.maximumPacketSize = mqtt::get<uint32_t>(props, mqtt::property::MAXIMUM_PACKET_SIZE);
        }
      } catch (...) {
      }
      owner.post([r](MqttHandlers& h) {
        if (h.connected) h.connected(r);
      });
    }
    void on_failure(const mqtt::token& tok) override {
      MqttConnectResult r;
      r.returnCode = tok.get_return_code();
      int reason = static_cast<int>(tok.get_reason_code());
      r.versionRefused = r.returnCode == 1 || reason == 0x84;
      // No CONNACK reason: the link failed or was closed before one came.
      r.closedBeforeConnack = (r.returnCode == MQTTASYNC_FAILURE || r.returnCode == MQTTASYNC_DISCONNECTED) &&
                              (reason < 0x80 || reason == 255);
      r.error = describeFailure(r.returnCode, reason);
      owner.post([r](MqttHandlers& h) {
        if (h.connected) h.connected(r);
      });
    }
    PahoMqttClient& owner;
  };

  struct PublishListener final : mqtt::iaction_listener {
    explicit PublishListener(PahoMqttClient& c) : owner(c) {}
    void on_success(const mqtt::token& tok) override {
      owner.pubacked(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(tok.get_user_context())));
    }
    void on_failure(const mqtt::token& tok) override {
      auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(tok.get_user_context()));
      std::string err = describeFailure(tok.get_return_code(), static_cast<int>(tok.get_reason_code()));
      owner.post([id, err](MqttHandlers& h) {
        if (h.published) h.published(id, false, err);
      });
    }
    PahoMqttClient& owner;
  };

  // PUBACKs reach the loop in batches: the first of a batch posts, the ones
  // that arrive before the loop runs it join it. One loop wake-up, one
  // allocation and one pump for many PUBACKs instead of each.
  void pubacked(uint64_t id) {
    bool first;
    {
      std::lock_guard lock(pubackMutex_);
      first = pubacks_.empty();
      pubacks_.push_back(id);
    }
    if (!first) return;
    post([this](MqttHandlers& h) {
      std::vector<uint64_t> batch;
      {
        std::lock_guard lock(pubackMutex_);
        batch.swap(pubacks_);
      }
      static const std::string kNoError;
      // `this` may be gone once a handler ran (the owner may retire us): only locals from here.
      for (uint64_t done : batch) {
        if (h.published) h.published(done, true, kNoError);
      }
    });
  }

  struct SubscribeListener final : mqtt::iaction_listener {
    explicit SubscribeListener(PahoMqttClient& c) : owner(c) {}
    void on_success(const mqtt::token& tok) override {
      bool granted = true;
      std::string err;
      try {
        // MQTT 5 reports refusals as reason codes on a "successful" SUBACK.
        auto rsp = tok.get_subscribe_response();  // keep alive across the loop
        for (auto rc : rsp.get_reason_codes()) {
          if (static_cast<int>(rc) >= 0x80) {
            granted = false;
            err = "subscription refused: " + mqtt::exception::reason_code_str(static_cast<int>(rc));
          }
        }
      } catch (...) {
      }
      owner.post([granted, err](MqttHandlers& h) {
        if (h.subscribed) h.subscribed(granted, err);
      });
    }
    void on_failure(const mqtt::token& tok) override {
      std::string err = "subscription refused: " +
                        describeFailure(tok.get_return_code(), static_cast<int>(tok.get_reason_code()));
      owner.post([err](MqttHandlers& h) {
        if (h.subscribed) h.subscribed(false, err);
      });
    }
    PahoMqttClient& owner;
  };

  std::shared_ptr<MqttHandlers> handlers_;
  std::string url_;
  uint64_t nextPublishId_ = 1;
  // Declared before client_ so they are destroyed after it.
  Callback callback_;
  ConnectListener connectListener_;
  PublishListener publishListener_;
  SubscribeListener subscribeListener_;
  std::unique_ptr<mqtt::async_client> client_;
  std::atomic<bool> connected_{false};
  mqtt::string_ref topicRef_;  // loop thread only: topic of the last publish
  std::mutex pubackMutex_;
  std::vector<uint64_t> pubacks_;  // PUBACKed publish ids not yet handed to the loop
  // Publishes on their way to Paho (sender_ thread; stopped before client_ goes).
  std::mutex sendMutex_;
  std::condition_variable sendCv_;
  std::deque<Outgoing> sendQueue_;
  bool sendStop_ = false;
  std::thread sender_;
  // Last: destroyed first, so nothing a Paho thread posted runs once the
  // client is gone (the owner retires a client from inside its handlers).
  LoopBound bound_;
  LoopPoster poster_;  // for Paho's threads; taken on the loop thread
};

}  // namespace

Result<std::unique_ptr<MqttClient>> createPahoMqttClient(EventLoop& loop, const std::string& url,
                                                         const std::string& clientId, int mqttVersion,
                                                         MqttHandlers handlers) {
  auto client = std::make_unique<PahoMqttClient>(loop, std::move(handlers));
  if (auto s = client->init(url, clientId, mqttVersion); !s) return std::unexpected(s.error());
  return std::unique_ptr<MqttClient>(std::move(client));
}

}  // namespace floorlink::sync
