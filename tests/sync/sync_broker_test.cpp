// Sync against a real mosquitto: presence, commands, delivery and acks.
#include <algorithm>
#include <numeric>
#include <set>

#include "tests/support/tcp_proxy.h"
#include "tests/sync/sync_test_util.h"

namespace floorlink::sync::testing {
namespace {

using floorlink::testing::TcpProxy;

std::string wave(const std::string& cmdId, const std::string& waveId, int revision, int qty = 2) {
  Json j = Json::parse(R"({"v":1,"type":"wave.assign","sent_at":1763780000000,"tasks":[
      {"task_id":"T-1","kind":"pick","order_id":"O-1","station":"cart1",
       "bin":"A-01-02","sku":"SKU-9","gtin":"09506000134352","description":"Blue mug"}]})");
  j["cmd_id"] = cmdId;
  j["wave_id"] = waveId;
  j["revision"] = revision;
  j["tasks"][0]["qty"] = qty;
  return j.dump();
}

class SyncTest : public SyncHarness {};

// C-P2, C-P3: after connecting, the retained state carries every C-P2 field.
TEST_F(SyncTest, C_P2_C_P3_BirthStateCarriesFullPayloadAndSession) {
  connectOms();
  loop_.call([&] {
    port_.healthValue.devices.push_back({"scanner-1", "scanner", "ok", "Honeywell 1950g"});
    port_.healthValue.devices.push_back({"scale-1", "scale", "offline", "no reply"});
    port_.addEvents(3);
  });
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  auto birth = waitState([](const Json& j) { return j["online"] == true; });
  ASSERT_TRUE(birth.is_object()) << "no online:true state";
  EXPECT_EQ(birth["v"], 1);
  EXPECT_EQ(birth["session"], 1);
  EXPECT_EQ(birth["agent_version"], FLOORLINK_VERSION);
  EXPECT_TRUE(birth["started_at"].is_number_integer());
  EXPECT_EQ(birth["outbox_depth"], 3);
  EXPECT_TRUE(birth["oldest_unacked_ms"].is_number_integer());
  EXPECT_EQ(birth["acked_through"], 0);
  EXPECT_EQ(birth["last_seq"], 3);
  ASSERT_EQ(birth["devices"].size(), 2u);
  EXPECT_EQ(birth["devices"][0], Json::parse(R"({"id":"scanner-1","kind":"scanner","state":"ok","detail":"Honeywell 1950g"})"));
  EXPECT_EQ(birth["devices"][1]["state"], "offline");

  // Retained: an OMS that subscribes later gets it at once.
  auto late = MqttTestClient::connect(broker_->url(), "oms-late");
  ASSERT_TRUE(late);
  ASSERT_TRUE((*late)->subscribe(kState));
  ASSERT_TRUE((*late)->waitFor([](auto& all) { return !all.empty(); }, 10s));
  auto retained = (*late)->messagesOn(kState).front();
  EXPECT_TRUE(retained.retained);
  EXPECT_EQ(Json::parse(retained.payload)["online"], true);

  auto s = status();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.session, 1u);
  EXPECT_EQ(s.protocol, "5");
  EXPECT_EQ(s.brokerUrl, broker_->url());
  EXPECT_EQ(s.clientId, "dc1-pc7");
}

