#pragma once
// Shared by the verbs_* tests: a control server on a temporary socket whose
// verbs are called in process, the way the web pages call them.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "agent/control/control_server.h"
#include "agent/store/task_store.h"
#include "core/clock.h"
#include "core/event_loop.h"

namespace floorlink::agent::testing {

class VerbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/floorlink-verbs-XXXXXX";
    dir_ = mkdtemp(tmpl);
    loop_ = std::move(*EventLoop::create());
    auto server = ControlServer::create(*loop_, {dir_ / "ctl.sock", ""}, Logger());
    ASSERT_TRUE(server.has_value()) << server.error().message;
    control_ = std::move(*server);
  }
  void TearDown() override {
    control_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  TaskStore& openStore() {
    StoreOptions o;
    o.path = dir_ / "tasks.db";
    o.site = "site1";
    o.agentId = "agent1";
    auto s = TaskStore::open(o, clock_, Logger());
    EXPECT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
    return *store_;
  }

  // Runs a verb and the loop until it answers (at most a second).
  Result<nlohmann::json> call(const std::string& verb, const nlohmann::json& args = nlohmann::json::object()) {
    std::optional<Result<nlohmann::json>> answer;
    control_->invoke(verb, args, [&](const Result<nlohmann::json>& r) {
      answer = r;
      loop_->stop();
    });
    if (!answer) {
      EXPECT_TRUE(loop_->runFor(std::chrono::seconds(1)));
    }
    if (!answer) return fail(ErrorCode::kTimeout, "no answer from " + verb);
    return *answer;
  }

  // The verb is registered: it answers something other than "unknown verb".
  void expectError(const std::string& verb, const nlohmann::json& args, ErrorCode code, const std::string& message) {
    auto r = call(verb, args);
    ASSERT_FALSE(r.has_value()) << verb << " answered " << r->dump();
    EXPECT_EQ(r.error().code, code) << verb << ": " << r.error().message;
    EXPECT_EQ(r.error().message, message) << verb;
  }

  std::filesystem::path dir_;
  FakeClock clock_{1763780000000};
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<TaskStore> store_;
};

}  // namespace floorlink::agent::testing
