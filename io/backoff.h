#pragma once
// Reconnect delays of a device: min, then doubling up to max; reset() after
// a successful open starts over at min.
#include <algorithm>
#include <chrono>

namespace floorlink::io {

class Backoff {
 public:
  static constexpr std::chrono::milliseconds kDefaultMin{500};
  static constexpr std::chrono::milliseconds kDefaultMax{30000};

  Backoff(std::chrono::milliseconds min = kDefaultMin, std::chrono::milliseconds max = kDefaultMax)
      : min_(min), max_(std::max(min, max)) {}

  // The delay before the next attempt.
  std::chrono::milliseconds next() {
    next_ = next_.count() == 0 ? min_ : std::min(next_ * 2, max_);
    return next_;
  }
  void reset() { next_ = std::chrono::milliseconds{0}; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds next_{0};
};

}  // namespace floorlink::io
