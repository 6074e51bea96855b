#pragma once
// The one lifetime primitive for work posted to the event loop, and the
// thread-affinity check of loop-only APIs (after libcamera's Object and
// assertThreadBound).
//
// Ownership: an object that lives on the loop thread holds a LoopBound as
// its LAST member, so it is destroyed first and no callback posted for the
// object runs once the object's other members are being torn down. A
// callback wrapped by bind() or posted by post() runs only while the
// LoopBound lives; since both the check and the destruction happen on the
// loop thread, a callback that passes the check runs with its owner alive.
//
// Threads: bind(), post(), assertLoopThread() and destruction are loop-only
// (asserted). A library thread (Paho, libusb worker) gets a LoopPoster on the
// loop thread beforehand and posts through it: the poster holds only a weak
// reference, so it may outlive the owner.
#include <memory>
#include <source_location>
#include <utility>

#include "core/event_loop.h"

namespace floorlink {

// Copyable; post() may be called on any thread.
class LoopPoster {
 public:
  LoopPoster() = default;
  // Runs the callback on the loop if the owner still lives when it comes up.
  void post(EventLoop::Callback callback) const {
    if (loop_ == nullptr) return;
    loop_->post([alive = alive_, callback = std::move(callback)] {
      if (!alive.expired()) callback();
    });
  }

 private:
  friend class LoopBound;
  LoopPoster(EventLoop* loop, std::weak_ptr<void> alive) : loop_(loop), alive_(std::move(alive)) {}
  EventLoop* loop_ = nullptr;
  std::weak_ptr<void> alive_;
};

class LoopBound {
 public:
  explicit LoopBound(EventLoop& loop) : loop_(loop), alive_(std::make_shared<char>(0)) {}
  ~LoopBound() { assertLoopThread(); }
  LoopBound(const LoopBound&) = delete;
  LoopBound& operator=(const LoopBound&) = delete;

  EventLoop& loop() const { return loop_; }

  void assertLoopThread(std::source_location where = std::source_location::current()) const {
    loop_.assertLoopThread(where);
  }

  // Wraps a callback (fd watch, timer, Paho completion posted back) so it
  // does nothing once the owner is gone. The wrapper must run on the loop.
  template <class F>
  auto bind(F f, std::source_location where = std::source_location::current()) const {
    assertLoopThread(where);
    return [alive = std::weak_ptr<void>(alive_), f = std::move(f)](auto&&... args) mutable {
      if (!alive.expired()) f(std::forward<decltype(args)>(args)...);
    };
  }

  void post(EventLoop::Callback callback,
            std::source_location where = std::source_location::current()) const {
    poster(where).post(std::move(callback));
  }

  // For a library thread: take this on the loop thread, post from anywhere.
  LoopPoster poster(std::source_location where = std::source_location::current()) const {
    assertLoopThread(where);
    return LoopPoster(&loop_, alive_);
  }

  // Taken before calling out (a data handler): expired() afterwards says the
  // callee closed (invalidate()) or destroyed the owner, so touch nothing.
  class Token {
   public:
    bool expired() const { return alive_.expired(); }

   private:
    friend class LoopBound;
    explicit Token(std::weak_ptr<void> alive) : alive_(std::move(alive)) {}
    std::weak_ptr<void> alive_;
  };
  Token token() const { return Token(alive_); }

  // Drops every callback posted so far and not yet run (a transport that
  // closes and reopens), without destroying the owner.
  void invalidate(std::source_location where = std::source_location::current()) {
    assertLoopThread(where);
    alive_ = std::make_shared<char>(0);
  }

 private:
  EventLoop& loop_;
  std::shared_ptr<void> alive_;
};

}  // namespace floorlink
