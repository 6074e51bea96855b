#include <gtest/gtest.h>

#include "drivers/scale/stability.h"

namespace floorlink::drivers {
namespace {

using std::chrono::milliseconds;
using Verdict = StabilityTracker::Verdict;

Reading reading(int64_t grams, WeightStatus status, int atMs, bool net = false) {
  Reading r;
  r.grams = grams;
  r.status = status;
  r.net = net;
  r.at = std::chrono::steady_clock::time_point{} + milliseconds{atMs};
  return r;
}

TEST(Stability, AcceptsAfterNEqualStableReadings) {
  StabilityTracker t({.readings = 3, .window = milliseconds{0}, .minGrams = 1});
  EXPECT_EQ(t.add(reading(1200, WeightStatus::kMotion, 0)).verdict, Verdict::kWait);
  EXPECT_EQ(t.add(reading(1234, WeightStatus::kStable, 100)).verdict, Verdict::kWait);
  EXPECT_EQ(t.add(reading(1234, WeightStatus::kStable, 200)).verdict, Verdict::kWait);
  auto o = t.add(reading(1234, WeightStatus::kStable, 300));
  ASSERT_EQ(o.verdict, Verdict::kAccept);
  EXPECT_EQ(o.weight.grams, 1234);
  EXPECT_EQ(o.weight.readings, 3);
  EXPECT_EQ(o.weight.stableFor, milliseconds{200});
}

TEST(Stability, AnyChangeStartsOver) {
  StabilityTracker t({.readings = 2, .window = milliseconds{0}, .minGrams = 1});
  t.add(reading(500, WeightStatus::kStable, 0));
  EXPECT_EQ(t.add(reading(501, WeightStatus::kStable, 100)).verdict, Verdict::kWait);  // weight changed
  EXPECT_EQ(t.add(reading(501, WeightStatus::kMotion, 200)).verdict, Verdict::kWait);  // motion
  EXPECT_EQ(t.add(reading(501, WeightStatus::kStable, 300)).verdict, Verdict::kWait);
  EXPECT_EQ(t.add(reading(501, WeightStatus::kStable, 400, true)).verdict, Verdict::kWait);  // net now
  EXPECT_EQ(t.add(reading(501, WeightStatus::kStable, 500, true)).verdict, Verdict::kAccept);
}

TEST(Stability, WindowMode) {
  StabilityTracker t({.readings = 100, .window = milliseconds{500}, .minGrams = 1});
  EXPECT_EQ(t.add(reading(800, WeightStatus::kStable, 0)).verdict, Verdict::kWait);
  EXPECT_EQ(t.add(reading(800, WeightStatus::kStable, 499)).verdict, Verdict::kWait);
  auto o = t.add(reading(800, WeightStatus::kStable, 500));
  ASSERT_EQ(o.verdict, Verdict::kAccept);
  EXPECT_EQ(o.weight.readings, 3);
}

TEST(Stability, UnknownStatusCountsAsStableWhenRepeated) {
  StabilityTracker t({.readings = 2, .window = milliseconds{0}, .minGrams = 1});
  t.add(reading(42, WeightStatus::kUnknown, 0));
  EXPECT_EQ(t.add(reading(42, WeightStatus::kUnknown, 10)).verdict, Verdict::kAccept);
}

TEST(Stability, EmptyScaleIsNotAWeight) {
  StabilityTracker t({.readings = 2, .window = milliseconds{0}, .minGrams = 5});
  t.add(reading(4, WeightStatus::kStable, 0));
  EXPECT_EQ(t.add(reading(4, WeightStatus::kStable, 10)).verdict, Verdict::kWait);
  EXPECT_NE(t.waitingFor().find("nothing on the scale"), std::string::npos);
}

TEST(Stability, RejectsPersistentOverloadUnderloadAndNegative) {
  for (auto [r, text] : {std::pair{reading(0, WeightStatus::kOverload, 0), "over capacity"},
                         std::pair{reading(0, WeightStatus::kUnderload, 0), "under zero"},
                         std::pair{reading(-20, WeightStatus::kStable, 0), "negative"}}) {
    StabilityTracker t({.readings = 2, .window = milliseconds{0}, .minGrams = 1});
    EXPECT_EQ(t.add(r).verdict, Verdict::kWait);
    r.at += milliseconds{100};
    auto o = t.add(r);
    ASSERT_EQ(o.verdict, Verdict::kReject) << text;
    EXPECT_EQ(o.error.code, ErrorCode::kFault);
    EXPECT_NE(o.error.message.find(text), std::string::npos) << o.error.message;
  }
}

TEST(Stability, WaitingForSaysWhat) {
  StabilityTracker t({.readings = 3, .window = milliseconds{0}, .minGrams = 1});
  EXPECT_EQ(t.waitingFor(), "the scale sent no reading");
  t.add(reading(1500, WeightStatus::kMotion, 0));
  EXPECT_EQ(t.waitingFor(), "the weight is still moving (last 1500 g)");
  t.add(reading(1500, WeightStatus::kStable, 10));
  EXPECT_NE(t.waitingFor().find("not stable long enough"), std::string::npos);
  t.reset();
  EXPECT_TRUE(t.empty());
}

}  // namespace
}  // namespace floorlink::drivers
