#include "sync/command_worker.h"

namespace floorlink::sync {

CommandWorker::CommandWorker(EventLoop& loop, ParserLimits limits)
    : loop_(loop), limits_(limits), thread_([this] { run(); }) {}

CommandWorker::~CommandWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  *alive_ = false;
}

void CommandWorker::submit(std::string payload, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(payload), std::move(done));
  }
  wake_.notify_one();
}

void CommandWorker::run() {
  for (;;) {
    std::pair<std::string, Done> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // shared_ptr: the parsed wave is moved once into the posted callback.
    auto parsed = std::make_shared<ParsedMessage>(parseCommand(job.first, limits_));
    job.first.clear();
    job.first.shrink_to_fit();
    loop_.post([alive = alive_, done = std::move(job.second), parsed] {
      if (*alive) done(std::move(*parsed));
    });
  }
}

}  // namespace floorlink::sync