// C-P1, C-P3: a link that drops without DISCONNECT makes the broker publish
// the will {"online":false,"session":S}; the reconnect uses session S+1.
TEST_F(SyncTest, C_P1_C_P3_WillOnLostLinkAndSessionGrowsPerConnect) {
  connectOms();
  auto proxy = TcpProxy::start(broker_->port());
  ASSERT_TRUE(proxy);
  ASSERT_TRUE(startSync(testConfig((*proxy)->url())));
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true && j["session"] == 1; }).is_object());
  (*proxy)->cut();
  auto will = waitState([](const Json& j) { return j["online"] == false; });
  ASSERT_TRUE(will.is_object()) << "the broker did not publish the will";
  EXPECT_EQ(will, Json::parse(R"({"v":1,"online":false,"session":1})"));
  auto again = waitState([](const Json& j) { return j["online"] == true && j["session"] == 2; });
  ASSERT_TRUE(again.is_object()) << "no online:true with session 2 after reconnecting";
  EXPECT_EQ(loop_.call([&] { return port_.session(); }), 2u);
  EXPECT_GE(status().reconnects, 1u);
  // The will is retained, like the state.
  auto msgs = states();
  bool willRetainedSeen = false;
  auto late = MqttTestClient::connect(broker_->url(), "oms-late");
  ASSERT_TRUE(late);
  ASSERT_TRUE((*late)->subscribe(kState));
  ASSERT_TRUE((*late)->waitFor([](auto& all) { return !all.empty(); }, 10s));
  auto retained = Json::parse((*late)->messagesOn(kState).front().payload);
  willRetainedSeen = retained["session"] == 2 && retained["online"] == true;
  EXPECT_TRUE(willRetainedSeen) << "retained state after reconnect: " << retained.dump();
}

// C-P4: a clean shutdown publishes online:false itself, then disconnects.
TEST_F(SyncTest, C_P4_CleanShutdownPublishesOfflineBeforeDisconnect) {
  connectOms();
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true; }).is_object());
  loop_.call([&] { sync_->stop(); });
  auto bye = waitState([](const Json& j) { return j["online"] == false; }, 5s);
  ASSERT_TRUE(bye.is_object());
  EXPECT_EQ(bye, Json::parse(R"({"v":1,"online":false,"session":1})"));
  EXPECT_FALSE(status().connected);
  EXPECT_FALSE(status().running);
  // A clean DISCONNECT: the broker logs it as such (no will, no "connection lost").
  EXPECT_TRUE(eventually([&] { return broker_->log().find("dc1-pc7 disconnected") != std::string::npos; }, 5s))
      << broker_->log();
}

// C-P2: republished when a device changes and every state_interval.
TEST_F(SyncTest, C_P2_StateRepublishedOnDeviceChangeAndInterval) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.stateInterval = 1s;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true; }).is_object());
  ASSERT_TRUE(oms_->waitFor([](auto& all) {
    int n = 0;
    for (auto& m : all) n += m.topic == kState;
    return n >= 3;
  }, 10s)) << "state not republished every state_interval";
  loop_.call([&] {
    port_.healthValue.devices.push_back({"printer-1", "printer", "fault", "paper out"});
    sync_->notifyHealthChanged();
  });
  auto changed = waitState([](const Json& j) { return !j["devices"].empty() && j["devices"][0]["state"] == "fault"; });
  ASSERT_TRUE(changed.is_object());
  EXPECT_EQ(changed["devices"][0]["detail"], "paper out");
  // C-E5: a full disk shows in the state topic.
  loop_.call([&] {
    port_.healthValue.acceptingWork = false;
    port_.healthValue.detail = "disk full: new work refused";
    sync_->notifyHealthChanged();
  });
  auto full = waitState([](const Json& j) { return j["accepting_work"] == false; });
  ASSERT_TRUE(full.is_object());
  EXPECT_EQ(full["detail"], "disk full: new work refused");
}

