#include "drivers/scale/frames.h"

#include <initializer_list>
#include <utility>

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace floorlink::drivers {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isUpperOrDigit(char c) { return (c >= 'A' && c <= 'Z') || isDigit(c); }
bool isAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// "- 12.5" -> "-12.5": some scales pad between the sign and the digits.
std::string squeezeNumber(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out += c;
  }
  return out;
}

bool looksNumeric(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digit = false;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (isDigit(s[i])) {
      digit = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

}  // namespace

void FrameSplitter::feed(std::span<const uint8_t> bytes, std::vector<Frame>& out) {
  for (uint8_t b : bytes) {
    char c = static_cast<char>(b);
    if (terminators_.find(c) != std::string::npos) {
      if (discarding_) {
        discarding_ = false;
      } else if (!buffer_.empty()) {
        out.push_back(Frame{std::move(buffer_), false});
      }
      buffer_.clear();
      continue;
    }
    if (discarding_) continue;
    buffer_ += c;
    if (buffer_.size() >= max_) {
      out.push_back(Frame{std::move(buffer_), true});
      buffer_.clear();
      discarding_ = true;
    }
  }
}

std::string printable(std::string_view bytes, size_t maxLength) {
  static constexpr std::array<const char*, 32> kNames = {
      "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
      "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"};
  std::string out;
  size_t n = 0;
  for (char ch : bytes) {
    if (n++ == maxLength) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(ch);
    if (c < 32) {
      out += '<';
      out += kNames[c];
      out += '>';
    } else if (c >= 127) {
      out += fmt::format("<0x{:02X}>", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------- MT-SICS

Result<MtSicsReply> parseMtSicsLine(std::string_view line) {
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 32 && c != '\r' && c != '\t') || u >= 127) {
      return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" contains non-text bytes");
    }
  }
  line = trim(line);
  MtSicsReply r;
  size_t i = 0;
  while (i < line.size() && isUpperOrDigit(line[i])) ++i;
  if (i == 0 || i > 8) {
    return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" does not start with a command name");
  }
  r.command = std::string(line.substr(0, i));
  if (i == line.size()) {
    if (r.command == "ES" || r.command == "ET" || r.command == "EL") return r;
    return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has no status");
  }
  if (line[i] != ' ' || i + 1 >= line.size()) {
    return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has no status");
  }
  char status = line[i + 1];
  static constexpr std::string_view kStatuses = "SDAIBL+-";
  if (kStatuses.find(status) == std::string_view::npos ||
      (i + 2 < line.size() && line[i + 2] != ' ')) {
    return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has an unknown status");
  }
  r.status = status;
  std::string_view rest = trim(line.substr(std::min(line.size(), i + 2)));
  if (rest.empty()) return r;
  if (rest.front() == '"') {
    size_t close = rest.find('"', 1);
    if (close == std::string_view::npos) {
      return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has an unterminated text");
    }
    r.value = std::string(rest.substr(1, close - 1));
    return r;
  }
  // Weight replies: the value is right-aligned in a 10-character field, a
  // minus sign may stand apart from the digits ("-    1.25").
  size_t unitStart = rest.size();
  while (unitStart > 0 && rest[unitStart - 1] != ' ') --unitStart;
  std::string_view last = rest.substr(unitStart);
  std::string_view number = rest;
  if (unitStart > 0 && !looksNumeric(last)) {
    r.unit = std::string(last);
    number = trim(rest.substr(0, unitStart));
  }
  r.value = squeezeNumber(number);
  bool weightCommand = r.command == "S" || r.command == "SI" || r.command == "SIR" || r.command == "SU" ||
                       r.command == "SIU" || r.command == "T" || r.command == "TA" || r.command == "TI";
  if (weightCommand) {
    if (!looksNumeric(r.value)) {
      return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has no valid weight");
    }
    if (r.unit.empty()) {
      return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\" has a weight without a unit");
    }
    auto unit = parseWeightUnit(r.unit);
    if (unit) {
      auto grams = decimalToGrams(r.value, *unit);
      if (!grams) return fail(ErrorCode::kParse, "MT-SICS reply \"" + printable(line) + "\": " + grams.error().message);
      r.grams = *grams;
    }
  }
  return r;
}

// ---------------------------------------------------------------- Toledo 8217

