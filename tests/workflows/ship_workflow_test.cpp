// ShipWorkflow over a real store: one step per parcel, door assignment.
#include "tests/workflows/workflow_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Ship = WorkflowTest;

TEST_F(Ship, KnownParcelsAreLoadedOnceAndOthersRefused) {
  assign({{{"task_id", "S-1"}, {"kind", "ship"}, {"order_id", "O-1"}, {"tracking", "1ZA"}, {"door", "D3"}},
          {{"task_id", "S-2"}, {"kind", "ship"}, {"order_id", "O-2"}, {"tracking", "1ZB"}, {"station", "door2"}}});
  auto s = makeStation("door1", config::StationKind::kShip);
  EXPECT_EQ(s->view().step, Step::kScanParcel);
  scan(*s, "1ZA");
  ASSERT_EQ(ofType("ship.confirmed").size(), 1u);
  EXPECT_EQ(ofType("ship.confirmed")[0]["data"]["door"], "D3");
  scan(*s, "1ZA");
  EXPECT_EQ(last(*s).reason, "unknown_code");
  scan(*s, "1ZB");  // another door's parcel
  EXPECT_EQ(last(*s).reason, "unknown_code");
  scan(*s, "CMD:DONE");
  EXPECT_EQ(last(*s).reason, "unknown_code");
  EXPECT_EQ(ofType("ship.confirmed").size(), 1u);
  EXPECT_EQ(ofType("scan.rejected").size(), 3u);
  EXPECT_EQ((*store_->findTask("S-1"))->state, TaskState::kDone);
  EXPECT_EQ((*store_->findTask("S-1"))->claimedBy, "door1");
}

}  // namespace
}  // namespace floorlink::agent::testing
