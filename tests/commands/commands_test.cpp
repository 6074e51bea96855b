// Applying OMS commands: C-C1 .. C-C6, C-E1, C-E3.
#include <gtest/gtest.h>

#include "tests/store/store_test_support.h"
#include "agent/commands/commands.h"

namespace floorlink::agent::testing {
namespace {

using CommandSemantics = StoreTest;

TEST_F(CommandSemantics, WaveAssignStoresTasksAndAnswersAcceptedWithContractBytes) {
  auto store = open();
  auto outcome = agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")}));
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_FALSE(outcome->duplicate);
  EXPECT_EQ(outcome->resultSeq, 1);
  auto stored = store->eventsAfter(0, 10);
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().payload,
            "{\"v\":1,\"seq\":1,\"event_id\":\"dc1/pc7/1\",\"type\":\"cmd.result\",\"occurred_at\":" +
                std::to_string(clock_.nowMs()) +
                ",\"wave_id\":\"W-1\",\"data\":{\"cmd_id\":\"c-1\",\"status\":\"accepted\","
                "\"errors\":[],\"duplicate\":false,\"kept\":[]}}");
  auto task = store->findTask("T-1");
  ASSERT_TRUE(task && task->has_value());
  EXPECT_EQ((*task)->state, TaskState::kPending);
  EXPECT_EQ((*task)->waveId, "W-1");
  EXPECT_EQ((*task)->bin, "A-01-T-1");
  EXPECT_EQ((*task)->qty, 2);
  EXPECT_EQ(parse((*task)->specJson)["task_id"], "T-1");
}

TEST_F(CommandSemantics, C_C1_RepeatedCmdIdChangesNothingAndAnswersDuplicateWithFirstStatus) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  // Same cmd_id, different content: still only a repeat.
  auto again = agent::Commands(*store).apply(waveAssign("c-1", "W-1", 2, {pickTask("T-9")}));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->status, "accepted");
  EXPECT_EQ(again->resultSeq, 2);
  auto t9 = store->findTask("T-9");
  ASSERT_TRUE(t9);
  EXPECT_FALSE(t9->has_value());
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 2u);
  EXPECT_EQ(evts[1]["data"]["duplicate"], true);
  EXPECT_EQ(evts[1]["data"]["status"], "accepted");
  EXPECT_EQ(evts[1]["data"]["cmd_id"], "c-1");
  EXPECT_EQ(evts[1]["wave_id"], "W-1");
}

TEST_F(CommandSemantics, C_C1_RepeatOfRejectedCommandKeepsItsErrors) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 3, {pickTask("T-1")})));
  auto stale = agent::Commands(*store).apply(waveAssign("c-2", "W-1", 2, {pickTask("T-2")}));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, "rejected");
  auto repeat = agent::Commands(*store).apply(waveAssign("c-2", "W-1", 2, {pickTask("T-2")}));
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->status, "rejected");
  EXPECT_TRUE(repeat->duplicate);
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 3u);
  EXPECT_EQ(evts[2]["data"]["errors"], evts[1]["data"]["errors"]);
  EXPECT_EQ(evts[2]["data"]["errors"][0]["code"], "stale_revision");
}

TEST_F(CommandSemantics, C_C1_RejectCommandIsDeduplicatedToo) {
  auto store = open();
  sync::RejectedCommand bad{"c-7", "wave.assign", {{"tasks[3].qty", "out_of_range", "qty must be >= 1"}}};
  auto first = agent::Commands(*store).reject(bad);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, "rejected");
  EXPECT_FALSE(first->duplicate);
  auto second = agent::Commands(*store).reject(bad);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->duplicate);
  // A valid command reusing that cmd_id is a repeat as well: nothing applied.
  auto third = agent::Commands(*store).apply(waveAssign("c-7", "W-1", 1, {pickTask("T-1")}));
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->duplicate);
  EXPECT_EQ(third->status, "rejected");
  EXPECT_FALSE(store->findTask("T-1")->has_value());
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 3u);
  EXPECT_EQ(evts[0]["data"]["errors"][0]["path"], "tasks[3].qty");
  EXPECT_EQ(evts[0]["data"]["errors"][0]["code"], "out_of_range");
  EXPECT_EQ(evts[2]["data"]["errors"], evts[0]["data"]["errors"]);
}