// C-C4: valid, wrong types, non-JSON, oversized; each gets exactly one answer.
TEST_F(SyncTest, C_C4_CommandsValidInvalidNonJsonOversized) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.maxPayload = 4096;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true; }).is_object());

  ASSERT_TRUE(oms_->publish(kCmd, wave("c-ok", "W-1", 1)));
  auto okRes = waitResult("c-ok");
  ASSERT_TRUE(okRes.is_object());
  EXPECT_EQ(okRes["data"]["status"], "accepted");

  Json bad = Json::parse(wave("c-bad", "W-2", 1));
  bad["tasks"][0]["qty"] = "two";
  bad["revision"] = 0;
  ASSERT_TRUE(oms_->publish(kCmd, bad.dump()));
  auto badRes = waitResult("c-bad");
  ASSERT_TRUE(badRes.is_object());
  EXPECT_EQ(badRes["data"]["status"], "rejected");
  std::set<std::string> paths;
  for (auto& e : badRes["data"]["errors"]) paths.insert(e["path"].get<std::string>() + ":" + e["code"].get<std::string>());
  EXPECT_TRUE(paths.count("tasks[0].qty:wrong_type")) << badRes.dump();
  EXPECT_TRUE(paths.count("revision:out_of_range")) << badRes.dump();

  ASSERT_TRUE(oms_->publish(kCmd, "this is \x01 not json"));
  auto inv = waitEvent([](const Json& j) { return j["type"] == "cmd.invalid" && j["data"]["reason"] == "not_json"; });
  ASSERT_TRUE(inv.is_object());
  EXPECT_EQ(inv["data"]["head"], "this is \\x01 not json");

  Json big = Json::parse(wave("c-big", "W-3", 1));
  big["pad"] = std::string(5000, 'x');
  ASSERT_TRUE(oms_->publish(kCmd, big.dump()));
  auto tooLarge = waitEvent([](const Json& j) { return j["type"] == "cmd.invalid" && j["data"]["reason"] == "too_large"; });
  ASSERT_TRUE(tooLarge.is_object());
  EXPECT_EQ(tooLarge["data"]["head"].get<std::string>().size(), 256u);

  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"type":"resync","sent_at":1})"));
  ASSERT_TRUE(waitEvent([](const Json& j) { return j["type"] == "cmd.invalid" && j["data"]["reason"] == "no_cmd_id"; }).is_object());

  auto counts = loop_.call([&] {
    return std::tuple(port_.applied.size(), port_.rejectedCommands.size(), port_.invalids.size());
  });
  EXPECT_EQ(counts, std::tuple(size_t{1}, size_t{1}, size_t{3}));
  auto s = status();
  EXPECT_EQ(s.commandsReceived, 2u);
  EXPECT_EQ(s.commandsRejected, 1u);
  EXPECT_EQ(s.invalidMessages, 3u);
  // The agent is still connected and well.
  EXPECT_TRUE(s.connected);
}

// C-C1: a repeated cmd_id reaches the port again and is answered again with duplicate:true.
TEST_F(SyncTest, C_C1_DuplicateCommandAnsweredAgain) {
  connectOms();
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitConnected());
  ASSERT_TRUE(oms_->publish(kCmd, wave("c-1", "W-1", 1)));
  ASSERT_TRUE(waitResult("c-1").is_object());
  ASSERT_TRUE(oms_->publish(kCmd, wave("c-1", "W-1", 1)));
  auto dup = waitEvent([](const Json& j) { return j["type"] == "cmd.result" && j["data"]["duplicate"] == true; });
  ASSERT_TRUE(dup.is_object());
  EXPECT_EQ(dup["data"]["cmd_id"], "c-1");
  EXPECT_EQ(dup["data"]["status"], "accepted");
  EXPECT_EQ(loop_.call([&] { return port_.applied.size(); }), 2u);
}

// C-C3 at the port boundary: each revision is handed over as sent; the
// port's answer (accepted / duplicate / stale rejected) goes out as cmd.result.
TEST_F(SyncTest, C_C3_WaveRevisionsReachThePortInOrder) {
  connectOms();
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitConnected());
  ASSERT_TRUE(oms_->publish(kCmd, wave("r1", "W-9", 1)));
  ASSERT_TRUE(oms_->publish(kCmd, wave("r2", "W-9", 2, 5)));
  ASSERT_TRUE(oms_->publish(kCmd, wave("r1b", "W-9", 1)));
  ASSERT_TRUE(oms_->publish(kCmd, wave("r2b", "W-9", 2, 5)));
  ASSERT_TRUE(waitResult("r2b").is_object());
  auto revisions = loop_.call([&] {
    std::vector<std::pair<std::string, int64_t>> out;
    for (auto& c : port_.applied) {
      const auto& w = std::get<WaveAssign>(c.body);
      out.emplace_back(c.cmdId, w.revision);
      EXPECT_EQ(w.waveId, "W-9");
    }
    return out;
  });
  std::vector<std::pair<std::string, int64_t>> expected{{"r1", 1}, {"r2", 2}, {"r1b", 1}, {"r2b", 2}};
  EXPECT_EQ(revisions, expected);
  EXPECT_EQ(loop_.call([&] { return std::get<WaveAssign>(port_.applied[1].body).tasks[0].pick.qty; }), 5);
  EXPECT_EQ(waitResult("r1b")["data"]["status"], "rejected");
  EXPECT_EQ(waitResult("r2b")["data"]["duplicate"], true);
}

