// PickWorkflow over a real store: steps, refusals, claims and resuming from
// the committed position.
#include "tests/workflows/workflow_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Pick = WorkflowTest;

TEST_F(Pick, BinThenItemsThenDoneWithTheLastItemsGs1Data) {
  assign({pickJson("T-1", "A-01", 2)});
  auto s = makeStation("cart1", config::StationKind::kPick);
  EXPECT_EQ(s->view().step, Step::kScanBin);
  scan(*s, "09506000134352");
  EXPECT_EQ(last(*s).reason, "not_expected_now");
  scan(*s, "A-01");
  EXPECT_EQ(s->view().step, Step::kScanItem);
  scan(*s, "]C1010950600013435210LOT7\x1d" "17270131");
  scan(*s, "CMD:QTY:2");
  auto done = ofType("pick.confirmed");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["data"]["qty"], 2);
  EXPECT_EQ(done[0]["data"]["lot"], "LOT7");
  EXPECT_EQ(done[0]["data"]["expiry"], "2027-01-31");
  EXPECT_EQ(ofType("task.started").size(), 1u);
  EXPECT_EQ(ofType("scan.rejected").size(), 1u);  // every refusal on record
  EXPECT_EQ(s->view().step, Step::kIdle);
}

TEST_F(Pick, ResumesAtTheCountWithTheLotOfTheLastItem) {
  assign({pickJson("T-1", "A-01", 3)});
  {
    auto s = makeStation("cart1", config::StationKind::kPick);
    scan(*s, "A-01");
    scan(*s, "]C1010950600013435210LOT9");
  }
  reopen();
  auto s = makeStation("cart1", config::StationKind::kPick);
  EXPECT_EQ(s->view().step, Step::kScanItem);
  EXPECT_EQ(s->view().task->qtyDone, 1);
  scan(*s, "CMD:QTY:3");
  auto done = ofType("pick.confirmed");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["data"]["lot"], "LOT9");
  EXPECT_EQ(ofType("task.started").size(), 1u);
}

TEST_F(Pick, ASecondCartIsRefusedTheClaimedTaskAndMovesOn) {
  assign({pickJson("T-1", "A-01", 1), pickJson("T-2", "A-02", 1)});
  auto a = makeStation("cart1", config::StationKind::kPick);
  auto b = makeStation("cart2", config::StationKind::kPick);
  ASSERT_EQ(a->view().task->taskId, "T-1");
  ASSERT_EQ(b->view().task->taskId, "T-1");
  scan(*a, "A-01");
  scan(*b, "A-01");  // b's screen still showed T-1
  EXPECT_FALSE(last(*b).accepted);
  EXPECT_EQ(last(*b).reason, "not_expected_now");
  EXPECT_EQ(b->view().task->taskId, "T-2");
  EXPECT_EQ(ofType("task.started").size(), 1u);
  EXPECT_EQ(ofType("scan.rejected").size(), 1u);
}

TEST_F(Pick, ShortPickAndBadQuantity) {
  assign({pickJson("T-1", "A-01", 4)});
  auto s = makeStation("cart1", config::StationKind::kPick);
  scan(*s, "CMD:SHORT");
  EXPECT_EQ(last(*s).reason, "not_expected_now");
  scan(*s, "A-01");
  scan(*s, "CMD:QTY:9");
  EXPECT_EQ(last(*s).reason, "bad_quantity");
  scan(*s, "09506000134352");
  scan(*s, "CMD:SHORT");
  auto sh = ofType("pick.short");
  ASSERT_EQ(sh.size(), 1u);
  EXPECT_EQ(sh[0]["data"]["qty_picked"], 1);
  EXPECT_EQ(sh[0]["data"]["qty_missing"], 3);
}

}  // namespace
}  // namespace floorlink::agent::testing
