#include "core/loop_bound.h"

#include "tests/core/make_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace floorlink {
namespace {

using namespace std::chrono_literals;

using testing::makeLoop;

TEST(LoopBound, PostedCallbackRunsWhileOwnerLives) {
  auto loop = makeLoop();
  LoopBound bound(*loop);
  int runs = 0;
  bound.post([&] { ++runs; });
  ASSERT_TRUE(loop->runFor(20ms));
  EXPECT_EQ(runs, 1);
}

TEST(LoopBound, CallbackPostedBeforeOwnerDiesDoesNotRun) {
  auto loop = makeLoop();
  int runs = 0;
  {
    LoopBound bound(*loop);
    bound.post([&] { ++runs; });
    auto wrapped = bound.bind([&](int n) { runs += n; });
    loop->addTimer(1ms, [wrapped]() mutable { wrapped(5); });
  }
  ASSERT_TRUE(loop->runFor(20ms));
  EXPECT_EQ(runs, 0);
}

TEST(LoopBound, PosterFromAnotherThreadOutlivesOwnerSafely) {
  auto loop = makeLoop();
  std::atomic<int> runs{0};
  auto bound = std::make_unique<LoopBound>(*loop);
  LoopPoster poster = bound->poster();
  std::thread worker([&] {
    for (int i = 0; i < 100; ++i) poster.post([&] { ++runs; });
  });
  worker.join();
  ASSERT_TRUE(loop->runFor(20ms));
  EXPECT_EQ(runs.load(), 100);
  bound.reset();
  std::thread late([&] { poster.post([&] { ++runs; }); });
  late.join();
  ASSERT_TRUE(loop->runFor(20ms));
  EXPECT_EQ(runs.load(), 100);  // the owner is gone: nothing more runs
}

TEST(LoopBound, InvalidateDropsWhatWasPostedBefore) {
  auto loop = makeLoop();
  LoopBound bound(*loop);
  int runs = 0;
  bound.post([&] { runs += 1; });
  bound.invalidate();
  bound.post([&] { runs += 10; });
  ASSERT_TRUE(loop->runFor(20ms));
  EXPECT_EQ(runs, 10);
}

TEST(LoopBoundDeathTest, LoopOnlyApiOffTheLoopThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto loop = makeLoop();
        std::thread runner([&] { (void)loop->runFor(2000ms); });
        std::this_thread::sleep_for(50ms);
        loop->addTimer(1ms, [] {});  // the test thread, while the loop runs elsewhere
        runner.join();
      },
      "loop-only API called off the event-loop thread at .*event_loop.cpp.*addTimer");
}

TEST(LoopBound, AnyThreadMayCallWhileTheLoopIsNotRunning) {
  auto loop = makeLoop();
  std::thread setup([&] { loop->addTimer(1ms, [&] { loop->stop(); }); });
  setup.join();
  ASSERT_TRUE(loop->run());
  EXPECT_TRUE(loop->isLoopThread());
}

}  // namespace
}  // namespace floorlink
