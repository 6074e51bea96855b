#include "printers/gs1.h"

#include <algorithm>
#include <optional>

namespace floorlink::printers::gs1 {
namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct AiRule {
  size_t aiLength;   // digits of the AI itself
  size_t fixed;      // fixed value length, 0 when variable
  size_t maxLength;  // for variable values
  bool numeric;
  bool checkDigit;   // value ends with a mod-10 check digit
};

// The AIs labels use, after the GS1 General Specifications table 3.2-1. An
// AI not listed is refused: a label should not carry what we cannot check.
std::optional<AiRule> ruleFor(std::string_view s) {
  auto starts = [&](std::string_view p) { return s.substr(0, p.size()) == p; };
  if (s.size() < 2) return std::nullopt;
  if (starts("00")) return AiRule{2, 18, 18, true, true};
  if (starts("01") || starts("02")) return AiRule{2, 14, 14, true, true};
  if (starts("10") || starts("21")) return AiRule{2, 0, 20, false, false};
  if (starts("11") || starts("12") || starts("13") || starts("15") || starts("16") || starts("17"))
    return AiRule{2, 6, 6, true, false};
  if (starts("20")) return AiRule{2, 2, 2, true, false};
  if (starts("22")) return AiRule{2, 0, 20, false, false};
  if (starts("30") || starts("37")) return AiRule{2, 0, 8, true, false};
  if (s.size() >= 4 && (starts("31") || starts("32") || starts("33") || starts("34") ||
                        starts("35") || starts("36")))
    return AiRule{4, 6, 6, true, false};
  if (s.size() < 3) return std::nullopt;
  if (starts("400") || starts("401") || starts("403")) return AiRule{3, 0, 30, false, false};
  if (starts("402")) return AiRule{3, 17, 17, true, true};
  if (s[0] == '4' && s[1] == '1' && s[2] >= '0' && s[2] <= '7') return AiRule{3, 13, 13, true, true};
  if (starts("420")) return AiRule{3, 0, 20, false, false};
  if (starts("421")) return AiRule{3, 0, 12, false, false};
  if (starts("422") || starts("424") || starts("426")) return AiRule{3, 3, 3, true, false};
  if (starts("240") || starts("241") || starts("250") || starts("251"))
    return AiRule{3, 0, 30, false, false};
  if (s[0] == '9' && s[1] >= '0' && s[1] <= '9') return AiRule{2, 0, 90, false, false};
  return std::nullopt;
}

bool gs1Char(char c) {
  // GS1 AI encodable character set 82 (printable ASCII subset).
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= 'a' && c <= 'z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::string_view("!\"%&'()*+,-./:;<=>?_").find(c) != std::string_view::npos;
}

Status checkValue(const AiRule& rule, std::string_view ai, std::string_view value) {
  if (rule.fixed && value.size() != rule.fixed)
    return fail(ErrorCode::kInvalidArgument, "GS1 (" + std::string(ai) + ") needs " +
                                                 std::to_string(rule.fixed) + " characters, got " +
                                                 std::to_string(value.size()) + " (\"" + std::string(value) + "\")");
  if (value.empty() || value.size() > rule.maxLength)
    return fail(ErrorCode::kInvalidArgument, "GS1 (" + std::string(ai) + ") value length " +
                                                 std::to_string(value.size()) + " is outside 1-" +
                                                 std::to_string(rule.maxLength));
  if (rule.numeric && !allDigits(value))
    return fail(ErrorCode::kInvalidArgument,
                "GS1 (" + std::string(ai) + ") must be digits, got \"" + std::string(value) + "\"");
  for (char c : value)
    if (!gs1Char(c))
      return fail(ErrorCode::kInvalidArgument,
                  "GS1 (" + std::string(ai) + ") holds a character GS1 does not allow: \"" +
                      std::string(value) + "\"");
  if (rule.checkDigit && !hasValidCheckDigit(value))
    return fail(ErrorCode::kInvalidArgument, "GS1 (" + std::string(ai) + ") " + std::string(value) +
                                                 " has a wrong check digit (expected " +
                                                 std::to_string(checkDigit(value.substr(0, value.size() - 1))) + ")");
  return ok();
}

}  // namespace

int checkDigit(std::string_view digits) {
  if (!allDigits(digits)) return -1;
  int sum = 0;
  int weight = 3;  // the rightmost digit weighs 3
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = weight == 3 ? 1 : 3;
  }
  return (10 - sum % 10) % 10;
}

bool hasValidCheckDigit(std::string_view d) {
  if (d.size() < 2 || !allDigits(d)) return false;
  return checkDigit(d.substr(0, d.size() - 1)) == d.back() - '0';
}

