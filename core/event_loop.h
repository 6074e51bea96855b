#pragma once
// One event-loop thread owns devices, workflows and the database. Library
// threads (Paho, libusb) never touch that state: they post() work here.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <source_location>
#include <thread>
#include <vector>

#include "core/error.h"

namespace floorlink {

enum class IoEvent : uint32_t {
  kRead = 1u << 0,
  kWrite = 1u << 1,
  kHangup = 1u << 2,  // reported only; peer closed or device removed
  kError = 1u << 3,   // reported only
};
constexpr uint32_t operator|(IoEvent a, IoEvent b) {
  return static_cast<uint32_t>(a) | static_cast<uint32_t>(b);
}
constexpr bool has(uint32_t mask, IoEvent e) { return (mask & static_cast<uint32_t>(e)) != 0; }

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using IoCallback = std::function<void(uint32_t events)>;
  using WatchId = uint64_t;
  using TimerId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only. The fd stays owned by the caller; unwatch before closing it.
  Result<WatchId> watchFd(int fd, uint32_t events, IoCallback callback);
  Status modifyFd(WatchId id, uint32_t events);
  void unwatchFd(WatchId id);

  // Loop thread only. A period of zero makes a one-shot timer.
  TimerId addTimer(std::chrono::milliseconds delay, Callback callback,
                   std::chrono::milliseconds period = std::chrono::milliseconds{0});
  void cancelTimer(TimerId id);

  // Handles a signal on the loop (the signal is blocked for the whole process:
  // call before starting other threads so they inherit the mask).
  Status watchSignal(int signo, Callback callback);

  // Any thread. Runs the callback on the loop thread, in posting order.
  void post(Callback callback);

  // Runs until stop(). Returns an error only if epoll itself fails.
  Status run();
  // Runs ready work and returns after at most `budget` (tests).
  Status runFor(std::chrono::milliseconds budget);
  // Any thread.
  void stop();

  // True on the thread inside run()/runFor(), and on any thread while the
  // loop is not running (set-up and tear-down hand the whole loop over).
  bool isLoopThread() const;
  // Aborts with the caller's file and line when called off the loop thread:
  // every loop-only API starts with it (libcamera's assertThreadBound).
  void assertLoopThread(std::source_location where = std::source_location::current()) const;

 private:
  class RunScope;
  EventLoop(int epollFd, int wakeFd);
  Status runOnce(int timeoutMs);
  int nextTimeoutMs() const;
  void runDueTimers();
  void drainPosts();

  struct Watch {
    int fd;
    IoCallback callback;
  };
  struct Timer {
    std::chrono::steady_clock::time_point due;
    std::chrono::milliseconds period;
    Callback callback;
  };

  int epollFd_;
  int wakeFd_;
  int signalFd_ = -1;
  WatchId nextWatchId_ = 1;
  TimerId nextTimerId_ = 1;
  std::map<WatchId, Watch> watches_;
  std::multimap<std::chrono::steady_clock::time_point, TimerId> timerQueue_;
  std::map<TimerId, Timer> timers_;
  std::map<int, Callback> signals_;
  std::mutex postMutex_;
  std::vector<Callback> posted_;
  // The thread inside run()/runFor(); empty while the loop is not running.
  std::atomic<std::thread::id> loopThread_{};
  bool stopping_ = false;  // guarded by postMutex_ when set from other threads
};

}  // namespace floorlink
