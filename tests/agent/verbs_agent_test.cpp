#include "agent/control/verbs_agent.h"

#include "tests/agent/verb_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class AgentVerbs : public VerbTest {
 protected:
  void SetUp() override {
    VerbTest::SetUp();
    auto logging = Logging::create({.target = LogTarget::kStderr, .defaultLevel = LogLevel::kWarn});
    ASSERT_TRUE(logging.has_value());
    logging_ = std::move(*logging);
    config_.agent.site = "site1";
    config_.agent.id = "agent1";
    health_["printer1"] = DeviceHealth{"printer", "ok", "", 5};
  }
  AgentVerbDeps deps(StoreRef store) {
    return AgentVerbDeps{.config = config_, .clock = clock_, .startedAtMs = clock_.nowMs() - 61'000,
                         .store = std::move(store), .health = health_, .stations = stations_,
                         .warnings = warnings_, .logging = *logging_};
  }
  config::Config config_;
  DeviceHealthMap health_;
  std::map<std::string, std::unique_ptr<Station>> stations_;
  std::vector<std::string> warnings_{"2 label(s) are uncertain"};
  std::unique_ptr<Logging> logging_;
};

TEST_F(AgentVerbs, StatusOfAnAgentWithADamagedDatabase) {
  registerAgentVerbs(*control_, deps(StoreRef{nullptr, "DATABASE DAMAGED: salvage it"}));
  auto s = call("status");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ((*s)["database"], (json{{"state", "damaged"}, {"detail", "DATABASE DAMAGED: salvage it"}}));
  EXPECT_EQ((*s)["uptime_s"], 61);
  EXPECT_EQ((*s)["site"], "site1");
  EXPECT_FALSE(s->contains("broker"));  // sync not running
  EXPECT_FALSE(s->contains("outbox"));
  EXPECT_EQ((*s)["devices"][0]["id"], "printer1");
  EXPECT_EQ((*s)["warnings"], json::array({"2 label(s) are uncertain"}));
}

TEST_F(AgentVerbs, StatusAndMetricsShowTheOutboxOfAnOpenDatabase) {
  registerAgentVerbs(*control_, deps(StoreRef{&openStore(), ""}));
  auto s = call("status");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)["database"]["state"], "ok");
  EXPECT_EQ((*s)["outbox"]["depth"], 0);
  auto m = call("metrics");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ((*m)["outbox"], (*s)["outbox"]);
  EXPECT_EQ((*m)["devices"][0], (json{{"id", "printer1"}, {"kind", "printer"}, {"state", "ok"}, {"reconnects", 0}}));
}

TEST_F(AgentVerbs, LogsAreClampedToWhatIsKept) {
  registerAgentVerbs(*control_, deps(StoreRef{nullptr, "none"}));
  logging_->get("agent").warn("one line");
  auto r = call("logs", {{"max", -5}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ((*r)["lines"].size(), 1u);
  EXPECT_EQ((*r)["lines"][0]["level"], "warn");
}

}  // namespace
}  // namespace floorlink::agent