namespace {
// "motion, net": the flags that are set, "ok" when none is.
std::string flagList(std::initializer_list<std::pair<bool, const char*>> flags) {
  std::string out;
  for (auto [on, text] : flags) {
    if (!on) continue;
    if (!out.empty()) out += ", ";
    out += text;
  }
  return out.empty() ? "ok" : out;
}
}  // namespace

std::string Toledo8217Status::describe() const {
  return flagList({
                   {motion, "motion"},
                   {overCapacity, "over capacity"},
                   {underZero, "under zero"},
                   {outsideZeroRange, "outside zero capture range"},
                   {centerOfZero, "center of zero"},
                   {net, "net"}});
}

Result<Toledo8217Reply> parseToledo8217Frame(std::string_view frame) {
  std::string text;
  for (char c : frame) text += static_cast<char>(static_cast<unsigned char>(c) & 0x7F);  // parity bit
  Toledo8217Reply r;
  if (!text.empty() && text[0] == '?') {
    if (text.size() != 2) {
      return fail(ErrorCode::kParse, "8217 status record \"" + printable(text) + "\" must be ? and one status byte");
    }
    auto b = static_cast<uint8_t>(text[1]);
    // Bit 6 is always 1 in a status byte; anything else is line noise.
    if ((b & 0x40) == 0) {
      return fail(ErrorCode::kParse, fmt::format("8217 status byte 0x{:02X} does not have bit 6 set", b));
    }
    Toledo8217Status s;
    s.raw = b;
    s.motion = b & 0x01;
    s.overCapacity = b & 0x02;
    s.underZero = b & 0x04;
    s.outsideZeroRange = b & 0x08;
    s.centerOfZero = b & 0x10;
    s.net = b & 0x20;
    r.status = s;
    return r;
  }
  std::string_view w = text;
  if (!w.empty() && w.back() == 'N') {
    r.net = true;
    w.remove_suffix(1);
  }
  if (!looksNumeric(w) || w.size() > 9) {
    return fail(ErrorCode::kParse, "8217 record \"" + printable(frame) + "\" is neither a weight nor a status");
  }
  if (size_t dot = w.find('.'); dot != std::string_view::npos) r.decimals = static_cast<int>(w.size() - dot - 1);
  r.weight = std::string(w);
  return r;
}

Result<int64_t> toledo8217Grams(const Toledo8217Reply& reply, std::optional<WeightUnit> unit) {
  if (reply.weight.empty()) return fail(ErrorCode::kParse, "8217 record carries no weight");
  if (!unit) {
    if (reply.decimals == 2) unit = WeightUnit::kPound;
    else if (reply.decimals == 3) unit = WeightUnit::kKilogram;
    else {
      return fail(ErrorCode::kParse, "cannot tell the unit of 8217 weight \"" + reply.weight +
                                         "\": set the device option unit (lb, kg, g or oz)");
    }
  }
  return decimalToGrams(reply.weight, *unit);
}

// ---------------------------------------------------------------- NCI

std::string NciStatus::describe() const {
  return flagList({
                   {motion, "motion"},
                   {atZero, "at zero"},
                   {underCapacity, "under capacity"},
                   {overCapacity, "over capacity"},
                   {ramError, "RAM error"},
                   {eepromError, "EEPROM error"},
                   {romError, "ROM error"},
                   {calibrationError, "faulty calibration"}});
}

