#pragma once
// A whole warehouse floor on loopback for end-to-end tests: a real mosquitto
// broker, the floorlink agent binary, simulated scanner and MT-SICS scale
// (floorlink-device-sim), the fake ZPL printer, and an MQTT client playing
// the OMS (it records events and acknowledges them).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/mosquitto_broker.h"
#include "tests/support/mqtt_test_client.h"
#include "tests/tools/process.h"

namespace floorlink::e2e {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

inline const std::string kBin = FLOORLINK_BINARY_DIR;
inline const std::string kSrc = FLOORLINK_SOURCE_DIR;

inline uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Line-oriented client of floorlink-device-sim's control port.
class SimControl {
 public:
  void connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~SimControl() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string command(const std::string& line) {
    std::string l = line + "\n";
    EXPECT_EQ(::send(fd_, l.data(), l.size(), MSG_NOSIGNAL), static_cast<ssize_t>(l.size()));
    std::string out;
    char c;
    while (::recv(fd_, &c, 1, 0) == 1 && c != '\n') out += c;
    return out;
  }

 private:
  int fd_ = -1;
};

class Floor : public ::testing::Test {
 protected:
  const std::string site_ = "dc1", agentId_ = "pc7";
  std::string prefix() const { return "wh/v1/" + site_ + "/" + agentId_ + "/"; }

  void SetUp() override {
    char tmpl[] = "/tmp/floorlink-e2e-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto broker = testing::MosquittoBroker::start();
    ASSERT_TRUE(broker.has_value()) << broker.error().message;
    broker_ = std::move(*broker);

    sim_ = std::make_unique<testing::Process>(std::vector<std::string>{
        kBin + "/tools/device_sim/floorlink-device-sim", "--ports-file", (dir_ / "ports").string()});
    ASSERT_TRUE(sim_->waitForOutput("control=", 10s));
    std::ifstream pf(dir_ / "ports");
    std::string item;
    while (pf >> item) {
      auto eq = item.find('=');
      simPorts_[item.substr(0, eq)] = static_cast<uint16_t>(std::stoi(item.substr(eq + 1)));
    }
    control_.connect(simPorts_["control"]);

    printerPort_ = freePort();
    printer_ = std::make_unique<testing::Process>(std::vector<std::string>{
        kBin + "/tools/fake_zpl_printer/floorlink-fake-printer", "--port", std::to_string(printerPort_),
        "--journal-dir", (dir_ / "labels").string()});
    ASSERT_TRUE(printer_->waitForOutput("fake ZPL printer on", 10s)) << printer_->soFar().err;

    writeConfig();
    oms_ = connectOms();
    startAgent();
  }

