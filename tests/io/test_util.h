#pragma once
#include <chrono>
#include <functional>
#include <thread>
#include <span>
#include <string_view>

#include "config/loader.h"
#include "core/event_loop.h"

namespace floorlink::io::testing {

// Runs the loop until `done` or the deadline; true if `done`.
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    (void)loop.runFor(std::chrono::milliseconds(5));
  }
  return true;
}

// Waits (without a loop) for something another thread does.
inline bool waitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline std::span<const uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace floorlink::io::testing
