// PackWorkflow over a real store with a FakeScale: weighing, tolerance,
// the platter guard, and resuming without weighing again.
#include "tests/workflows/workflow_test_support.h"
#include "agent/commands/commands.h"

namespace floorlink::agent::testing {
namespace {

using Pack = WorkflowTest;

TEST_F(Pack, OutOfToleranceThenReweighThenNoPrinterSaysCallATechnician) {
  assign({packJson("P-1", 1000, 20)});
  auto s = makeStation("pack1", config::StationKind::kPack, true);
  EXPECT_EQ(s->view().step, Step::kScanOrder);
  scan(*s, "CMD:REWEIGH");
  EXPECT_EQ(last(*s).reason, "not_expected_now");
  scan(*s, "O-P-404");
  EXPECT_EQ(last(*s).reason, "unknown_code");
  scan(*s, "O-P-1");
  EXPECT_EQ(s->view().step, Step::kWeighing);
  ASSERT_TRUE(scale_.settle(1300));
  EXPECT_EQ(s->view().step, Step::kOutOfTolerance);
  EXPECT_NE(s->view().message.find("280 g over"), std::string::npos);
  scan(*s, "CMD:REWEIGH");
  scale_.reading(1010);  // the box changed
  ASSERT_TRUE(scale_.settle(1010));
  auto w = ofType("pack.weighed");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1]["data"]["gross_g"], 1010);
  EXPECT_EQ(s->view().step, Step::kPrintProblem);
  EXPECT_NE(s->view().prompt.find("technician"), std::string::npos);
}

TEST_F(Pack, ARestartNeverWeighsTheBoxAgain) {
  assign({packJson("P-1", 1000, 20)});
  {
    auto s = makeStation("pack1", config::StationKind::kPack, true);
    scan(*s, "O-P-1");
    ASSERT_TRUE(scale_.settle(1500));  // out of tolerance, recorded
  }
  reopen();
  int before = scale_.weighs;
  auto s = makeStation("pack1", config::StationKind::kPack, true);
  EXPECT_EQ(s->view().step, Step::kOutOfTolerance);
  EXPECT_EQ(s->view().weightG, 1500);
  EXPECT_EQ(scale_.weighs, before) << "weighed again after the restart";
  scan(*s, "CMD:OVERRIDE:SUP1");
  auto w = ofType("pack.weighed");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1]["data"]["gross_g"], 1500);  // the recorded weight, not a new one
  EXPECT_EQ(w[1]["data"]["override"]["by"], "SUP1");
  EXPECT_EQ(ofType("task.started").size(), 1u);
}

TEST_F(Pack, ThePlatterMustBeSeenEmptyAfterARestartToo) {
  assign({packJson("P-1", 1000, 20), packJson("P-2", 500, 20)});
  // A box packed (done by hand here: no printer in this harness).
  {
    auto s = makeStation("pack1", config::StationKind::kPack, true);
    StepCommit c;
    c.name = "test:done";
    c.taskId = "P-1";
    c.claim = true;
    c.to = TaskState::kDone;
    c.step = Step::kIdle;
    c.data = {{"platter_must_clear", true}};
    ASSERT_TRUE(s->commitStep(c));
  }
  reopen();
  auto s = makeStation("pack1", config::StationKind::kPack, true);
  scan(*s, "O-P-2");
  EXPECT_EQ(s->view().step, Step::kWeighing);
  EXPECT_NE(s->view().prompt.find("previous box"), std::string::npos);
  EXPECT_FALSE(scale_.weighing()) << "weighing before the platter was seen empty";
  scale_.reading(1000);  // still the old box
  EXPECT_FALSE(scale_.weighing());
  scale_.reading(0);
  EXPECT_TRUE(scale_.weighing());
  auto pos = store_->position("pack1");
  ASSERT_TRUE(pos && *pos);
  EXPECT_EQ(nlohmann::json::parse((*pos)->dataJson)["platter_must_clear"], false);
}

TEST_F(Pack, ACancelledTaskStopsTheBench) {
  assign({packJson("P-1", 1000, 20)});
  auto s = makeStation("pack1", config::StationKind::kPack, true);
  scan(*s, "O-P-1");
  auto r = Commands(*store_).apply(taskCancel("c-x", "P-1", "customer"));
  ASSERT_TRUE(r);
  s->onTaskChanged(TaskChange{"P-1", "W-c-1", "pack1", TaskState::kActive, TaskState::kCancelled});
  EXPECT_EQ(s->view().step, Step::kIdle);
  EXPECT_NE(s->view().message.find("cancelled by the OMS (customer)"), std::string::npos);
  EXPECT_FALSE(scale_.settle(1000) && !ofType("pack.weighed").empty()) << "a cancelled box was weighed";
}

}  // namespace
}  // namespace floorlink::agent::testing
