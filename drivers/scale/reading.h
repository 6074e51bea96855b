#pragma once
// What a scale tells us, in integer grams. Every protocol parser turns its
// frames into a Reading; weigh() turns a run of stable readings into a Weight.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace floorlink::drivers {

enum class WeightUnit { kMilligram, kGram, kKilogram, kOunce, kPound };

// "g", "kg", "lb", "oz", "mg" (case-insensitive; "lbs" accepted).
Result<WeightUnit> parseWeightUnit(std::string_view text);
std::string_view toString(WeightUnit unit);

enum class WeightStatus {
  kStable,     // the scale says the weight is stable
  kMotion,     // the scale says the weight is moving
  kOverload,   // over capacity
  kUnderload,  // under zero / under capacity
  kUnknown,    // the protocol does not say (continuous output without a status part)
};
std::string_view toString(WeightStatus status);

// Conversion to grams is exact rational arithmetic (1 lb = 453.59237 g and
// 1 oz = 28.349523125 g by definition), rounded once to the nearest gram,
// halves away from zero: 0.5 g -> 1 g, -0.5 g -> -1 g, 1 oz -> 28 g, 1 lb -> 454 g.
//
// `decimal` is the number as the scale printed it: optional sign, digits, at
// most one decimal point ("-12.345", "+0012.3", "7."). At most 15 digits.
Result<int64_t> decimalToGrams(std::string_view decimal, WeightUnit unit);
// mantissa * 10^exponent in `unit` (the HID POS form). exponent in [-9, 9].
Result<int64_t> scaledToGrams(int64_t mantissa, int exponent, WeightUnit unit);

struct Reading {
  int64_t grams = 0;         // meaningful only when weightKnown
  bool weightKnown = true;   // false: the scale sent only a status (motion, overload, ...)
  WeightStatus status = WeightStatus::kUnknown;
  bool net = false;          // the scale has a tare and shows net weight
  WeightUnit unit = WeightUnit::kGram;   // the unit the scale sent
  std::string displayed;     // the weight as the scale sent it, e.g. "1.234 kg"
  std::chrono::steady_clock::time_point at{};

  // "1234 g (1.234 kg) stable net"
  std::string describe() const;
};

// A weight weigh() accepted: stable for the configured readings or window.
struct Weight {
  int64_t grams = 0;
  bool net = false;
  WeightUnit unit = WeightUnit::kGram;
  std::string displayed;
  int readings = 0;                     // stable readings in the run that produced it
  std::chrono::milliseconds stableFor{0};  // first to last reading of that run
  std::chrono::steady_clock::time_point at{};  // when the last reading arrived
};

}  // namespace floorlink::drivers