namespace {

Result<NciStatus> parseNciStatus(std::string_view text) {
  if (!text.empty() && text[0] == 'S') text.remove_prefix(1);  // some models prefix an S
  if (text.size() < 2) return fail(ErrorCode::kParse, "NCI status \"" + printable(text) + "\" is shorter than two bytes");
  NciStatus s;
  for (size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<uint8_t>(static_cast<unsigned char>(text[i]) & 0x7F);
    // Bits 4 and 5 are always 1 in every status byte.
    if ((b & 0x30) != 0x30) {
      return fail(ErrorCode::kParse, "NCI status \"" + printable(text) + "\" is not a status (bits 4 and 5 must be set)");
    }
    if (i == 0) s.byte1 = b;
    if (i == 1) s.byte2 = b;
  }
  s.motion = s.byte1 & 0x01;
  s.atZero = s.byte1 & 0x02;
  s.ramError = s.byte1 & 0x04;
  s.eepromError = s.byte1 & 0x08;
  s.underCapacity = s.byte2 & 0x01;
  s.overCapacity = s.byte2 & 0x02;
  s.romError = s.byte2 & 0x04;
  s.calibrationError = s.byte2 & 0x08;
  return s;
}

// "  1.25lb", "-0.50kg", "_1234g_", "1LB 4.5OZ" -> grams
Status parseNciWeight(std::string_view text, NciReply& r) {
  std::string_view t = trim(text);
  while (!t.empty() && t.front() == '_') t.remove_prefix(1);
  while (!t.empty() && t.back() == '_') t.remove_suffix(1);
  t = trim(t);
  // Pounds and ounces: "<lb>LB <oz>OZ".
  std::string upper;
  for (char c : t) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (size_t lb = upper.find("LB "); lb != std::string::npos && upper.ends_with("OZ")) {
    std::string pounds = squeezeNumber(t.substr(0, lb));
    std::string ounces = squeezeNumber(trim(t.substr(lb + 3, t.size() - lb - 5)));
    bool integerPounds = !pounds.empty() && pounds.size() <= 6 &&
                         pounds.find_first_not_of("0123456789") == std::string::npos;
    if (!integerPounds || !looksNumeric(ounces) || ounces[0] == '-' || ounces[0] == '+') {
      return fail(ErrorCode::kParse, "NCI weight \"" + printable(text) + "\" is not a valid pounds-ounces weight");
    }
    // Whole pounds become ounces so the sum converts with one rounding.
    size_t dot = ounces.find('.');
    std::string ozInt = ounces.substr(0, dot);
    std::string ozFrac = dot == std::string::npos ? "" : ounces.substr(dot);
    if (ozInt.size() > 6) return fail(ErrorCode::kParse, "NCI weight \"" + printable(text) + "\" has too many digits");
    int64_t totalOz = std::stoll(pounds) * 16 + (ozInt.empty() ? 0 : std::stoll(ozInt));
    auto grams = decimalToGrams(std::to_string(totalOz) + ozFrac, WeightUnit::kOunce);
    if (!grams) return std::unexpected(grams.error());
    r.weight = std::string(t);
    r.unit = "lb-oz";
    r.grams = *grams;
    return ok();
  }
  size_t u = t.size();
  while (u > 0 && isAlpha(t[u - 1])) --u;
  std::string number = squeezeNumber(t.substr(0, u));
  r.unit = std::string(t.substr(u));
  if (!looksNumeric(number)) return fail(ErrorCode::kParse, "NCI weight \"" + printable(text) + "\" is not a number");
  if (r.unit.empty()) return fail(ErrorCode::kParse, "NCI weight \"" + printable(text) + "\" has no unit");
  r.weight = number;
  auto unit = parseWeightUnit(r.unit);
  if (!unit) return std::unexpected(unit.error());
  auto grams = decimalToGrams(number, *unit);
  if (!grams) return std::unexpected(grams.error());
  r.grams = *grams;
  return ok();
}

}  // namespace

Result<NciReply> parseNciFrame(std::string_view frame) {
  // Noise before the <LF> that starts a reply is not part of it.
  size_t lf = frame.find('\n');
  if (lf == std::string_view::npos) {
    return fail(ErrorCode::kParse, "NCI reply \"" + printable(frame) + "\" does not start with <LF>");
  }
  std::string_view body = frame.substr(lf + 1);
  // Parts separated by <CR><LF> (a lone <CR> is accepted too), each ending with <CR>.
  std::vector<std::string_view> parts;
  while (!body.empty()) {
    size_t cr = body.find('\r');
    if (cr == std::string_view::npos) {
      return fail(ErrorCode::kParse, "NCI reply \"" + printable(frame) + "\" has a part without <CR>");
    }
    parts.push_back(body.substr(0, cr));
    body.remove_prefix(cr + 1);
    if (!body.empty() && body.front() == '\n') body.remove_prefix(1);
  }
  NciReply r;
  if (parts.size() == 1 && trim(parts[0]) == "?") {
    r.unrecognised = true;
    return r;
  }
  if (parts.empty() || parts.size() > 2) {
    return fail(ErrorCode::kParse, "NCI reply \"" + printable(frame) + "\" must be weight and status or status alone");
  }
  if (parts.size() == 2) {
    if (auto s = parseNciWeight(parts[0], r); !s) {
      return fail(s.error().code, s.error().message);
    }
  }
  auto status = parseNciStatus(parts.back());
  if (!status) return std::unexpected(status.error());
  r.status = *status;
  return r;
}

