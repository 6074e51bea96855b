#pragma once
// Runs an EventLoop on its own thread so a test or benchmark can block on the
// broker side while the agent side keeps running; call() runs code on the
// loop thread and waits for its result.
#include <future>
#include <memory>
#include <thread>
#include <type_traits>

#include "core/event_loop.h"

namespace floorlink::testing {

class LoopThread {
 public:
  LoopThread() : loop_(std::move(*EventLoop::create())) {
    thread_ = std::thread([this] { (void)loop_->run(); });
  }
  ~LoopThread() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    loop_->stop();
    thread_.join();
  }

  EventLoop& loop() { return *loop_; }

  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    std::packaged_task<R()> task(std::forward<F>(f));
    auto future = task.get_future();
    loop_->post([&task] { task(); });
    return future.get();
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

}  // namespace floorlink::testing
