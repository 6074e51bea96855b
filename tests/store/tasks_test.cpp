// Task state machine, next-task order and listing.
#include <gtest/gtest.h>

#include "store_test_support.h"
#include "agent/commands/commands.h"

namespace floorlink::agent::testing {
namespace {

using Tasks = StoreTest;

TEST(TaskStateMachine, OnlyLegalTransitions) {
  using S = TaskState;
  EXPECT_TRUE(isLegalTransition(S::kPending, S::kActive));
  EXPECT_TRUE(isLegalTransition(S::kPending, S::kCancelled));
  EXPECT_FALSE(isLegalTransition(S::kPending, S::kDone));
  EXPECT_FALSE(isLegalTransition(S::kPending, S::kShort));
  EXPECT_TRUE(isLegalTransition(S::kActive, S::kDone));
  EXPECT_TRUE(isLegalTransition(S::kActive, S::kShort));
  EXPECT_TRUE(isLegalTransition(S::kActive, S::kCancelled));
  EXPECT_TRUE(isLegalTransition(S::kActive, S::kPending));
  EXPECT_TRUE(isLegalTransition(S::kActive, S::kActive));
  for (S final : {S::kDone, S::kShort, S::kCancelled}) {
    for (S to : {S::kPending, S::kActive, S::kDone, S::kShort, S::kCancelled}) {
      EXPECT_FALSE(isLegalTransition(final, to)) << toString(final) << "->" << toString(to);
    }
  }
  for (S s : {S::kPending, S::kActive, S::kDone, S::kShort, S::kCancelled}) {
    EXPECT_EQ(*parseTaskState(toString(s)), s);
  }
  EXPECT_FALSE(parseTaskState("finished"));
}

TEST_F(Tasks, IllegalTransitionIsRefusedAndChangesNothing) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  auto tx = store->begin();
  auto r = tx->setTaskState("T-1", TaskState::kDone);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("pending to done"), std::string::npos);
  auto missing = tx->setTaskState("T-404", TaskState::kActive);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kPending);
}

TEST_F(Tasks, NextTaskOrderIsPriorityThenSequenceThenArrival) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign(
      "c-1", "W-low", 1, {pickTask("L-1", "cart1", 1)}, 1)));
  ASSERT_TRUE(Commands(*store).apply(waveAssign(
      "c-2", "W-high", 1,
      {pickTask("H-nos", "cart1"), pickTask("H-30", "cart1", 30), pickTask("H-10", "cart1", 10),
       pickTask("H-10b", "cart1", 10)},
      5)));
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    auto next = store->nextTask("cart1", sync::TaskKind::kPick);
    ASSERT_TRUE(next && next->has_value());
    order.push_back((*next)->taskId);
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState((*next)->taskId, TaskState::kActive));
    ASSERT_TRUE(tx->setTaskState((*next)->taskId, TaskState::kDone));
    ASSERT_TRUE(tx->commit());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"H-10", "H-10b", "H-30", "H-nos", "L-1"}));
  EXPECT_FALSE(store->nextTask("cart1", sync::TaskKind::kPick)->has_value());
}

TEST_F(Tasks, ActiveTaskOfTheStationComesFirst) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1,
                                             {pickTask("T-1", "cart1", 1), pickTask("T-2", "cart1", 2)})));
  auto tx = store->begin();
  ASSERT_TRUE(tx->setTaskState("T-2", TaskState::kActive, {.claimedBy = "cart1"}));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ((*store->nextTask("cart1", sync::TaskKind::kPick))->taskId, "T-2");
}

TEST_F(Tasks, UnassignedTasksGoToAnyStationOfTheirKind) {
  auto store = open();
  sync::TaskSpec pack = pickTask("P-1", "");
  pack.kind = sync::TaskKind::kPack;
  pack.pack.lines = {{"SKU-1", "", 2}, {"SKU-2", "", 3}};
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-any", ""), pack})));
  EXPECT_EQ((*store->nextTask("cart7", sync::TaskKind::kPick))->taskId, "T-any");
  EXPECT_EQ((*store->nextTask("pack1", sync::TaskKind::kPack))->taskId, "P-1");
  EXPECT_EQ((*store->nextTask("pack1", sync::TaskKind::kPack))->qty, 5);
  EXPECT_FALSE(store->nextTask("dock1", sync::TaskKind::kShip)->has_value());
  // Claimed by one station, it is no longer offered to another.
  auto tx = store->begin();
  ASSERT_TRUE(tx->setTaskState("T-any", TaskState::kActive, {.claimedBy = "cart7"}));
  ASSERT_TRUE(tx->commit());
  EXPECT_FALSE(store->nextTask("cart8", sync::TaskKind::kPick)->has_value());
  EXPECT_EQ((*store->nextTask("cart7", sync::TaskKind::kPick))->taskId, "T-any");
  // Released, it is offered again.
  auto release = store->begin();
  ASSERT_TRUE(release->setTaskState("T-any", TaskState::kPending));
  ASSERT_TRUE(release->commit());
  EXPECT_EQ((*store->nextTask("cart8", sync::TaskKind::kPick))->taskId, "T-any");
}

