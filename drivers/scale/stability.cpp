#include "drivers/scale/stability.h"

#include <fmt/format.h>

namespace floorlink::drivers {

StabilityTracker::Kind StabilityTracker::classify(const Reading& r, int64_t minGrams) {
  switch (r.status) {
    case WeightStatus::kOverload: return Kind::kOverload;
    case WeightStatus::kUnderload: return Kind::kUnderload;
    case WeightStatus::kMotion: return Kind::kMotion;
    case WeightStatus::kStable:
    case WeightStatus::kUnknown: break;
  }
  if (!r.weightKnown) return Kind::kNoWeight;
  if (r.grams < 0) return Kind::kNegative;
  if (r.grams < minGrams) return Kind::kEmpty;
  return Kind::kCandidate;
}

StabilityTracker::Outcome StabilityTracker::add(const Reading& reading) {
  Kind k = classify(reading, criteria_.minGrams);
  bool sameRun = count_ > 0 && k == kind_;
  // A candidate run is one weight; any change of weight or net/gross starts over.
  if (sameRun && k == Kind::kCandidate) {
    sameRun = reading.grams == last_.grams && reading.net == last_.net;
  }
  if (sameRun && k == Kind::kNegative) sameRun = reading.grams == last_.grams;
  if (!sameRun) {
    kind_ = k;
    count_ = 0;
    first_ = reading;
  }
  ++count_;
  last_ = reading;
  return current();
}

bool StabilityTracker::satisfied() const {
  if (count_ == 0) return false;
  if (criteria_.window.count() > 0) {
    return count_ >= 2 && last_.at - first_.at >= criteria_.window;
  }
  return count_ >= criteria_.readings;
}

StabilityTracker::Outcome StabilityTracker::current() const {
  Outcome out;
  if (!satisfied()) return out;
  switch (kind_) {
    case Kind::kCandidate:
      out.verdict = Verdict::kAccept;
      out.weight.grams = last_.grams;
      out.weight.net = last_.net;
      out.weight.unit = last_.unit;
      out.weight.displayed = last_.displayed;
      out.weight.readings = count_;
      out.weight.stableFor = std::chrono::duration_cast<std::chrono::milliseconds>(last_.at - first_.at);
      out.weight.at = last_.at;
      return out;
    case Kind::kOverload:
      out.verdict = Verdict::kReject;
      out.error = Error{ErrorCode::kFault, "scale is over capacity (overload): take the load off the platter"};
      return out;
    case Kind::kUnderload:
      out.verdict = Verdict::kReject;
      out.error = Error{ErrorCode::kFault, "scale is under zero (underload): empty the platter and zero the scale"};
      return out;
    case Kind::kNegative:
      out.verdict = Verdict::kReject;
      out.error = Error{ErrorCode::kFault, fmt::format("scale shows a negative weight ({} g): empty the platter and "
                                                       "zero the scale, or clear the tare",
                                                       last_.grams)};
      return out;
    case Kind::kEmpty:
    case Kind::kMotion:
    case Kind::kNoWeight:
      return out;
  }
  return out;
}

std::string StabilityTracker::waitingFor() const {
  if (count_ == 0) return "the scale sent no reading";
  switch (kind_) {
    case Kind::kCandidate:
      return fmt::format("the weight ({} g) was not stable long enough ({} equal stable readings so far)", last_.grams,
                         count_);
    case Kind::kEmpty: return "nothing on the scale (put the parcel on the platter)";
    case Kind::kMotion:
      return last_.weightKnown ? fmt::format("the weight is still moving (last {} g)", last_.grams)
                               : std::string("the weight is still moving");
    case Kind::kNoWeight: return "the scale sends a status but no weight";
    case Kind::kOverload: return "the scale is over capacity (overload)";
    case Kind::kUnderload: return "the scale is under zero (underload)";
    case Kind::kNegative: return fmt::format("the scale shows a negative weight ({} g)", last_.grams);
  }
  return "no stable weight";
}

void StabilityTracker::reset() {
  count_ = 0;
  kind_ = Kind::kMotion;
  first_ = Reading{};
  last_ = Reading{};
}

}  // namespace floorlink::drivers
