// Sync over the real SQLite store and a real broker: a 50,000-task wave
// through …/cmd (parsed off the loop, staged in slices), a full disk that
// reaches …/state at once (C-E5), and seq_gap after a lost database (C-E6).
#include <gtest/gtest.h>

#include "agent/port/oms_port.h"
#include "agent/store/task_store.h"
#include "tests/sync/sync_test_util.h"

namespace floorlink::sync::testing {
namespace {

std::string bigWave(const std::string& cmdId, int tasks) {
  Json j{{"v", 1}, {"cmd_id", cmdId}, {"type", "wave.assign"}, {"sent_at", 1763780000000}, {"wave_id", "W-big"},
         {"revision", 1}};
  Json list = Json::array();
  for (int i = 0; i < tasks; ++i) {
    list.push_back({{"task_id", "T-" + std::to_string(i)}, {"kind", "pick"}, {"order_id", "O-" + std::to_string(i / 4)},
                    {"station", "cart" + std::to_string(i % 20)}, {"bin", "A-" + std::to_string(i % 997) + "-02"},
                    {"sku", "SKU-" + std::to_string(i % 5000)}, {"gtin", "09506000134352"},
                    {"description", "Blue mug, 330 ml, stoneware"}, {"qty", 1 + i % 5}, {"sequence", i}});
  }
  j["tasks"] = std::move(list);
  return j.dump();
}

class SyncStoreTest : public SyncHarness {
 protected:
  void TearDown() override {
    destroySync();
    loop_.call([&] {
      port_.reset();
      store_.reset();
    });
    SyncHarness::TearDown();
  }

  agent::StoreOptions storeOptions() {
    agent::StoreOptions o;
    o.path = std::filesystem::path(broker_->dir()) / "agent" / "floorlink.db";
    o.site = "dc1";
    o.agentId = "pc7";
    return o;
  }

  void openStore(agent::StoreOptions o) {
    loop_.call([&] {
      auto s = agent::TaskStore::open(o, clock_);
      ASSERT_TRUE(s) << s.error().describe();
      store_ = std::move(*s);
      port_ = std::make_unique<agent::OmsPort>(*store_);
      store_->setHealthListener([this] {
        if (sync_) sync_->notifyHealthChanged();
      });
      store_->setCommitListener([this](const agent::CommitNotice&) {
        if (sync_) sync_->notifyNewEvents();
      });
    });
  }

  Status startStoreSync(config::Config cfg) {
    return loop_.call([&]() -> Status {
      auto s = Sync::create(loop_.loop(), cfg, *port_, Logger());
      if (!s) return std::unexpected(s.error());
      sync_ = std::move(*s);
      return sync_->start();
    });
  }