TEST_F(Tasks, OtherStationsTasksAreNotOffered) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1", "cart2")})));
  EXPECT_FALSE(store->nextTask("cart1", sync::TaskKind::kPick)->has_value());
}

// The store's lookups go through live_tasks (schema v7): each must still
// search its index, with the wave row found by its key, and never sort.
TEST_F(Tasks, LookupsThroughLiveTasksUseTheirIndexes) {
  auto store = open();
  SQLite::Database db(options().path.string(), SQLite::OPEN_READONLY);
  const std::pair<const char*, const char*> queries[] = {
      {"SELECT id FROM live_tasks WHERE station = 'c' AND kind = 'pick' AND state = 'pending' "
       "ORDER BY priority DESC, seq_key, id LIMIT 1",
       "tasks_next"},
      {"SELECT id FROM live_tasks WHERE task_id = 'T-1'", "tasks_id"},
      {"SELECT id FROM live_tasks WHERE claimed_by = 'c' AND state = 'active' ORDER BY id LIMIT 1", "tasks_active"},
      {"SELECT id FROM live_tasks WHERE order_id = 'O-1' AND kind = 'pack' AND state = 'pending'", "tasks_pack_order"},
      {"SELECT id FROM live_tasks WHERE sscc = 'x' AND kind = 'ship' AND state = 'pending' ORDER BY id",
       "tasks_ship_sscc"},
  };
  for (const auto& [sql, index] : queries) {
    SQLite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string detail;
    while (plan.executeStep()) detail += plan.getColumn(3).getString() + ";";
    EXPECT_NE(detail.find(std::string("USING INDEX ") + index), std::string::npos) << sql << ": " << detail;
    EXPECT_NE(detail.find("SEARCH w USING INDEX sqlite_autoindex_waves_1"), std::string::npos) << sql << ": " << detail;
    EXPECT_EQ(detail.find("TEMP B-TREE"), std::string::npos) << sql << ": " << detail;
  }
}

TEST_F(Tasks, ListFiltersByWaveStationAndState) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("A", "cart1"), pickTask("B", "cart2")})));
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-2", "W-2", 1, {pickTask("C", "cart1")})));
  auto tx = store->begin();
  ASSERT_TRUE(tx->setTaskState("C", TaskState::kActive));
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(store->tasks({.waveId = "W-1"})->size(), 2u);
  EXPECT_EQ(store->tasks({.station = "cart1"})->size(), 2u);
  EXPECT_EQ(store->tasks({.state = TaskState::kActive})->size(), 1u);
  EXPECT_EQ(store->tasks({.waveId = "W-1", .station = "cart1"})->size(), 1u);
  EXPECT_EQ(store->tasks({.limit = 1})->size(), 1u);
  auto page2 = store->tasks({.limit = 2, .afterArrival = store->tasks({.limit = 1})->front().arrival});
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ(page2->front().taskId, "B");
}

// One station per task: a claim by a second station is refused, whatever
// the first one's view was (issue 13, defect 4).
TEST_F(Tasks, ClaimByASecondStationIsRefused) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1", ""), pickTask("T-2", "cart9")})));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive, TaskUpdate{.claimedBy = "cart1"}));
    ASSERT_TRUE(tx->commit());
  }
  auto tx = store->begin();
  auto second = tx->setTaskState("T-1", TaskState::kActive, TaskUpdate{.claimedBy = "cart2"});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_NE(second.error().message.find("cart1"), std::string::npos);
  EXPECT_TRUE(tx->setTaskState("T-1", TaskState::kActive, TaskUpdate{.claimedBy = "cart1"}));  // its own: progress
  auto foreign = tx->setTaskState("T-2", TaskState::kActive, TaskUpdate{.claimedBy = "cart1"});
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kBusy);
}