Result<std::string> makeSscc(std::string_view prefix, int extensionDigit, int64_t serial) {
  if (!allDigits(prefix) || prefix.size() < 7 || prefix.size() > 10)
    return fail(ErrorCode::kInvalidArgument,
                "GS1 company prefix must be 7 to 10 digits (labels.gs1_company_prefix), got \"" +
                    std::string(prefix) + "\"");
  if (extensionDigit < 0 || extensionDigit > 9)
    return fail(ErrorCode::kInvalidArgument, "SSCC extension digit must be 0-9 (labels.extension_digit)");
  size_t serialDigits = 16 - prefix.size();
  int64_t limit = 1;
  for (size_t i = 0; i < serialDigits; ++i) limit *= 10;
  if (serial < 0 || serial >= limit)
    return fail(ErrorCode::kInvalidArgument,
                "SSCC serial " + std::to_string(serial) + " does not fit in " + std::to_string(serialDigits) +
                    " digits: the range of this company prefix and extension digit is used up; "
                    "configure another extension digit");
  std::string s = std::to_string(serial);
  std::string body = std::to_string(extensionDigit) + std::string(prefix) +
                     std::string(serialDigits - s.size(), '0') + s;
  body += static_cast<char>('0' + checkDigit(body));
  return body;
}

Status validateSscc(std::string_view sscc) {
  if (sscc.size() != 18 || !allDigits(sscc))
    return fail(ErrorCode::kInvalidArgument, "an SSCC is 18 digits, got \"" + std::string(sscc) + "\"");
  if (!hasValidCheckDigit(sscc))
    return fail(ErrorCode::kInvalidArgument, "SSCC " + std::string(sscc) + " has a wrong check digit");
  return ok();
}

Result<std::vector<Element>> parseHri(std::string_view hri) {
  std::vector<Element> out;
  size_t i = 0;
  if (hri.empty()) return fail(ErrorCode::kInvalidArgument, "empty GS1 element string");
  while (i < hri.size()) {
    if (hri[i] != '(')
      return fail(ErrorCode::kInvalidArgument,
                  "GS1 element string must be (AI)value…, found \"" + std::string(hri.substr(i)) + "\"");
    size_t close = hri.find(')', i);
    if (close == std::string_view::npos)
      return fail(ErrorCode::kInvalidArgument, "GS1 element string has an unclosed '('");
    std::string ai(hri.substr(i + 1, close - i - 1));
    auto rule = ruleFor(ai);
    if (!allDigits(ai) || !rule || rule->aiLength != ai.size())
      return fail(ErrorCode::kInvalidArgument, "unknown or unsupported GS1 AI (" + ai + ")");
    size_t next = hri.find('(', close + 1);
    std::string value(hri.substr(close + 1, next == std::string_view::npos ? std::string_view::npos : next - close - 1));
    if (auto s = checkValue(*rule, ai, value); !s) return std::unexpected(s.error());
    out.push_back({ai, value});
    i = next == std::string_view::npos ? hri.size() : next;
  }
  return out;
}

Result<std::vector<Element>> parseRaw(std::string_view raw) {
  std::vector<Element> out;
  size_t i = 0;
  if (raw.empty()) return fail(ErrorCode::kInvalidArgument, "empty GS1 element string");
  while (i < raw.size()) {
    auto rule = ruleFor(raw.substr(i, 4));
    if (!rule) return fail(ErrorCode::kInvalidArgument,
                           "unknown or unsupported GS1 AI at \"" + std::string(raw.substr(i, 4)) + "\"");
    if (i + rule->aiLength > raw.size()) return fail(ErrorCode::kInvalidArgument, "GS1 AI cut short");
    std::string ai(raw.substr(i, rule->aiLength));
    if (!allDigits(ai)) return fail(ErrorCode::kInvalidArgument, "GS1 AI must be digits: \"" + ai + "\"");
    i += rule->aiLength;
    std::string value;
    if (rule->fixed) {
      value = std::string(raw.substr(i, rule->fixed));
      i += value.size();
      if (i < raw.size() && raw[i] == '\x1d') ++i;  // a redundant separator is tolerated
    } else {
      size_t gs = raw.find('\x1d', i);
      value = std::string(raw.substr(i, gs == std::string_view::npos ? std::string_view::npos : gs - i));
      i = gs == std::string_view::npos ? raw.size() : gs + 1;
    }
    if (auto s = checkValue(*rule, ai, value); !s) return std::unexpected(s.error());
    out.push_back({ai, value});
  }
  return out;
}

std::string toHri(const std::vector<Element>& elements) {
  std::string out;
  for (const auto& e : elements) out += "(" + e.ai + ")" + e.value;
  return out;
}

std::string toRaw(const std::vector<Element>& elements) {
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    out += elements[i].ai + elements[i].value;
    auto rule = ruleFor(elements[i].ai);
    if (rule && !rule->fixed && i + 1 < elements.size()) out += '\x1d';
  }
  return out;
}

}  // namespace floorlink::printers::gs1
