#include "core/event_loop.h"

#include "tests/core/make_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace floorlink {
namespace {

using namespace std::chrono_literals;

using testing::makeLoop;

TEST(EventLoop, OneShotTimersFireInDeadlineOrder) {
  auto loop = makeLoop();
  std::vector<int> order;
  loop->addTimer(30ms, [&] { order.push_back(3); loop->addTimer(0ms, [&] { order.push_back(4); loop->stop(); }); });
  loop->addTimer(10ms, [&] { order.push_back(1); });
  loop->addTimer(20ms, [&] { order.push_back(2); });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(EventLoop, PeriodicTimerRepeatsUntilCancelled) {
  auto loop = makeLoop();
  int ticks = 0;
  EventLoop::TimerId id = 0;
  id = loop->addTimer(1ms, [&] {
    if (++ticks == 5) {
      loop->cancelTimer(id);
      loop->addTimer(20ms, [&] { loop->stop(); });
    }
  }, 1ms);
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(ticks, 5);
}

TEST(EventLoop, CancelledTimerNeverFires) {
  auto loop = makeLoop();
  bool fired = false;
  auto id = loop->addTimer(5ms, [&] { fired = true; });
  loop->cancelTimer(id);
  loop->addTimer(20ms, [&] { loop->stop(); });
  ASSERT_TRUE(loop->run());
  EXPECT_FALSE(fired);
}

TEST(EventLoop, PostsFromOtherThreadsRunOnTheLoopThreadInOrder) {
  auto loop = makeLoop();
  constexpr int kThreads = 4, kPerThread = 1000;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> done{0};
  std::atomic<bool> wrongThread{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        loop->post([&, t, i] {
          if (!loop->isLoopThread()) wrongThread = true;
          seen[t].push_back(i);
          if (++done == kThreads * kPerThread) loop->stop();
        });
      }
    });
  }
  ASSERT_TRUE(loop->run());
  for (auto& th : threads) th.join();
  EXPECT_FALSE(wrongThread);
  for (auto& s : seen) {
    ASSERT_EQ(s.size(), size_t{kPerThread});
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(s[i], i);  // per-thread order kept
  }
}

TEST(EventLoop, FdWatchDeliversReadableAndHangup) {
  auto loop = makeLoop();
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  std::string got;
  bool hangup = false;
  EventLoop::WatchId id = 0;
  auto watch = loop->watchFd(fds[0], static_cast<uint32_t>(IoEvent::kRead), [&](uint32_t ev) {
    char buf[64];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    if (has(ev, IoEvent::kHangup) || n == 0) {
      hangup = true;
      loop->unwatchFd(id);
      loop->stop();
    }
  });
  ASSERT_TRUE(watch.has_value());
  id = *watch;
  std::thread writer([&] {
    ASSERT_EQ(::write(fds[1], "hello", 5), 5);
    std::this_thread::sleep_for(10ms);
    ::close(fds[1]);
  });
  ASSERT_TRUE(loop->run());
  writer.join();
  ::close(fds[0]);
  EXPECT_EQ(got, "hello");
  EXPECT_TRUE(hangup);
}

TEST(EventLoop, SignalStopsTheLoopCleanly) {
  auto loop = makeLoop();
  bool handled = false;
  ASSERT_TRUE(loop->watchSignal(SIGUSR1, [&] {
    handled = true;
    loop->stop();
  }));
  std::thread sender([] {
    std::this_thread::sleep_for(20ms);
    ::kill(::getpid(), SIGUSR1);
  });
  ASSERT_TRUE(loop->run());
  sender.join();
  EXPECT_TRUE(handled);
}

TEST(EventLoop, StopFromAnotherThread) {
  auto loop = makeLoop();
  std::thread stopper([&] {
    std::this_thread::sleep_for(10ms);
    loop->stop();
  });
  ASSERT_TRUE(loop->run());  // returns instead of hanging
  stopper.join();
}

TEST(EventLoop, RunForReturnsAfterBudget) {
  auto loop = makeLoop();
  int ticks = 0;
  loop->addTimer(1ms, [&] { ++ticks; }, 1ms);
  ASSERT_TRUE(loop->runFor(30ms));
  EXPECT_GT(ticks, 0);
}

TEST(EventLoop, WatchingABadFdIsAnError) {
  auto loop = makeLoop();
  auto w = loop->watchFd(-1, static_cast<uint32_t>(IoEvent::kRead), [](uint32_t) {});
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace floorlink
