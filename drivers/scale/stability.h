#pragma once
// Decides when a run of readings is a weight we can trust. Pure: fed with
// readings (and their timestamps), no timers; the scale driver asks it.
#include <chrono>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "drivers/scale/reading.h"

namespace floorlink::drivers {

struct StabilityCriteria {
  // Accept after this many consecutive equal stable readings...
  int readings = 3;
  // ...or, when > 0 (and then readings is not used), after the same stable
  // weight has been seen over at least this long (two readings at least).
  std::chrono::milliseconds window{0};
  // Stable readings below this are "nothing on the scale" and not accepted.
  int64_t minGrams = 1;
};

class StabilityTracker {
 public:
  enum class Verdict { kWait, kAccept, kReject };
  struct Outcome {
    Verdict verdict = Verdict::kWait;
    Weight weight;  // kAccept
    Error error;    // kReject: kFault with what the packer must do
  };

  explicit StabilityTracker(StabilityCriteria criteria) : criteria_(criteria) {}

  // Adds the next reading (readings must come in time order).
  Outcome add(const Reading& reading);
  // The verdict for the run so far (kWait before any reading).
  Outcome current() const;
  // Why no weight was accepted yet, for timeout messages: "the weight is
  // still moving (last 1234 g)", "nothing on the scale", ...
  std::string waitingFor() const;
  void reset();
  bool empty() const { return count_ == 0; }
  const Reading& last() const { return last_; }
  const StabilityCriteria& criteria() const { return criteria_; }

 private:
  enum class Kind { kCandidate, kEmpty, kMotion, kNoWeight, kOverload, kUnderload, kNegative };
  static Kind classify(const Reading& r, int64_t minGrams);
  bool satisfied() const;

  StabilityCriteria criteria_;
  Kind kind_ = Kind::kMotion;
  int count_ = 0;
  Reading first_;
  Reading last_;
};

}  // namespace floorlink::drivers