// ---------------------------------------------------------------- HID POS

namespace {
constexpr std::array<HidScaleQuirk, 5> kHidQuirks = {{
    {"standard", 0, 0, true, 3, 6, false,
     "HID POS usage tables 1.02: report 3 = status, unit, exponent, weight (16 bit, little endian)"},
    {"dymo-m10", 0x0922, 0x8003, true, 3, 6, false,
     "DYMO M10: report 3; ounce mode sends exponent -1 (0xFF) and tenths of an ounce"},
    {"dymo-m25", 0x0922, 0x8004, true, 3, 6, false,
     "DYMO M25: report 3; ounce mode sends exponent -1 (0xFF) and tenths of an ounce"},
    {"no-report-id", 0, 0, false, 0, 5, false,
     "the device or reading path strips the report id: 5-byte reports start with the status"},
    {"report-id-4", 0, 0, true, 4, 6, false,
     "scales whose report descriptor puts the Scale Data report under id 4"},
}};
}  // namespace

std::span<const HidScaleQuirk> hidScaleQuirks() { return kHidQuirks; }

const HidScaleQuirk* findHidScaleQuirk(std::string_view name) {
  for (const auto& q : kHidQuirks) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

const HidScaleQuirk* findHidScaleQuirk(uint16_t vendorId, uint16_t productId) {
  for (const auto& q : kHidQuirks) {
    if (q.vendorId != 0 && q.vendorId == vendorId && q.productId == productId) return &q;
  }
  return nullptr;
}

Result<HidScaleReport> parseHidScaleReport(std::span<const uint8_t> report, const HidScaleQuirk& quirk) {
  size_t need = quirk.hasReportId ? 6 : 5;
  if (report.size() < need) {
    return fail(ErrorCode::kParse, fmt::format("HID scale report of {} bytes is too short (need {})", report.size(), need));
  }
  size_t o = 0;
  if (quirk.hasReportId) {
    if (report[0] != quirk.reportId) {
      return fail(ErrorCode::kParse, fmt::format("HID report id {} is not the scale data report {} (quirk {})",
                                                 report[0], quirk.reportId, quirk.name));
    }
    o = 1;
  }
  HidScaleReport r;
  uint8_t status = report[o];
  if (status < 1 || status > 8) {
    return fail(ErrorCode::kParse, fmt::format("HID scale status {} is not defined by the usage tables", status));
  }
  r.status = static_cast<HidScaleStatus>(status);
  r.unitCode = report[o + 1];
  r.exponent = static_cast<int8_t>(report[o + 2]);
  r.rawWeight = quirk.bigEndianWeight ? static_cast<uint16_t>(report[o + 3] << 8 | report[o + 4])
                                      : static_cast<uint16_t>(report[o + 4] << 8 | report[o + 3]);
  WeightUnit unit;
  switch (r.unitCode) {
    case 1: unit = WeightUnit::kMilligram; break;
    case 2: unit = WeightUnit::kGram; break;
    case 3: unit = WeightUnit::kKilogram; break;
    case 11: unit = WeightUnit::kOunce; break;
    case 12: unit = WeightUnit::kPound; break;
    default:
      // The spec also has carats, taels, grains, pennyweights, tons, troy ounces.
      return fail(ErrorCode::kParse, fmt::format("HID scale unit code {} is not supported: set the scale to g, kg, lb or oz",
                                                 r.unitCode));
  }
  auto grams = scaledToGrams(r.rawWeight, r.exponent, unit);
  if (!grams) return std::unexpected(grams.error());
  // Under zero the weight field holds the magnitude.
  r.grams = r.status == HidScaleStatus::kUnderZero ? -*grams : *grams;
  return r;
}

// ---------------------------------------------------------------- continuous

Result<ContinuousParser> ContinuousParser::create(ContinuousFormat format) {
  // std::regex has no named groups: rewrite (?<name>...) to (...) and
  // remember the group numbers.
  const std::string& p = format.pattern;
  std::string rewritten;
  int group = 0;
  ContinuousParser parser;
  bool inClass = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      rewritten += c;
      rewritten += p[++i];
      continue;
    }
    if (inClass) {
      if (c == ']') inClass = false;
      rewritten += c;
      continue;
    }
    if (c == '[') {
      inClass = true;
      rewritten += c;
      continue;
    }
    if (c != '(') {
      rewritten += c;
      continue;
    }
    if (i + 1 < p.size() && p[i + 1] == '?') {
      if (i + 2 < p.size() && p[i + 2] == '<') {
        size_t close = p.find('>', i + 3);
        if (close == std::string::npos) {
          return fail(ErrorCode::kInvalidArgument, "frame pattern has an unterminated group name");
        }
        std::string name = p.substr(i + 3, close - i - 3);
        ++group;
        int* slot = name == "weight" ? &parser.weight_
                  : name == "unit"   ? &parser.unit_
                  : name == "sign"   ? &parser.sign_
                  : name == "status" ? &parser.status_
                                     : nullptr;
        if (slot == nullptr) {
          return fail(ErrorCode::kInvalidArgument,
                      "frame pattern part \"" + name + "\" is unknown: use weight, unit, sign or status");
        }
        if (*slot != 0) return fail(ErrorCode::kInvalidArgument, "frame pattern names \"" + name + "\" twice");
        *slot = group;
        rewritten += '(';
        i = close;
        continue;
      }
      rewritten += c;  // (?: (?= (?! are not captures
      continue;
    }
    ++group;
    rewritten += c;
  }
  if (parser.weight_ == 0) {
    return fail(ErrorCode::kInvalidArgument, "frame pattern needs a (?<weight>...) part");
  }
  if (parser.unit_ == 0 && !format.unit) {
    return fail(ErrorCode::kInvalidArgument, "frame pattern has no (?<unit>...) part: set the device option unit");
  }
  try {
    parser.regex_ = std::regex(rewritten, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("frame pattern is not a valid regular expression: ") + e.what());
  }
  if (static_cast<int>(parser.regex_.mark_count()) != group) {
    return fail(ErrorCode::kInvalidArgument, "frame pattern groups could not be counted (nested classes?)");
  }
  parser.format_ = std::move(format);
  return parser;
}

