#pragma once
// What a scanner read, as a typed value, and the pure functions that get
// there from bytes: framing, AIM symbology identifiers, GS1, classification.
// None of this needs a device (workflows and label verification use it).
#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/gs1.h"

namespace floorlink::drivers {

enum class Symbology {
  kUnknown,  // no AIM identifier transmitted
  kCode128,
  kGs1_128,
  kEan13,    // also UPC-A (transmitted as EAN-13 with a leading 0)
  kEan8,
  kUpcE,
  kCode39,
  kCode93,
  kInterleaved2of5,
  kCodabar,
  kGs1DataBar,
  kDataMatrix,
  kGs1DataMatrix,
  kQrCode,
  kGs1QrCode,
  kPdf417,
  kAztec,
  kOther,    // an AIM identifier we do not name; see ScanValue::aimId
};
std::string_view toString(Symbology symbology);

// "]C1" at the start of `data`: the identifier and its symbology.
struct AimIdentifier {
  std::string id;  // "]C1"; empty when there is none
  Symbology symbology = Symbology::kUnknown;
  bool gs1 = false;  // the symbology carries a GS1 element string (FNC1 first)
};
AimIdentifier parseAimIdentifier(std::string_view data);

enum class ScanKind { kSscc, kGtin, kBinLabel, kCommand, kText };
std::string_view toString(ScanKind kind);

struct ScanValue {
  ScanKind kind = ScanKind::kText;
  std::string raw;       // the frame as read (AIM identifier included), GS as 0x1D
  std::string data;      // without the AIM identifier
  std::string aimId;     // "]C1" or empty
  Symbology symbology = Symbology::kUnknown;
  std::string sscc;      // kSscc: 18 digits
  std::string gtin;      // kGtin: 14 digits (EAN-13/UPC/EAN-8 are zero-padded)
  std::string lot;       // (10)
  std::string serial;    // (21)
  std::optional<gs1::Date> expiry;      // (17)
  std::optional<gs1::Date> bestBefore;  // (15)
  std::optional<int64_t> count;         // (30) or (37)
  std::string bin;       // kBinLabel: the pattern's first group, or the whole data
  std::string command;   // kCommand: the pattern's first group, or the whole data
  std::optional<gs1::ElementString> gs1;  // when the data was a GS1 element string
};

struct ClassifierOptions {
  // ECMAScript regexes matched against the whole data (no AIM identifier).
  // The first capture group, if any, is the bin or command.
  std::string binLabelPattern;  // e.g. "^([A-Z]\\d{2}-\\d{2}-\\d{2})$"
  std::string commandPattern;   // e.g. "^CMD:(.+)$"
};

class ScanClassifier {
 public:
  static Result<ScanClassifier> create(const ClassifierOptions& options);
  ScanClassifier() = default;

  // A frame (prefix and suffix already removed) to a typed value, or a
  // kParse error saying why the read is bad (e.g. a GS1 check digit).
  Result<ScanValue> classify(std::string_view frame) const;

 private:
  std::optional<std::regex> bin_;
  std::optional<std::regex> command_;
};

enum class FrameSuffix { kCr, kLf, kCrLf, kNone };
Result<FrameSuffix> parseFrameSuffix(std::string_view text);  // "cr", "lf", "crlf", "none"

struct FramingOptions {
  std::string prefix;                   // stripped; a frame without it is a bad read
  FrameSuffix suffix = FrameSuffix::kCr;
  size_t fixedLength = 0;               // >0: every N bytes are one frame (suffix kNone)
  std::chrono::milliseconds idleTimeout{0};  // >0: a pause ends a frame (suffix kNone)
  size_t maxFrame = 4096;
};

// Splits a byte stream into frames. Pure; the caller runs the idle timer and
// calls flush() when it fires.
class ScanFramer {
 public:
  explicit ScanFramer(FramingOptions options = {}) : options_(std::move(options)) {}

  // Appends complete frames (or errors for malformed ones) to `out`.
  void feed(std::span<const uint8_t> bytes, std::vector<Result<std::string>>& out);
  // Ends the current partial frame (idle timeout); nothing if empty.
  std::optional<Result<std::string>> flush();
  bool hasPartial() const { return !buffer_.empty(); }
  const FramingOptions& options() const { return options_; }

 private:
  Result<std::string> finish(std::string frame);

  FramingOptions options_;
  std::string buffer_;
  bool overflow_ = false;
  bool lastWasCr_ = false;
};

// HID POS barcode scanner input reports (usage page 0x8C): report id,
// data length, three symbology identifier bytes, the data, and a last byte
// whose bit 0 says more reports follow. Several reports make one frame.
class HidPosReportDecoder {
 public:
  // reportId 0: the device uses no report ids (no id byte in front).
  explicit HidPosReportDecoder(uint8_t reportId = 0x02) : reportId_(reportId) {}
  // A complete frame when the last report of a read arrives.
  std::optional<Result<std::string>> feed(std::span<const uint8_t> report);

 private:
  uint8_t reportId_;
  std::string pending_;
};

}  // namespace floorlink::drivers
