#pragma once
// Time behind an interface so tests can drive it.
#include <chrono>
#include <cstdint>

namespace floorlink {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, Unix milliseconds UTC (the contract's time unit).
  virtual int64_t nowMs() const = 0;
  // Monotonic clock for timeouts and latency.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t nowMs() const override;
  std::chrono::steady_clock::time_point steadyNow() const override;
};

// Manually advanced clock for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t startMs = 1763780000000) : wallMs_(startMs) {}
  int64_t nowMs() const override { return wallMs_; }
  std::chrono::steady_clock::time_point steadyNow() const override { return steady_; }
  void advance(std::chrono::milliseconds by) {
    wallMs_ += by.count();
    steady_ += by;
  }

 private:
  int64_t wallMs_;
  std::chrono::steady_clock::time_point steady_{};
};

}  // namespace floorlink