  FakeClock clock_;
  std::unique_ptr<agent::TaskStore> store_;
  std::unique_ptr<agent::OmsPort> port_;  // after store_: destroyed first
};

TEST_F(SyncStoreTest, C_C2_A50000TaskWaveOfSeveralMiBIsAcceptedOnceByDefault) {
  connectOms();
  openStore(storeOptions());
  auto cfg = testConfig(broker_->url());
  ASSERT_EQ(cfg.mqtt.maxPayload, size_t{16} << 20);  // the contract's default (§1)
  ASSERT_TRUE(startStoreSync(cfg));
  ASSERT_TRUE(waitConnected());
  std::string payload = bigWave("c-big", 50000);
  ASSERT_GT(payload.size(), size_t{5} << 20);
  ASSERT_TRUE(oms_->publish(kCmd, payload));
  auto result = waitResult("c-big", 300s);
  ASSERT_TRUE(result.is_object());
  EXPECT_EQ(result["data"]["status"], "accepted") << result.dump();
  EXPECT_EQ(result["data"]["duplicate"], false);
  EXPECT_EQ(loop_.call([&] { return store_->taskCounts()->pending; }), 50000);
  // The resend (no ack yet) is answered duplicate and changes nothing (C-C1).
  ASSERT_TRUE(oms_->publish(kCmd, payload));
  auto again = waitEvent([](const Json& j) {
    return j["type"] == "cmd.result" && j["data"]["cmd_id"] == "c-big" && j["data"]["duplicate"] == true;
  }, 300s);
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["data"]["status"], "accepted");
  EXPECT_EQ(loop_.call([&] { return store_->taskCounts()->pending; }), 50000);
}

TEST_F(SyncStoreTest, C_E5_AFullDiskIsInTheStateAtOnceAndSoIsRoomAgain) {
  connectOms();
  auto o = storeOptions();
  o.maxSizeBytes = 256 * 1024;
  openStore(o);
  auto cfg = testConfig(broker_->url());
  cfg.mqtt.stateInterval = std::chrono::seconds(3600);  // no periodic republish in this test
  ASSERT_TRUE(startStoreSync(cfg));
  ASSERT_TRUE(waitConnected());
  ASSERT_TRUE(waitState([](const Json& j) { return j["online"] == true && j["accepting_work"] == true; }).is_object());
  // A station's writes fill the disk.
  auto failed = loop_.call([&] {
    for (int i = 0; i < 100000; ++i) {
      sync::EventDraft d;
      d.type = "device.status";
      d.dataJson = Json{{"device", "scan1"}, {"detail", std::string(300, 'x')}}.dump();
      auto seq = store_->appendEvent(d);
      if (!seq) return seq.error().code;
    }
    return ErrorCode::kInternal;
  });
  ASSERT_EQ(failed, ErrorCode::kDiskFull);
  auto full = waitState([](const Json& j) { return j["accepting_work"] == false; });
  ASSERT_TRUE(full.is_object()) << "no state with accepting_work:false before the state interval";
  EXPECT_NE(full["detail"].get<std::string>().find("disk full"), std::string::npos);
  // The OMS acknowledges, pruning frees pages: accepting again, said at once.
  loop_.call([&] {
    ASSERT_TRUE(store_->acknowledge(store_->outboxStats()->lastSeq));
    clock_.advance(std::chrono::hours(24 * 8));
    ASSERT_TRUE(store_->pruneAcked());
  });
  auto roomy = waitState([&](const Json& j) { return j["accepting_work"] == true && j["outbox_depth"] == 0; });
  ASSERT_TRUE(roomy.is_object());
}

TEST_F(SyncStoreTest, C_E6_ALostDatabaseIsAnnouncedWithSeqGapInTheState) {
  connectOms();
  uint64_t firstSession = 0;
  openStore(storeOptions());
  loop_.call([&] {
    firstSession = *store_->nextSession();
    for (int i = 0; i < 11; ++i) ASSERT_TRUE(store_->appendEvent({.type = "device.status"}));
    port_.reset();
    store_.reset();
  });
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(storeOptions().path.string() + s);
  openStore(storeOptions());
  ASSERT_TRUE(startStoreSync(testConfig(broker_->url())));
  ASSERT_TRUE(waitConnected());
  auto state = waitState([](const Json& j) { return j["online"] == true; });
  ASSERT_TRUE(state.is_object());
  EXPECT_GT(state["session"].get<uint64_t>(), firstSession);
  ASSERT_TRUE(state.contains("seq_gap")) << state.dump();
  EXPECT_EQ(state["seq_gap"][0], 1);
  EXPECT_GE(state["seq_gap"][1].get<int64_t>(), 11);
  EXPECT_GT(state["last_seq"].get<int64_t>(), 11);
  auto salvaged = waitEvent([](const Json& j) { return j["type"] == "store.salvaged"; });
  ASSERT_TRUE(salvaged.is_object());
  EXPECT_EQ(salvaged["data"]["missing_from"], state["seq_gap"][0]);
  EXPECT_EQ(salvaged["data"]["missing_to"], state["seq_gap"][1]);
  EXPECT_GT(salvaged["seq"].get<int64_t>(), salvaged["data"]["missing_to"].get<int64_t>());
}

}  // namespace
}  // namespace floorlink::sync::testing
