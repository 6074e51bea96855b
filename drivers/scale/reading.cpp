#include "drivers/scale/reading.h"

#include <fmt/format.h>

#include <cctype>

namespace floorlink::drivers {
namespace {

// Grams per unit as an exact fraction.
struct Factor {
  int64_t num;
  int64_t den;
};

Factor factorOf(WeightUnit unit) {
  switch (unit) {
    case WeightUnit::kMilligram: return {1, 1000};
    case WeightUnit::kGram: return {1, 1};
    case WeightUnit::kKilogram: return {1000, 1};
    case WeightUnit::kOunce: return {28'349'523'125, 1'000'000'000};  // 453.59237 g / 16
    case WeightUnit::kPound: return {45'359'237, 100'000};            // 453.59237 g
  }
  return {1, 1};
}

// Anything heavier is a misread, not a parcel.
constexpr int64_t kMaxGrams = 1'000'000'000'000;  // 1000 t

__int128 pow10(int n) {
  __int128 p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

Result<int64_t> roundToGrams(__int128 num, __int128 den) {
  bool negative = num < 0;
  __int128 mag = negative ? -num : num;
  // Nearest gram, halves away from zero.
  __int128 q = (2 * mag + den) / (2 * den);
  if (q > kMaxGrams) {
    return fail(ErrorCode::kParse, "weight out of range (more than 1000 t)");
  }
  return static_cast<int64_t>(negative ? -q : q);
}

}  // namespace

Result<WeightUnit> parseWeightUnit(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "g") return WeightUnit::kGram;
  if (lower == "kg") return WeightUnit::kKilogram;
  if (lower == "lb" || lower == "lbs") return WeightUnit::kPound;
  if (lower == "oz") return WeightUnit::kOunce;
  if (lower == "mg") return WeightUnit::kMilligram;
  return fail(ErrorCode::kParse, "unit \"" + std::string(text) +
                                     "\" is not supported: set the scale to g, kg, lb or oz");
}

std::string_view toString(WeightUnit unit) {
  switch (unit) {
    case WeightUnit::kMilligram: return "mg";
    case WeightUnit::kGram: return "g";
    case WeightUnit::kKilogram: return "kg";
    case WeightUnit::kOunce: return "oz";
    case WeightUnit::kPound: return "lb";
  }
  return "g";
}

std::string_view toString(WeightStatus status) {
  switch (status) {
    case WeightStatus::kStable: return "stable";
    case WeightStatus::kMotion: return "motion";
    case WeightStatus::kOverload: return "overload";
    case WeightStatus::kUnderload: return "underload";
    case WeightStatus::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<int64_t> decimalToGrams(std::string_view decimal, WeightUnit unit) {
  size_t i = 0;
  bool negative = false;
  if (i < decimal.size() && (decimal[i] == '-' || decimal[i] == '+')) {
    negative = decimal[i] == '-';
    ++i;
  }
  __int128 mantissa = 0;
  int digits = 0;
  int fraction = -1;  // digits after the point; -1: no point yet
  for (; i < decimal.size(); ++i) {
    char c = decimal[i];
    if (c == '.') {
      if (fraction >= 0) return fail(ErrorCode::kParse, "weight \"" + std::string(decimal) + "\" has two decimal points");
      fraction = 0;
      continue;
    }
    if (c < '0' || c > '9') {
      return fail(ErrorCode::kParse, "weight \"" + std::string(decimal) + "\" is not a number");
    }
    if (++digits > 15) return fail(ErrorCode::kParse, "weight \"" + std::string(decimal) + "\" has too many digits");
    mantissa = mantissa * 10 + (c - '0');
    if (fraction >= 0) ++fraction;
  }
  if (digits == 0) return fail(ErrorCode::kParse, "weight \"" + std::string(decimal) + "\" has no digits");
  if (negative) mantissa = -mantissa;
  Factor f = factorOf(unit);
  return roundToGrams(mantissa * f.num, pow10(fraction < 0 ? 0 : fraction) * f.den);
}

Result<int64_t> scaledToGrams(int64_t mantissa, int exponent, WeightUnit unit) {
  if (exponent < -9 || exponent > 9) {
    return fail(ErrorCode::kParse, fmt::format("weight exponent {} is out of range", exponent));
  }
  Factor f = factorOf(unit);
  __int128 num = static_cast<__int128>(mantissa) * f.num;
  __int128 den = f.den;
  if (exponent >= 0) {
    num *= pow10(exponent);
  } else {
    den *= pow10(-exponent);
  }
  return roundToGrams(num, den);
}

std::string Reading::describe() const {
  std::string out = weightKnown ? fmt::format("{} g", grams) : std::string("no weight");
  if (!displayed.empty()) out += fmt::format(" ({})", displayed);
  out += ' ';
  out += toString(status);
  if (net) out += " net";
  return out;
}

}  // namespace floorlink::drivers