TEST_F(CommandSemantics, C_C2_WaveWithDuplicateTaskIdIsRejectedWhole) {
  auto store = open();
  auto tasks = pickTasks("T-", 5);
  tasks.push_back(pickTask("T-2"));
  auto outcome = agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, tasks));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "rejected");
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 1u);
  EXPECT_EQ(evts[0]["data"]["errors"][0]["path"], "tasks[5].task_id");
  EXPECT_EQ(evts[0]["data"]["errors"][0]["code"], "duplicate_task_id");
  auto all = store->tasks({});
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(store->waves()->empty());
}

TEST_F(CommandSemantics, C_C2_TaskIdOfAnotherWaveRejectsTheWave) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  auto outcome = agent::Commands(*store).apply(waveAssign("c-2", "W-2", 1, {pickTask("T-5"), pickTask("T-1")}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "rejected");
  auto evts = events(*store);
  EXPECT_NE(evts[1]["data"]["errors"][0]["message"].get<std::string>().find("W-1"), std::string::npos);
  EXPECT_FALSE(store->findTask("T-5")->has_value());
}

TEST_F(CommandSemantics, C_C3_SameRevisionUnderNewCmdIdIsADuplicate) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  auto again = agent::Commands(*store).apply(waveAssign("c-2", "W-1", 1, {pickTask("T-1"), pickTask("T-2")}));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->status, "accepted");
  EXPECT_FALSE(store->findTask("T-2")->has_value());
  auto evts = events(*store);
  EXPECT_EQ(evts[1]["data"]["cmd_id"], "c-2");
  EXPECT_EQ(evts[1]["data"]["duplicate"], true);
}

TEST_F(CommandSemantics, C_C3_HigherRevisionReplacesUnstartedTasksAndListsKept) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(
      waveAssign("c-1", "W-1", 1, {pickTask("T-1"), pickTask("T-2"), pickTask("T-3"), pickTask("T-4")})));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive));
    ASSERT_TRUE(tx->setTaskState("T-2", TaskState::kActive));
    ASSERT_TRUE(tx->setTaskState("T-2", TaskState::kDone));
    ASSERT_TRUE(tx->commit());
  }
  std::vector<CommitNotice> notices;
  store->setCommitListener([&](const CommitNotice& n) { notices.push_back(n); });
  auto t1 = pickTask("T-1", "cart9");  // started: its new spec is ignored
  auto outcome =
      agent::Commands(*store).apply(waveAssign("c-2", "W-1", 2, {t1, pickTask("T-3", "cart2"), pickTask("T-5")}, 7));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  auto evts = events(*store);
  EXPECT_EQ(evts.back()["data"]["kept"], nlohmann::json::array({"T-1", "T-2"}));
  auto tasks = store->tasks({.waveId = "W-1"});
  ASSERT_TRUE(tasks);
  std::vector<std::string> ids;
  for (const auto& t : *tasks) ids.push_back(t.taskId);
  EXPECT_EQ(ids, (std::vector<std::string>{"T-1", "T-2", "T-3", "T-5"}));
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kActive);
  EXPECT_EQ((*store->findTask("T-1"))->station, "cart1");
  EXPECT_EQ((*store->findTask("T-3"))->station, "cart2");
  EXPECT_EQ((*store->findTask("T-3"))->revision, 2);
  EXPECT_EQ((*store->findTask("T-3"))->priority, 7);
  EXPECT_FALSE(store->findTask("T-4")->has_value());
  auto waves = store->waves();
  ASSERT_EQ(waves->size(), 1u);
  EXPECT_EQ(waves->front().revision, 2);
  // The listener hears which pending tasks went away.
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].taskChanges.size(), 2u);  // T-3 and T-4 (replaced)
}

TEST_F(CommandSemantics, C_C3_LowerRevisionIsRejectedStale) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 2, {pickTask("T-1")})));
  auto outcome = agent::Commands(*store).apply(waveAssign("c-2", "W-1", 1, {pickTask("T-7")}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "rejected");
  auto evts = events(*store);
  EXPECT_EQ(evts[1]["data"]["errors"][0]["code"], "stale_revision");
  EXPECT_EQ(evts[1]["data"]["errors"][0]["path"], "revision");
  EXPECT_FALSE(store->findTask("T-7")->has_value());
}

TEST_F(CommandSemantics, C_C6_CancellingADoneTaskIsRejectedAlreadyDone) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive));
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kDone));
    ASSERT_TRUE(tx->commit());
  }
  auto outcome = agent::Commands(*store).apply(taskCancel("c-2", "T-1"));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "rejected");
  auto evts = events(*store);
  EXPECT_EQ(evts.back()["data"]["errors"][0]["code"], "already_done");
  EXPECT_EQ(evts.back()["task_id"], "T-1");
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kDone);
}