  void TearDown() override {
    if (agent_) {
      agent_->signal(SIGTERM);
      agent_->wait(20s);
    }
    oms_.reset();
    printer_.reset();
    sim_.reset();
    broker_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void writeConfig() {
    std::ofstream(dir_ / "floorlink.toml")
        << "[agent]\nsite = \"" << site_ << "\"\nid = \"" << agentId_ << "\"\ndata_dir = \"" << (dir_ / "data").string()
        << "\"\n[mqtt]\nurl = \"tcp://127.0.0.1:" << broker_->port() << "\"\nkeepalive_s = 2\nbackoff_min_ms = 100\n"
        << "backoff_max_ms = 1000\nack_timeout_s = 5\n"
        << "[control]\nsocket = \"" << (dir_ / "ctl.sock").string() << "\"\n"
        << "[labels]\ntemplates_dir = \"" << kSrc << "/printers/templates\"\ngs1_company_prefix = \"0950600\"\n"
        << "[log]\ntarget = \"stderr\"\nlevel = \"info\"\n"
        << "[[devices]]\nid = \"scanner1\"\nkind = \"scanner\"\naddress = \"tcp://127.0.0.1:" << simPorts_["scanner"]
        << "\"\n[devices.options]\nsuffix = \"cr\"\n"
        << "[[devices]]\nid = \"scale1\"\nkind = \"scale\"\nprotocol = \"mt-sics\"\naddress = \"tcp://127.0.0.1:"
        << simPorts_["scale"] << "\"\n[devices.options]\nstable_readings = 3\npoll_interval_ms = 50\ntimeout_ms = 3000\n"
        << "[[devices]]\nid = \"printer1\"\nkind = \"printer\"\naddress = \"tcp://127.0.0.1:" << printerPort_ << "\"\n"
        << "[[stations]]\nid = \"pick1\"\nkind = \"pick\"\nscanner = \"scanner1\"\n"
        << "[[stations]]\nid = \"pack1\"\nkind = \"pack\"\nscale = \"scale1\"\nprinter = \"printer1\"\n"
        << "[[stations]]\nid = \"ship1\"\nkind = \"ship\"\n" << extraConfig_;
  }

  void startAgent() {
    agent_ = std::make_unique<testing::Process>(
        std::vector<std::string>{kBin + "/tools/floorlink/floorlink", "--config", (dir_ / "floorlink.toml").string()});
    ASSERT_TRUE(agent_->waitForOutput("running as", 30s)) << agent_->soFar().err;
    ASSERT_TRUE(waitUntil([&] { return stateOnline(); }, 20s)) << agent_->soFar().err;
  }

  void killAgent() {
    agent_->signal(SIGKILL);
    agent_->wait(10s);
    agent_.reset();
  }

  std::unique_ptr<testing::MqttTestClient> connectOms() {
    auto c = testing::MqttTestClient::connect("tcp://127.0.0.1:" + std::to_string(broker_->port()), "oms-e2e");
    EXPECT_TRUE(c.has_value()) << c.error().message;
    auto client = std::move(*c);
    EXPECT_TRUE(client->subscribe(prefix() + "evt"));
    EXPECT_TRUE(client->subscribe(prefix() + "state"));
    client->onMessage([this](const testing::ReceivedMessage& m) {
      if (m.topic != prefix() + "evt") return;
      auto e = json::parse(m.payload, nullptr, false);
      if (e.is_discarded()) return;
      std::lock_guard lock(mutex_);
      int64_t seq = e.value("seq", int64_t{0});
      auto [it, inserted] = events_.emplace(seq, m.payload);
      if (!inserted && it->second != m.payload) resentDiffers_ = true;  // C-E3
      if (autoAck_) {
        while (events_.count(ackedThrough_ + 1)) ++ackedThrough_;
        pendingAck_ = ackedThrough_;
      }
    });
    return client;
  }

  // Acks are published from the test thread (Paho callbacks must not block).
  void pumpAcks() {
    int64_t ack = 0;
    {
      std::lock_guard lock(mutex_);
      ack = pendingAck_;
      pendingAck_ = 0;
    }
    if (ack > 0 && oms_) (void)oms_->publish(prefix() + "ack", json{{"v", 1}, {"acked_through", ack}}.dump());
  }

  template <class Pred>
  bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      pumpAcks();
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  bool stateOnline() {
    for (const auto& m : oms_->messagesOn(prefix() + "state")) {
      auto j = json::parse(m.payload, nullptr, false);
      if (!j.is_discarded() && j.value("online", false)) return true;
    }
    return false;
  }

  void send(const json& cmd) { ASSERT_TRUE(oms_->publish(prefix() + "cmd", cmd.dump())); }

  std::vector<json> events() {
    std::lock_guard lock(mutex_);
    std::vector<json> out;
    for (auto& [seq, p] : events_) out.push_back(json::parse(p));
    return out;
  }
  std::vector<json> eventsOfType(const std::string& type) {
    std::vector<json> out;
    for (auto& e : events()) {
      if (e["type"] == type) out.push_back(e);
    }
    return out;
  }
  // Waits until an event of `type` (optionally for `taskId`) arrived.
  json waitEvent(const std::string& type, const std::string& taskId = "", std::chrono::milliseconds t = 20s) {
    json found;
    waitUntil([&] {
      for (auto& e : eventsOfType(type)) {
        if (taskId.empty() || e.value("task_id", "") == taskId) {
          found = e;
          return true;
        }
      }
      return false;
    }, t);
    EXPECT_FALSE(found.is_null()) << "no " << type << " event" << (taskId.empty() ? "" : " for " + taskId)
                                  << "; agent log:\n" << agent_->soFar().err;
    return found;
  }
  // C-E1: seq 1..N with no gap, each event once (by event_id) and byte-stable (C-E3).
  void expectContiguousEvents() {
    std::lock_guard lock(mutex_);
    int64_t expect = 1;
    for (auto& [seq, p] : events_) {
      EXPECT_EQ(seq, expect) << "gap or reuse in seq";
      auto e = json::parse(p);
      EXPECT_EQ(e["event_id"], site_ + "/" + agentId_ + "/" + std::to_string(seq));
      ++expect;
    }
    EXPECT_FALSE(resentDiffers_) << "a resent event had different bytes (C-E3)";
  }

  testing::ProcessResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{kBin + "/tools/floorlinkctl/floorlinkctl", "--socket", (dir_ / "ctl.sock").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv);
  }
  json scan(const std::string& station, const std::string& code) {
    auto r = ctl({"scan", station, code, "--json"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  json stationView(const std::string& station) {
    auto r = ctl({"station", station, "--json"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  bool waitStep(const std::string& station, const std::string& step, std::chrono::milliseconds t = 15s) {
    bool ok = waitUntil([&] { return stationView(station).value("step", "") == step; }, t);
    if (!ok) ADD_FAILURE() << "station " << station << " not at " << step << ": " << stationView(station).dump(2)
                           << "\nagent log:\n" << agent_->soFar().err;
    return ok;
  }

  json pickTask(const std::string& id, const std::string& bin, const std::string& gtin, int qty,
                const std::string& station = "pick1") {
    return {{"task_id", id}, {"kind", "pick"}, {"order_id", "O-" + id}, {"station", station}, {"bin", bin},
            {"sku", "SKU-" + id}, {"gtin", gtin}, {"description", "Blue mug"}, {"qty", qty}};
  }
  json packTask(const std::string& id, int expected, int tolerance, const std::string& sscc) {
    return {{"task_id", id},
            {"kind", "pack"},
            {"order_id", "O-" + id},
            {"station", "pack1"},
            {"lines", json::array({{{"sku", "SKU-1"}, {"qty", 1}}})},
            {"expected_weight_g", expected},
            {"tolerance_g", tolerance},
            {"sscc", sscc},
            {"label",
             {{"template", "shipping"},
              {"fields", {{"customer", "Jörg Müller ^XZ"}, {"street", "Hauptstr. 1"}, {"postal_code", "10115"}, {"city", "Berlin"}}}}}};
  }
  json wave(const std::string& cmdId, const std::string& waveId, json tasks, int revision = 1) {
    return {{"v", 1}, {"cmd_id", cmdId}, {"type", "wave.assign"}, {"sent_at", 1763780000000},
            {"wave_id", waveId}, {"revision", revision}, {"tasks", tasks}};
  }
  void assignAndWait(const json& cmd) {
    send(cmd);
    auto r = waitEvent("cmd.result");
    ASSERT_TRUE(waitUntil([&] {
      for (auto& e : eventsOfType("cmd.result")) {
        if (e["data"]["cmd_id"] == cmd["cmd_id"]) return e["data"]["status"] == "accepted";
      }
      return false;
    }, 20s)) << "wave not accepted; events: " << json(events()).dump() << "\nagent log:\n" << agent_->soFar().err;
  }

  std::string extraConfig_;  // more TOML after the standard floor (set before SetUp)
  fs::path dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::unique_ptr<testing::Process> sim_, printer_, agent_;
  std::map<std::string, uint16_t> simPorts_;
  uint16_t printerPort_ = 0;
  SimControl control_;
  std::unique_ptr<testing::MqttTestClient> oms_;
  std::mutex mutex_;
  std::map<int64_t, std::string> events_;
  bool resentDiffers_ = false;
  bool autoAck_ = true;
  int64_t ackedThrough_ = 0;
  int64_t pendingAck_ = 0;
};

}  // namespace floorlink::e2e