// C-C5: resync publishes the state and sends again every event after acked_through.
TEST_F(SyncTest, C_C5_ResyncRepublishesStateAndResendsAfterAckedThrough) {
  connectOms();
  loop_.call([&] { port_.addEvents(5); });
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitEvents(5));
  ASSERT_TRUE(oms_->publish(kAck, R"({"v":1,"acked_through":2})"));
  ASSERT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == 2; }));
  oms_->clear();
  ASSERT_TRUE(oms_->publish(kCmd, R"({"v":1,"cmd_id":"rs-1","type":"resync","sent_at":1})"));
  ASSERT_TRUE(waitResult("rs-1").is_object());  // seq 6
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true && j["acked_through"] == 2; }).is_object());
  ASSERT_TRUE(eventually([&] {
    auto seqs = seqsOf(evts());
    return std::set<int64_t>(seqs.begin(), seqs.end()) == std::set<int64_t>{3, 4, 5, 6};
  })) << "resent: " << Json(seqsOf(evts())).dump();
  // In order: 3, 4, 5 before anything else after the resync.
  auto seqs = seqsOf(evts());
  std::vector<int64_t> firstSeen;
  for (auto s : seqs) {
    if (std::find(firstSeen.begin(), firstSeen.end(), s) == firstSeen.end()) firstSeen.push_back(s);
  }
  EXPECT_TRUE(std::is_sorted(firstSeen.begin(), firstSeen.end())) << Json(seqs).dump();
  EXPECT_EQ(std::count(seqs.begin(), seqs.end(), 1), 0);
  EXPECT_EQ(std::count(seqs.begin(), seqs.end(), 2), 0);
}

// C-A2, C-E3: no ack within ack_timeout → sent again, same bytes; a late ack then stops it.
TEST_F(SyncTest, C_A2_C_E3_LostAckCausesResendOfSameBytesAndLateAckStopsIt) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.ackTimeout = 1s;
  loop_.call([&] { port_.addEvents(3); });
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitEvents(6, 20s)) << "events were not sent again after ack_timeout";
  auto msgs = evts();
  auto seqs = seqsOf(msgs);
  EXPECT_EQ((std::vector<int64_t>(seqs.begin(), seqs.begin() + 6)), (std::vector<int64_t>{1, 2, 3, 1, 2, 3}));
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(msgs[i].payload, loop_.call([&] { return port_.payloadOf(seqs[i]); }));
  }
  EXPECT_GE(status().ackTimeouts, 1u);
  // Late ack: applies, and resending stops.
  ASSERT_TRUE(oms_->publish(kAck, R"({"v":1,"acked_through":3})"));
  ASSERT_TRUE(eventually([&] { return loop_.call([&] { return port_.ackedThrough(); }) == 3; }));
  std::this_thread::sleep_for(300ms);  // let an in-progress resend land
  size_t before = evts().size();
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(evts().size(), before) << "events were resent after they were acknowledged";
}

// C-A3: acks beyond last seq, lower than the last, duplicated or malformed change nothing.
TEST_F(SyncTest, C_A3_BadAcksAreIgnored) {
  connectOms();
  loop_.call([&] { port_.addEvents(5); });
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitEvents(5));
  for (const char* ack : {R"({"v":1,"acked_through":3})", R"({"v":1,"acked_through":99})",
                          R"({"v":1,"acked_through":2})", R"({"v":1,"acked_through":3})",
                          R"({"v":1,"acked_through":"4"})", "garbage", R"({"acked_through":4})"}) {
    ASSERT_TRUE(oms_->publish(kAck, ack));
  }
  // Acks are applied in 100 ms batches: wait until all 7 are accounted for.
  ASSERT_TRUE(eventually([&] {
    auto st = status();
    return st.acksReceived == 7 && st.acksApplied + st.acksIgnored == 7;
  }));
  auto s = status();
  EXPECT_EQ(s.acksApplied, 1u);
  EXPECT_EQ(s.acksIgnored, 6u);
  EXPECT_EQ(loop_.call([&] { return port_.ackedThrough(); }), 3);
  EXPECT_EQ(s.outbox.ackedThrough, 3);
  EXPECT_TRUE(s.connected);
}

