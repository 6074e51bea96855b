#pragma once
// Pure frame parsers of the scale protocols: bytes in, values or a precise
// error out. No I/O, no clocks: table-tested from the manuals and fuzzed.
#include <cstdint>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "drivers/scale/reading.h"

namespace floorlink::drivers {

// Cuts a byte stream into frames that end with any of the `terminators`
// bytes (dropped; empty frames are skipped). A frame longer than `maxLength`
// is cut and reported as overlong, so a babbling device cannot grow memory.
class FrameSplitter {
 public:
  struct Frame {
    std::string bytes;
    bool overlong = false;  // bytes holds the first maxLength bytes only
  };
  FrameSplitter(std::string terminators, size_t maxLength)
      : terminators_(std::move(terminators)), max_(maxLength) {}
  // Appends bytes and moves every complete frame into `out`.
  void feed(std::span<const uint8_t> bytes, std::vector<Frame>& out);
  void clear() { buffer_.clear(); discarding_ = false; }
  size_t pending() const { return buffer_.size(); }

 private:
  std::string terminators_;
  size_t max_;
  std::string buffer_;
  bool discarding_ = false;
};

// Printable form of raw bytes for logs and errors: "<STX>?A<CR>".
std::string printable(std::string_view bytes, size_t maxLength = 64);

// ---------------------------------------------------------------- MT-SICS
// One response line without its CR LF, e.g. "S S      12.34 g", "Z A", "ES".
struct MtSicsReply {
  std::string command;     // "S", "SI", "Z", "T", "TA", "TAC", "I4", "ES", "ET", "EL", ...
  char status = 0;         // 'S', 'D', 'A', 'B', 'I', 'L', '+', '-'; 0 for ES/ET/EL
  std::string value;       // weight or text as sent ("12.34"), empty when none
  std::string unit;        // "g", "kg", ... empty when none
  std::optional<int64_t> grams;  // value converted when a weight with a known unit
};
Result<MtSicsReply> parseMtSicsLine(std::string_view line);

// ---------------------------------------------------------------- Toledo 8217
// The text between <STX> and <CR>: a weight "0WW.WW" / "WW.WWW" (an "N" suffix
// marks net weight) or "?" followed by the status byte.
struct Toledo8217Status {
  uint8_t raw = 0;               // parity bit removed
  bool motion = false;           // bit 0
  bool overCapacity = false;     // bit 1
  bool underZero = false;        // bit 2
  bool outsideZeroRange = false; // bit 3
  bool centerOfZero = false;     // bit 4
  bool net = false;              // bit 5
  std::string describe() const;  // "motion, over capacity"; "ok" when no flag
};
struct Toledo8217Reply {
  std::optional<Toledo8217Status> status;  // a status record
  std::string weight;                      // a weight record, as sent (without N)
  bool net = false;
  int decimals = 0;
};
Result<Toledo8217Reply> parseToledo8217Frame(std::string_view frame);
// The unit of a weight record: the 8217 format carries none; without a
// configured unit two decimals mean lb and three mean kg, as in the manual.
Result<int64_t> toledo8217Grams(const Toledo8217Reply& reply, std::optional<WeightUnit> unit);

// ---------------------------------------------------------------- NCI
// One response from <LF> up to (not including) <ETX>:
//   "\n  1.25lb\r\n00\r" (weight + status), "\n00\r" (status), "\n?\r" (bad command)
struct NciStatus {
  uint8_t byte1 = 0x30, byte2 = 0x30;  // parity bit removed
  // byte 1
  bool motion = false, atZero = false, ramError = false, eepromError = false;
  // byte 2
  bool underCapacity = false, overCapacity = false, romError = false, calibrationError = false;
  bool anyError() const { return ramError || eepromError || romError || calibrationError; }
  std::string describe() const;
};
struct NciReply {
  bool unrecognised = false;   // the scale answered "?": it did not understand the command
  std::string weight;          // as sent, without unit, empty for a status-only reply
  std::string unit;
  std::optional<int64_t> grams;
  std::optional<NciStatus> status;
};
Result<NciReply> parseNciFrame(std::string_view frame);

// ---------------------------------------------------------------- HID POS
// Scale data report of usage page 0x8D. Vendor differences are data.
struct HidScaleQuirk {
  std::string_view name;
  uint16_t vendorId = 0, productId = 0;  // 0: matches any (by name only)
  bool hasReportId = true;               // the report starts with the report id
  uint8_t reportId = 3;                  // Scale Data report id
  size_t reportSize = 6;                 // bytes including the report id when present
  bool bigEndianWeight = false;
  std::string_view note;                 // what is special, for docs and logs
};
// The built-in quirk table (docs/scales.md lists it).
std::span<const HidScaleQuirk> hidScaleQuirks();
const HidScaleQuirk* findHidScaleQuirk(std::string_view name);
const HidScaleQuirk* findHidScaleQuirk(uint16_t vendorId, uint16_t productId);

enum class HidScaleStatus : uint8_t {
  kFault = 1,
  kStableAtZero = 2,
  kInMotion = 3,
  kWeightStable = 4,
  kUnderZero = 5,
  kOverWeightLimit = 6,
  kRequiresCalibration = 7,
  kRequiresRezeroing = 8,
};
struct HidScaleReport {
  HidScaleStatus status = HidScaleStatus::kFault;
  uint8_t unitCode = 0;  // 2 = g, 3 = kg, 11 = oz, 12 = lb, 1 = mg
  int8_t exponent = 0;
  uint16_t rawWeight = 0;
  int64_t grams = 0;     // rawWeight * 10^exponent in unit, converted; negative when under zero
};
Result<HidScaleReport> parseHidScaleReport(std::span<const uint8_t> report, const HidScaleQuirk& quirk);

// ---------------------------------------------------------------- continuous
// A frame pattern: an ECMAScript regex with named parts (?<weight>...)
// (required), (?<unit>...), (?<sign>...), (?<status>...). Status texts are
// mapped by the lists given (comma separated).
struct ContinuousFormat {
  std::string pattern;
  std::optional<WeightUnit> unit;   // used when the pattern has no unit part
  std::vector<std::string> stable{"ST", "S"};
  std::vector<std::string> motion{"US", "D", "M"};
  std::vector<std::string> overload{"OL", "+"};
  std::vector<std::string> underload{"UL", "-"};
};
class ContinuousParser {
 public:
  static Result<ContinuousParser> create(ContinuousFormat format);
  // One frame (a line without its terminator).
  Result<Reading> parse(std::string_view frame) const;

 private:
  ContinuousParser() = default;
  ContinuousFormat format_;
  std::regex regex_;
  int weight_ = 0, unit_ = 0, sign_ = 0, status_ = 0;  // group numbers, 0: absent
};

}  // namespace floorlink::drivers