Result<Reading> ContinuousParser::parse(std::string_view frame) const {
  std::match_results<std::string_view::const_iterator> m;
  bool matched = false;
  try {
    matched = std::regex_search(frame.begin(), frame.end(), m, regex_);
  } catch (const std::regex_error& e) {  // error_complexity / error_stack
    return fail(ErrorCode::kParse, std::string("frame could not be matched: ") + e.what());
  }
  if (!matched) {
    return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\" does not match the frame pattern");
  }
  auto part = [&](int g) -> std::string {
    if (g == 0 || !m[g].matched) return {};
    return std::string(trim(std::string_view(&*m[g].first, static_cast<size_t>(m[g].length()))));
  };
  Reading r;
  std::string number = squeezeNumber(part(weight_));
  std::string sign = part(sign_);
  if (!sign.empty() && sign != "-" && sign != "+") {
    return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\" has sign \"" + sign + "\", expected + or -");
  }
  if (!number.empty() && (number[0] == '-' || number[0] == '+') && !sign.empty()) {
    return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\" has two signs");
  }
  std::string decimal = (sign == "-" ? "-" : "") + number;
  WeightUnit unit = format_.unit.value_or(WeightUnit::kGram);
  std::string unitText = part(unit_);
  if (unit_ != 0 && !unitText.empty()) {
    auto u = parseWeightUnit(unitText);
    if (!u) return std::unexpected(u.error());
    unit = *u;
  } else if (!format_.unit) {
    return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\" has no unit");
  }
  auto grams = decimalToGrams(decimal, unit);
  if (!grams) return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\": " + grams.error().message);
  r.grams = *grams;
  r.unit = unit;
  r.displayed = decimal + " " + std::string(toString(unit));
  r.status = WeightStatus::kUnknown;
  if (status_ != 0) {
    std::string s = part(status_);
    auto in = [&](const std::vector<std::string>& list) {
      for (const auto& v : list) {
        if (v == s) return true;
      }
      return false;
    };
    if (in(format_.stable)) r.status = WeightStatus::kStable;
    else if (in(format_.motion)) r.status = WeightStatus::kMotion;
    else if (in(format_.overload)) r.status = WeightStatus::kOverload;
    else if (in(format_.underload)) r.status = WeightStatus::kUnderload;
    else {
      return fail(ErrorCode::kParse, "frame \"" + printable(frame) + "\" has status \"" + s +
                                         "\" which is in none of stable_status, motion_status, "
                                         "overload_status, underload_status");
    }
  }
  return r;
}

}  // namespace floorlink::drivers
