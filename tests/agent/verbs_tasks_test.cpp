#include "agent/control/verbs_tasks.h"
#include "agent/commands/commands.h"

#include "tests/agent/verb_test_support.h"
#include "tests/store/store_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class TaskVerbs : public VerbTest {};

TEST_F(TaskVerbs, WithoutADatabaseEachVerbSaysWhy) {
  registerTaskVerbs(*control_, StoreRef{nullptr, "DATABASE DAMAGED: salvage it"});
  for (const char* verb : {"tasks", "waves", "db.info"}) {
    expectError(verb, json::object(), ErrorCode::kStorage, "DATABASE DAMAGED: salvage it");
  }
}

TEST_F(TaskVerbs, ListsTasksAndWavesOfAnAssignedWave) {
  auto& store = openStore();
  ASSERT_TRUE(Commands(store).apply(testing::waveAssign("c1", "W1", 1, {testing::pickTask("T-1"), testing::pickTask("T-2")})));
  registerTaskVerbs(*control_, StoreRef{&store, ""});

  auto tasks = call("tasks", {{"wave", "W1"}});
  ASSERT_TRUE(tasks.has_value()) << tasks.error().message;
  ASSERT_EQ((*tasks)["tasks"].size(), 2u);
  EXPECT_EQ((*tasks)["tasks"][0]["task_id"], "T-1");

  auto none = call("tasks", {{"state", "done"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ((*none)["tasks"], json::array());

  auto waves = call("waves");
  ASSERT_TRUE(waves.has_value());
  ASSERT_EQ((*waves)["waves"].size(), 1u);
  EXPECT_EQ((*waves)["waves"][0]["wave_id"], "W1");
  EXPECT_EQ((*waves)["waves"][0]["pending"], 2);

  auto info = call("db.info");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ((*info)["journal_mode"], "wal");
  EXPECT_EQ((*info)["path"], (dir_ / "tasks.db").string());
}

TEST_F(TaskVerbs, AnUnknownStateIsRefusedByName) {
  registerTaskVerbs(*control_, StoreRef{&openStore(), ""});
  expectError("tasks", {{"state", "lost"}}, ErrorCode::kInvalidArgument,
              "unknown task state 'lost' (expected pending, active, done, short or cancelled)");
}

}  // namespace
}  // namespace floorlink::agent
