#pragma once
// Parses and validates commands on a thread of its own, so a 6.7 MiB
// wave.assign does not hold the event loop (and every station) while it is
// read. The typed result is posted back to the loop, in submission order.
// The worker touches nothing but the payload: no store, no sync state.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/event_loop.h"
#include "sync/command_parser.h"

namespace floorlink::sync {

class CommandWorker {
 public:
  using Done = std::function<void(ParsedMessage parsed)>;

  CommandWorker(EventLoop& loop, ParserLimits limits);
  // Joins the thread. Results not delivered yet are dropped: a `done` never
  // runs after the worker is destroyed.
  ~CommandWorker();
  CommandWorker(const CommandWorker&) = delete;
  CommandWorker& operator=(const CommandWorker&) = delete;

  // Loop thread. `done` runs on the loop thread.
  void submit(std::string payload, Done done);

 private:
  void run();

  EventLoop& loop_;
  ParserLimits limits_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, Done>> queue_;
  bool stopping_ = false;
  // Read and cleared on the loop thread only (posted callbacks check it).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::thread thread_;
};

}  // namespace floorlink::sync
