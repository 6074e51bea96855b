#include "tests/support/mqtt_test_client.h"

#include <mqtt/async_client.h>

#include <condition_variable>
#include <mutex>

namespace floorlink::testing {

struct MqttTestClient::Impl : mqtt::callback {
  std::unique_ptr<mqtt::async_client> client;
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::vector<ReceivedMessage> received;
  std::function<void(const ReceivedMessage&)> handler;

  void message_arrived(mqtt::const_message_ptr msg) override {
    ReceivedMessage m{msg->get_topic(), msg->to_string(), msg->is_retained()};
    std::function<void(const ReceivedMessage&)> h;
    {
      std::lock_guard lock(mutex);
      received.push_back(m);
      h = handler;
    }
    cv.notify_all();
    if (h) h(m);
  }
};

MqttTestClient::MqttTestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MqttTestClient::~MqttTestClient() {
  try {
    if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(std::chrono::seconds(2));
  } catch (...) {
  }
  impl_->client.reset();
}

Result<std::unique_ptr<MqttTestClient>> MqttTestClient::connect(const std::string& url,
                                                               const std::string& clientId) {
  MqttTestClientOptions o;
  o.url = url;
  o.clientId = clientId;
  return connect(o);
}

Result<std::unique_ptr<MqttTestClient>> MqttTestClient::connect(const MqttTestClientOptions& o) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->client = std::make_unique<mqtt::async_client>(
        o.url, o.clientId, mqtt::create_options(o.mqttVersion >= 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1),
        nullptr);
    impl->client->set_callback(*impl);
    mqtt::connect_options opts;
    if (o.mqttVersion >= 5) {
      opts.set_mqtt_version(MQTTVERSION_5);
      opts.set_clean_session(false);
      opts.set_clean_start(o.cleanSession);
      if (!o.cleanSession) {
        mqtt::properties props;
        props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, 3600));
        opts.set_properties(props);
      }
    } else {
      opts.set_mqtt_version(MQTTVERSION_3_1_1);
      opts.set_clean_session(o.cleanSession);
    }
    opts.set_keep_alive_interval(5);
    opts.set_connect_timeout(5);
    if (!o.username.empty()) opts.set_user_name(o.username);
    if (!o.password.empty()) opts.set_password(o.password);
    if (o.url.rfind("ssl://", 0) == 0) {
      mqtt::ssl_options ssl;
      if (!o.caFile.empty()) ssl.set_trust_store(o.caFile);
      if (!o.certFile.empty()) ssl.set_key_store(o.certFile);
      if (!o.keyFile.empty()) ssl.set_private_key(o.keyFile);
      opts.set_ssl(ssl);
    }
    impl->client->connect(opts)->wait_for(std::chrono::seconds(10));
    if (!impl->client->is_connected()) return fail(ErrorCode::kDisconnected, "test client could not connect to " + o.url);
  } catch (const mqtt::exception& e) {
    return fail(ErrorCode::kDisconnected, std::string("test client: ") + e.what());
  }
  return std::unique_ptr<MqttTestClient>(new MqttTestClient(std::move(impl)));
}

Status MqttTestClient::subscribe(const std::string& filter, int qos) {
  try {
    impl_->client->subscribe(filter, qos)->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception& e) {
    return fail(ErrorCode::kDisconnected, std::string("subscribe: ") + e.what());
  }
  return ok();
}

Status MqttTestClient::publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  try {
    impl_->client->publish(mqtt::make_message(topic, payload, qos, retained))->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception& e) {
    return fail(ErrorCode::kDisconnected, std::string("publish: ") + e.what());
  }
  return ok();
}

bool MqttTestClient::connected() const { return impl_->client->is_connected(); }

std::vector<ReceivedMessage> MqttTestClient::messages() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::vector<ReceivedMessage> MqttTestClient::messagesOn(const std::string& topic) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<ReceivedMessage> out;
  for (const auto& m : impl_->received) {
    if (m.topic == topic) out.push_back(m);
  }
  return out;
}

void MqttTestClient::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->received.clear();
}

bool MqttTestClient::waitFor(const std::function<bool(const std::vector<ReceivedMessage>&)>& pred,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->received); });
}

void MqttTestClient::onMessage(std::function<void(const ReceivedMessage&)> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

}  // namespace floorlink::testing
