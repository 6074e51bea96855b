#include "sync/testing/fake_mqtt_client.h"

#include "core/loop_bound.h"

namespace floorlink::sync::testing {

class FakeMqttClient final : public MqttClient {
 public:
  FakeMqttClient(FakeMqttNetwork& net, std::string url, int version, MqttHandlers handlers)
      : net_(net), url_(std::move(url)), version_(version), handlers_(std::move(handlers)), bound_(net.loop_) {}

  ~FakeMqttClient() override {
    if (net_.live_ == this) {
      net_.live_ = nullptr;
      net_.unacked_.clear();
    }
  }

  Status connect(const MqttConnectParams& params) override {
    bound_.assertLoopThread();
    FakeNode& node = net_.nodes_[url_];
    net_.connects.push_back({url_, params, false});
    MqttConnectResult r;
    if (!node.up) {
      r.returnCode = -1;
      r.closedBeforeConnack = true;
      r.error = "connection failed (broker unreachable or refused the link)";
    } else if (version_ >= 5 && node.closesOnV5) {
      r.returnCode = -1;
      r.closedBeforeConnack = true;
      r.error = "connection failed (broker unreachable or refused the link)";
    } else if (version_ >= 5 && !node.speaksV5) {
      r.returnCode = 1;
      r.versionRefused = true;
      r.error = "broker refused the protocol version";
    } else {
      r.ok = true;
      r.mqttVersion = version_;
      if (version_ >= 5) {
        r.receiveMaximum = node.receiveMaximum;
        r.maximumPacketSize = node.maximumPacketSize;
      }
      net_.connects.back().accepted = true;
      if (net_.live_ && net_.live_ != this) net_.live_->connected_ = false;
      net_.live_ = this;
      net_.unacked_.clear();
      connected_ = true;
    }
    bound_.post([this, r] {
      if (handlers_.connected) handlers_.connected(r);
    });
    return ok();
  }

  Result<uint64_t> publish(const std::string& topic, std::string payload, int qos, bool retained) override {
    bound_.assertLoopThread();
    if (!connected_) return fail(ErrorCode::kDisconnected, "MQTT publish failed: not connected");
    uint64_t id = nextId_++;
    net_.publishes.push_back({url_, topic, std::move(payload), qos, retained, id});
    const FakeNode& node = net_.nodes_[url_];
    if (node.autoPuback) {
      bound_.post([this, id] {
        if (handlers_.published) handlers_.published(id, true, "");
      });
    } else {
      net_.unacked_.push_back(id);
    }
    return id;
  }

  Status subscribe(const std::vector<std::string>& topics, int) override {
    bound_.assertLoopThread();
    if (!connected_) return fail(ErrorCode::kDisconnected, "MQTT subscribe failed: not connected");
    net_.subscriptions.push_back(topics);
    bound_.post([this] {
      if (handlers_.subscribed) handlers_.subscribed(true, "");
    });
    return ok();
  }

  Status publishAndWait(const std::string& topic, const std::string& payload, int qos, bool retained,
                        std::chrono::milliseconds) override {
    bound_.assertLoopThread();
    if (!connected_) return fail(ErrorCode::kDisconnected, "MQTT publish failed: not connected");
    net_.publishes.push_back({url_, topic, payload, qos, retained, 0});
    return ok();
  }

  Status disconnect(std::chrono::milliseconds) override {
    bound_.assertLoopThread();
    connected_ = false;
    return ok();
  }

  bool isConnected() const override { return connected_; }

  void lose(const std::string& cause) {
    connected_ = false;
    bound_.post([this, cause] {
      if (handlers_.connectionLost) handlers_.connectionLost(cause);
    });
  }

  void acked(uint64_t id) {
    bound_.post([this, id] {
      if (handlers_.published) handlers_.published(id, true, "");
    });
  }

  void message(const std::string& topic, std::string payload) {
    bound_.post([this, topic, payload = std::move(payload)]() mutable {
      if (handlers_.message) handlers_.message(topic, std::move(payload));
    });
  }

  const std::string& url() const { return url_; }

 private:
  FakeMqttNetwork& net_;
  std::string url_;
  int version_;
  MqttHandlers handlers_;
  bool connected_ = false;
  uint64_t nextId_ = 1;
  LoopBound bound_;  // last: nothing posted for this client runs after it is gone
};

FakeMqttNetwork::~FakeMqttNetwork() = default;

MqttClientFactory FakeMqttNetwork::factory() {
  return [this](EventLoop&, const std::string& url, const std::string&, int version,
                MqttHandlers handlers) -> Result<std::unique_ptr<MqttClient>> {
    return std::unique_ptr<MqttClient>(std::make_unique<FakeMqttClient>(*this, url, version, std::move(handlers)));
  };
}

void FakeMqttNetwork::kill(const std::string& url, const std::string& cause) {
  loop_.assertLoopThread();
  nodes_[url].up = false;
  if (live_ && live_->url() == url) {
    FakeMqttClient* client = live_;
    live_ = nullptr;
    unacked_.clear();
    client->lose(cause);
  }
}

void FakeMqttNetwork::puback(size_t count) {
  loop_.assertLoopThread();
  while (live_ && count-- > 0 && !unacked_.empty()) {
    live_->acked(unacked_.front());
    unacked_.pop_front();
  }
}

void FakeMqttNetwork::deliver(const std::string& topic, std::string payload) {
  loop_.assertLoopThread();
  if (live_) live_->message(topic, std::move(payload));
}

std::string FakeMqttNetwork::connectedUrl() const { return live_ && live_->isConnected() ? live_->url() : ""; }

std::vector<FakePublish> FakeMqttNetwork::eventPublishes() const {
  std::vector<FakePublish> out;
  for (const auto& p : publishes) {
    if (p.topic.ends_with("/evt") && p.id != 0) out.push_back(p);
  }
  return out;
}

}  // namespace floorlink::sync::testing