TEST_F(CommandSemantics, C_C6_CancellingAnActiveTaskCancelsItAndTellsTheStation) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive, {.claimedBy = "cart1", .operatorId = "op-4"}));
    ASSERT_TRUE(tx->commit());
  }
  std::vector<CommitNotice> notices;
  store->setCommitListener([&](const CommitNotice& n) { notices.push_back(n); });
  auto outcome = agent::Commands(*store).apply(taskCancel("c-2", "T-1", "customer called"));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kCancelled);
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 3u);
  EXPECT_EQ(evts[1]["type"], "task.cancelled");
  EXPECT_EQ(evts[1]["station"], "cart1");
  EXPECT_EQ(evts[1]["data"]["reason"], "customer called");
  EXPECT_EQ(evts[2]["type"], "cmd.result");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].firstSeq, 2);
  EXPECT_EQ(notices[0].lastSeq, 3);
  ASSERT_EQ(notices[0].taskChanges.size(), 1u);
  EXPECT_EQ(notices[0].taskChanges[0].station, "cart1");
  EXPECT_EQ(notices[0].taskChanges[0].to, TaskState::kCancelled);
}

TEST_F(CommandSemantics, TaskCancelOfUnknownTaskIsRejected) {
  auto store = open();
  auto outcome = agent::Commands(*store).apply(taskCancel("c-1", "T-404"));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "rejected");
  EXPECT_EQ(events(*store)[0]["data"]["errors"][0]["code"], "unknown_task");
}

TEST_F(CommandSemantics, WaveCancelCancelsOpenTasksAndKeepsFinishedOnes) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, pickTasks("T-", 4))));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-0", TaskState::kActive));
    ASSERT_TRUE(tx->setTaskState("T-0", TaskState::kShort, {.qtyDone = 1, .reason = "empty bin"}));
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive));
    ASSERT_TRUE(tx->commit());
  }
  auto outcome = agent::Commands(*store).apply(waveCancel("c-2", "W-1", "truck left"));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  auto counts = store->taskCounts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->shortPicked, 1);
  EXPECT_EQ(counts->cancelled, 3);
  auto evts = events(*store);
  int cancelled = 0;
  for (const auto& e : evts) cancelled += e["type"] == "task.cancelled";
  EXPECT_EQ(cancelled, 3);
  EXPECT_EQ(store->waves()->front().state, WaveState::kCancelled);
  auto unknown = agent::Commands(*store).apply(waveCancel("c-3", "W-9"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, "rejected");
}

TEST_F(CommandSemantics, HigherRevisionReopensACancelledWave) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).apply(waveAssign("c-1", "W-1", 1, pickTasks("T-", 2))));
  ASSERT_TRUE(agent::Commands(*store).apply(waveCancel("c-2", "W-1")));
  auto outcome = agent::Commands(*store).apply(waveAssign("c-3", "W-1", 2, pickTasks("T-", 3)));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_EQ(store->taskCounts()->pending, 3);
  EXPECT_EQ(store->waves()->front().state, WaveState::kOpen);
}

TEST_F(CommandSemantics, ResyncIsRecordedAsAccepted) {
  auto store = open();
  sync::Command c;
  c.cmdId = "c-r";
  c.type = "resync";
  c.body = sync::Resync{};
  auto outcome = agent::Commands(*store).apply(c);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_EQ(events(*store)[0]["data"]["cmd_id"], "c-r");
}

TEST_F(CommandSemantics, C_C4_InvalidMessageIsRecorded) {
  auto store = open();
  ASSERT_TRUE(agent::Commands(*store).recordInvalid({"not_json", "{\"v\":1,\xff"}));
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 1u);
  EXPECT_EQ(evts[0]["type"], "cmd.invalid");
  EXPECT_EQ(evts[0]["data"]["reason"], "not_json");
  EXPECT_EQ(store->tasks({})->size(), 0u);
}

TEST_F(CommandSemantics, AWaveOf50000TasksIsStoredAtomically) {
  auto store = open();
  auto tasks = pickTasks("T-", 50000);
  auto outcome = agent::Commands(*store).apply(waveAssign("c-1", "W-big", 1, tasks));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->status, "accepted");
  EXPECT_EQ(store->taskCounts()->pending, 50000);
  // A second revision replacing all of them works too.
  auto replaced = agent::Commands(*store).apply(waveAssign("c-2", "W-big", 2, pickTasks("U-", 50000)));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->status, "accepted");
  EXPECT_EQ(store->taskCounts()->pending, 50000);
  EXPECT_FALSE(store->findTask("T-1")->has_value());
}

}  // namespace
}  // namespace floorlink::agent::testing