// C-E4: events leave in seq order; no more than `inflight` await a PUBACK.
TEST_F(SyncTest, C_E4_EventsInSeqOrderWithBoundedWindow) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.inflight = 4;
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  size_t maxInflight = 0;
  for (int round = 0; round < 20; ++round) {
    loop_.call([&] {
      port_.addEvents(25);
      sync_->notifyNewEvents();
      maxInflight = std::max(maxInflight, sync_->status().inflight);
    });
  }
  ASSERT_TRUE(waitEvents(500, 30s));
  auto seqs = seqsOf(evts());
  std::vector<int64_t> expected(500);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(seqs, expected);
  EXPECT_LE(maxInflight, 4u);
  EXPECT_TRUE(eventually([&] { return status().eventsPubacked == 500u; })) << status().eventsPubacked;
}

// C-S1: MQTT 3.1.1 when configured; auto picks 5 on mosquitto 2.
TEST_F(SyncTest, C_S1_Mqtt311WhenConfigured) {
  connectOms();
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.protocol = "3.1.1";
  loop_.call([&] { port_.addEvents(2); });
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  EXPECT_EQ(status().protocol, "3.1.1");
  ASSERT_TRUE(waitEvents(2));
  ASSERT_TRUE(oms_->publish(kCmd, wave("c-311", "W-1", 1)));
  EXPECT_TRUE(waitResult("c-311").is_object());
}

// C-S1: with protocol auto, a broker that only speaks 3.1.1 refuses the MQTT 5
// CONNECT; the agent falls back to 3.1.1 at once and works normally.
TEST_F(SyncTest, C_S1_AutoFallsBackTo311WhenTheBrokerRefusesMqtt5) {
  auto proxy = TcpProxy::start(broker_->port(), {.refuseMqtt5 = true});
  ASSERT_TRUE(proxy.has_value());
  connectOms();
  auto cfg = testConfig((*proxy)->url());
  ASSERT_EQ(cfg.mqtt.protocol, "auto");
  loop_.call([&] { port_.addEvents(2); });
  ASSERT_TRUE(startSync(cfg));
  ASSERT_TRUE(waitConnected());
  EXPECT_EQ((*proxy)->refusedMqtt5(), 1);
  auto s = status();
  EXPECT_EQ(s.protocol, "3.1.1");
  EXPECT_EQ(s.connectFailures, 0u) << "the fallback is not a failed connect: " << s.lastError;
  ASSERT_TRUE(waitEvents(2));
  ASSERT_TRUE(oms_->publish(kCmd, wave("c-auto", "W-1", 1)));
  EXPECT_TRUE(waitResult("c-auto").is_object());
  destroySync();  // while the proxy still carries the link (clean offline)
}

// A storage failure while applying a command: nothing counted, nothing crashes.
TEST_F(SyncTest, C_C4_StorageFailureDoesNotCountTheCommand) {
  connectOms();
  ASSERT_TRUE(startSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitConnected());
  loop_.call([&] { port_.failStorage = true; });
  ASSERT_TRUE(oms_->publish(kCmd, wave("c-fail", "W-1", 1)));
  ASSERT_TRUE(eventually([&] { return loop_.call([&] { return port_.applied.size(); }) == 1u; }));
  auto s = status();
  EXPECT_EQ(s.commandsReceived, 0u);
  EXPECT_NE(s.lastError.find("c-fail"), std::string::npos);
  EXPECT_TRUE(s.connected);
}

TEST(SyncRedact, C_S3_UrlCredentialsAreRemoved) {
  EXPECT_EQ(redactUrl("tcp://user:secret@broker:1883"), "tcp://***@broker:1883");
  EXPECT_EQ(redactUrl("ssl://broker:8883"), "ssl://broker:8883");
}

}  // namespace
}  // namespace floorlink::sync::testing