TEST_F(Tasks, PositionCommitsWithTheStepAndRollsBackWithIt) {
  auto store = open();
  EXPECT_FALSE(store->position("pack1")->has_value());
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx->savePosition({.station = "pack1", .taskId = "P-1", .step = "weighing", .dataJson = R"({"a":1})"}));
    // destroyed uncommitted: nothing
  }
  EXPECT_FALSE(store->position("pack1")->has_value());
  auto tx = store->begin();
  ASSERT_TRUE(tx->savePosition({.station = "pack1", .taskId = "P-1", .step = "weighing", .dataJson = R"({"a":1})"}));
  ASSERT_TRUE(tx->savePosition({.station = "pack1", .taskId = "P-1", .step = "printing", .dataJson = R"({"a":2})"}));
  ASSERT_TRUE(tx->commit());
  auto p = store->position("pack1");
  ASSERT_TRUE(p && p->has_value());
  EXPECT_EQ((*p)->step, "printing");
  EXPECT_EQ((*p)->taskId, "P-1");
  EXPECT_EQ((*p)->dataJson, R"({"a":2})");
}

// Pack and ship lookups are indexed: the newest of 100,010 pending tasks is
// found (the old scan stopped at 100,000) and a task of another station is not.
TEST_F(Tasks, PackAndShipLookupsFindTheNewestOfAHugeQueue) {
  auto store = open();
  std::vector<sync::TaskSpec> tasks;
  for (int i = 0; i < 100'010; ++i) {
    sync::TaskSpec t;
    t.kind = i % 2 == 0 ? sync::TaskKind::kPack : sync::TaskKind::kShip;
    t.taskId = "X" + std::to_string(i);
    t.orderId = "O" + std::to_string(i);
    if (t.kind == sync::TaskKind::kShip) t.ship.tracking = "1Z" + std::to_string(i);
    t.station = i == 100'007 ? "door9" : "";
    nlohmann::json j{{"task_id", t.taskId}, {"kind", t.kind == sync::TaskKind::kPack ? "pack" : "ship"},
                     {"order_id", t.orderId}};
    if (t.kind == sync::TaskKind::kShip) j["tracking"] = t.ship.tracking;
    t.json = j.dump();
    tasks.push_back(std::move(t));
  }
  for (size_t at = 0; at < tasks.size(); at += 50'000) {
    std::vector<sync::TaskSpec> part(tasks.begin() + at, tasks.begin() + std::min(tasks.size(), at + 50'000));
    ASSERT_EQ(Commands(*store).apply(waveAssign("c-" + std::to_string(at), "W-" + std::to_string(at), 1, part))->status,
              "accepted");
  }
  auto pack = store->findPendingPack("pack1", "O100008");
  ASSERT_TRUE(pack && pack->has_value());
  EXPECT_EQ((*pack)->taskId, "X100008");
  EXPECT_EQ((*store->findPendingPack("pack1", "X100008"))->taskId, "X100008");  // by task id too
  auto ship = store->findPendingShip("door1", "1Z100009");
  ASSERT_TRUE(ship && ship->has_value());
  EXPECT_EQ((*ship)->taskId, "X100009");
  EXPECT_FALSE(store->findPendingShip("door1", "1Z100007")->has_value());  // assigned to door9
  EXPECT_TRUE(store->findPendingShip("door9", "1Z100007")->has_value());
  EXPECT_FALSE(store->findPendingShip("door1", "1Z100008")->has_value());  // a pack task's number
}

// A ship task's dock door has its own column (schema v8); bin is a pick's.
TEST_F(Tasks, ShipDoorIsNotABin) {
  auto store = open();
  sync::TaskSpec t;
  t.kind = sync::TaskKind::kShip;
  t.taskId = "S-1";
  t.orderId = "O-1";
  t.ship.tracking = "1ZA";
  t.ship.door = "D3";
  t.json = nlohmann::json{{"task_id", "S-1"}, {"kind", "ship"}, {"order_id", "O-1"}, {"tracking", "1ZA"},
                          {"door", "D3"}}.dump();
  ASSERT_EQ(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {t, pickTask("T-1")}))->status, "accepted");
  auto ship = store->findTask("S-1");
  ASSERT_TRUE(ship && ship->has_value());
  EXPECT_EQ((*ship)->door, "D3");
  EXPECT_EQ((*ship)->bin, "");
  auto pick = store->findTask("T-1");
  EXPECT_EQ((*pick)->bin, "A-01-T-1");
  EXPECT_EQ((*pick)->door, "");
}

}  // namespace
}  // namespace floorlink::agent::testing
