#include "core/gs1.h"

#include <array>
#include <cstdio>

namespace floorlink::gs1 {
namespace {

enum class Charset { kNumeric, kAlnum };

struct AiSpec {
  std::string_view prefix;  // the AI, or its first digits when aiLength > prefix length (310n)
  int aiLength;
  int minLength;            // data length; == maxLength for fixed-length fields
  int maxLength;
  Charset charset;
  bool checkDigit;          // last digit is a GS1 check digit
  bool date;                // YYMMDD
  int isoPrefix;            // leading digits that must be numeric (421: 3-digit country code)
  std::string_view title;
};

// The AIs the warehouse sees on pallets, cases and items (GS1 General
// Specifications 3.2). Variable-length fields end at GS or at the end of data.
constexpr AiSpec kAis[] = {
    {"00", 2, 18, 18, Charset::kNumeric, true, false, 0, "SSCC"},
    {"01", 2, 14, 14, Charset::kNumeric, true, false, 0, "GTIN"},
    {"02", 2, 14, 14, Charset::kNumeric, true, false, 0, "CONTENT"},
    {"10", 2, 1, 20, Charset::kAlnum, false, false, 0, "BATCH/LOT"},
    {"11", 2, 6, 6, Charset::kNumeric, false, true, 0, "PROD DATE"},
    {"12", 2, 6, 6, Charset::kNumeric, false, true, 0, "DUE DATE"},
    {"13", 2, 6, 6, Charset::kNumeric, false, true, 0, "PACK DATE"},
    {"15", 2, 6, 6, Charset::kNumeric, false, true, 0, "BEST BEFORE"},
    {"16", 2, 6, 6, Charset::kNumeric, false, true, 0, "SELL BY"},
    {"17", 2, 6, 6, Charset::kNumeric, false, true, 0, "USE BY"},
    {"20", 2, 2, 2, Charset::kNumeric, false, false, 0, "VARIANT"},
    {"21", 2, 1, 20, Charset::kAlnum, false, false, 0, "SERIAL"},
    {"22", 2, 1, 20, Charset::kAlnum, false, false, 0, "CPV"},
    {"240", 3, 1, 30, Charset::kAlnum, false, false, 0, "ADDITIONAL ID"},
    {"241", 3, 1, 30, Charset::kAlnum, false, false, 0, "CUST. PART No."},
    {"250", 3, 1, 30, Charset::kAlnum, false, false, 0, "SECONDARY SERIAL"},
    {"251", 3, 1, 30, Charset::kAlnum, false, false, 0, "REF. TO SOURCE"},
    {"30", 2, 1, 8, Charset::kNumeric, false, false, 0, "VAR. COUNT"},
    // 310n-369n: trade and logistic measures, n = decimal places.
    {"31", 4, 6, 6, Charset::kNumeric, false, false, 0, "MEASURE (31nn)"},
    {"32", 4, 6, 6, Charset::kNumeric, false, false, 0, "MEASURE (32nn)"},
    {"33", 4, 6, 6, Charset::kNumeric, false, false, 0, "LOGISTIC MEASURE (33nn)"},
    {"34", 4, 6, 6, Charset::kNumeric, false, false, 0, "MEASURE (34nn)"},
    {"35", 4, 6, 6, Charset::kNumeric, false, false, 0, "MEASURE (35nn)"},
    {"36", 4, 6, 6, Charset::kNumeric, false, false, 0, "MEASURE (36nn)"},
    {"37", 2, 1, 8, Charset::kNumeric, false, false, 0, "COUNT"},
    {"390", 4, 1, 15, Charset::kNumeric, false, false, 0, "AMOUNT"},
    {"392", 4, 1, 15, Charset::kNumeric, false, false, 0, "PRICE"},
    {"400", 3, 1, 30, Charset::kAlnum, false, false, 0, "ORDER NUMBER"},
    {"401", 3, 1, 30, Charset::kAlnum, false, false, 0, "GINC"},
    {"402", 3, 17, 17, Charset::kNumeric, true, false, 0, "GSIN"},
    {"403", 3, 1, 30, Charset::kAlnum, false, false, 0, "ROUTE"},
    {"410", 3, 13, 13, Charset::kNumeric, true, false, 0, "SHIP TO LOC"},
    {"411", 3, 13, 13, Charset::kNumeric, true, false, 0, "BILL TO"},
    {"412", 3, 13, 13, Charset::kNumeric, true, false, 0, "PURCHASE FROM"},
    {"413", 3, 13, 13, Charset::kNumeric, true, false, 0, "SHIP FOR LOC"},
    {"414", 3, 13, 13, Charset::kNumeric, true, false, 0, "LOC No."},
    {"415", 3, 13, 13, Charset::kNumeric, true, false, 0, "PAY TO"},
    {"416", 3, 13, 13, Charset::kNumeric, true, false, 0, "PROD/SERV LOC"},
    {"420", 3, 1, 20, Charset::kAlnum, false, false, 0, "SHIP TO POST"},
    {"421", 3, 4, 12, Charset::kAlnum, false, false, 3, "SHIP TO POST"},
    {"422", 3, 3, 3, Charset::kNumeric, false, false, 0, "ORIGIN"},
    {"424", 3, 3, 3, Charset::kNumeric, false, false, 0, "COUNTRY - PROCESS."},
    {"426", 3, 3, 3, Charset::kNumeric, false, false, 0, "COUNTRY - FULL PROCESS"},
    {"7003", 4, 10, 10, Charset::kNumeric, false, false, 0, "EXPIRY TIME"},
    {"8004", 4, 1, 30, Charset::kAlnum, false, false, 0, "GIAI"},
    {"8006", 4, 18, 18, Charset::kNumeric, false, false, 0, "ITIP"},
    {"8020", 4, 1, 25, Charset::kAlnum, false, false, 0, "REF No."},
    {"90", 2, 1, 30, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"91", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"92", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"93", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"94", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"95", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"96", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"97", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"98", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
    {"99", 2, 1, 90, Charset::kAlnum, false, false, 0, "INTERNAL"},
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// GS1 AI encodable character set 82 (GS1 General Specifications 7.11, figure 7.11-1).
bool isCset82(char c) {
  if (isDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  switch (c) {
    case '!': case '"': case '%': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':
    case '-': case '.': case '/': case ':': case ';': case '<': case '=': case '>': case '?': case '_':
      return true;
    default: return false;
  }
}

// Finds the AI at the start of `data`.
const AiSpec* lookup(std::string_view data) {
  for (const AiSpec& spec : kAis) {
    if (data.size() < static_cast<size_t>(spec.aiLength)) continue;
    if (!data.starts_with(spec.prefix)) continue;
    bool digits = true;
    for (int i = 0; i < spec.aiLength; ++i) digits = digits && isDigit(data[static_cast<size_t>(i)]);
    if (!digits) continue;
    // 31nn-36nn: the third digit picks the measure (0-9), the fourth the decimals.
    return &spec;
  }
  return nullptr;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == kGroupSeparator) out += "<GS>";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<%02X>", static_cast<unsigned char>(c));
      out += buf;
    } else out += c;
  }
  return out;
}

int daysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Status validateField(const AiSpec& spec, std::string_view ai, std::string_view value, size_t position) {
  // Messages are built only on failure: this runs for every scanned field.
  auto where = [&] {
    return "GS1 (" + std::string(ai) + ") " + std::string(spec.title) + " at position " + std::to_string(position);
  };
  if (value.size() < static_cast<size_t>(spec.minLength)) {
    if (spec.minLength == spec.maxLength) {
      return fail(ErrorCode::kParse, where() + ": needs " + std::to_string(spec.minLength) + " characters, got " +
                                         std::to_string(value.size()) + " (truncated?)");
    }
    return fail(ErrorCode::kParse, where() + ": needs at least " + std::to_string(spec.minLength) +
                                       " characters, got " + std::to_string(value.size()));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool okChar = spec.charset == Charset::kNumeric || static_cast<int>(i) < spec.isoPrefix ? isDigit(c) : isCset82(c);
    if (!okChar) {
      return fail(ErrorCode::kParse, where() + ": character \"" + printable(value.substr(i, 1)) +
                                         "\" not allowed in \"" + printable(value) + "\"" +
                                         (spec.charset == Charset::kNumeric ? " (digits only)" : ""));
    }
  }
  if (spec.checkDigit && !hasValidCheckDigit(value)) {
    return fail(ErrorCode::kParse, where() + ": check digit of " + std::string(value) + " is wrong (expected " +
                                       std::to_string(*checkDigit(value.substr(0, value.size() - 1))) + ")");
  }
  if (spec.date) {
    if (auto d = parseDate(value); !d) return fail(ErrorCode::kParse, where() + ": " + d.error().message);
  }
  return ok();
}

}  // namespace

const Element* ElementString::find(std::string_view ai) const {
  for (const Element& e : elements) {
    if (e.ai == ai) return &e;
  }
  return nullptr;
}

std::string ElementString::toHri() const {
  std::string out;
  for (const Element& e : elements) out += "(" + e.ai + ")" + e.value;
  return out;
}

std::string ElementString::toRaw() const {
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    out += elements[i].ai + elements[i].value;
    const AiSpec* spec = lookup(elements[i].ai);
    bool fixed = spec && spec->minLength == spec->maxLength;
    if (!fixed && i + 1 < elements.size()) out += kGroupSeparator;
  }
  return out;
}

std::optional<int> checkDigit(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  int sum = 0;
  // Weights 3,1,3,... from the right, the check digit position excluded.
  bool three = true;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!isDigit(digits[i])) return std::nullopt;
    sum += (digits[i] - '0') * (three ? 3 : 1);
    three = !three;
  }
  return (10 - sum % 10) % 10;
}

bool hasValidCheckDigit(std::string_view digits) {
  if (digits.size() < 2 || !isDigit(digits.back())) return false;
  auto expected = checkDigit(digits.substr(0, digits.size() - 1));
  return expected && *expected == digits.back() - '0';
}

Status validateCompanyPrefix(std::string_view prefix) {
  bool digits = !prefix.empty();
  for (char c : prefix) digits = digits && isDigit(c);
  if (!digits || prefix.size() < 6 || prefix.size() > 12) {
    return fail(ErrorCode::kInvalidArgument,
                "GS1 company prefix must be 6 to 12 digits (labels.gs1_company_prefix), got \"" + std::string(prefix) +
                    "\"");
  }
  return ok();
}

Result<std::string> makeSscc(std::string_view prefix, int extensionDigit, int64_t serial) {
  if (auto s = validateCompanyPrefix(prefix); !s) return std::unexpected(s.error());
  if (extensionDigit < 0 || extensionDigit > 9)
    return fail(ErrorCode::kInvalidArgument, "SSCC extension digit must be 0-9 (labels.extension_digit)");
  // Extension digit + prefix + serial reference = 17 digits.
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
  body += static_cast<char>('0' + *checkDigit(body));
  return body;
}

Status validateSscc(std::string_view sscc) {
  bool digits = sscc.size() == 18;
  for (char c : sscc) digits = digits && isDigit(c);
  if (!digits) return fail(ErrorCode::kInvalidArgument, "an SSCC is 18 digits, got \"" + std::string(sscc) + "\"");
  if (!hasValidCheckDigit(sscc))
    return fail(ErrorCode::kInvalidArgument, "SSCC " + std::string(sscc) + " has a wrong check digit");
  return ok();
}

Result<Date> parseDate(std::string_view text, int referenceYear) {
  if (text.size() != 6) return fail(ErrorCode::kParse, "date \"" + printable(text) + "\" is not YYMMDD");
  for (char c : text) {
    if (!isDigit(c)) return fail(ErrorCode::kParse, "date \"" + printable(text) + "\" is not YYMMDD");
  }
  int yy = (text[0] - '0') * 10 + (text[1] - '0');
  int mm = (text[2] - '0') * 10 + (text[3] - '0');
  int dd = (text[4] - '0') * 10 + (text[5] - '0');
  int year = 2000 + yy;
  if (referenceYear > 0) {
    // GS1 General Specifications 7.12: a year more than 50 years ahead is in
    // the previous century, more than 49 years behind in the next.
    int currentCentury = referenceYear / 100 * 100;
    int diff = yy - referenceYear % 100;
    year = currentCentury + yy;
    if (diff >= 51) year -= 100;
    else if (diff <= -50) year += 100;
  }
  if (mm < 1 || mm > 12) return fail(ErrorCode::kParse, "date " + std::string(text) + " has month " + std::to_string(mm));
  int last = daysInMonth(year, mm);
  if (dd == 0) dd = last;
  if (dd > last) {
    return fail(ErrorCode::kParse, "date " + std::string(text) + " has day " + std::to_string(dd) + " but " +
                                       std::to_string(year) + "-" + std::to_string(mm) + " has " + std::to_string(last));
  }
  return Date{year, mm, dd};
}

std::string_view aiTitle(std::string_view ai) {
  const AiSpec* spec = lookup(ai);
  return spec && static_cast<size_t>(spec->aiLength) == ai.size() ? spec->title : std::string_view{};
}

Result<ElementString> parse(std::string_view data) {
  ElementString out;
  size_t pos = 0;
  if (!data.empty() && data.front() == kGroupSeparator) pos = 1;  // FNC1 in first position
  if (pos >= data.size()) return fail(ErrorCode::kParse, "GS1 element string is empty");
  while (pos < data.size()) {
    std::string_view rest = data.substr(pos);
    const AiSpec* spec = lookup(rest);
    if (!spec) {
      std::string shown = printable(rest.substr(0, 4));
      bool digits = rest.size() >= 2 && isDigit(rest[0]) && isDigit(rest[1]);
      return fail(ErrorCode::kParse, "GS1: " + std::string(digits ? "unknown application identifier" : "no application identifier") +
                                         " at position " + std::to_string(pos) + " (\"" + shown + "...\")");
    }
    std::string ai(rest.substr(0, static_cast<size_t>(spec->aiLength)));
    size_t start = pos + static_cast<size_t>(spec->aiLength);
    std::string_view value;
    if (spec->minLength == spec->maxLength) {
      size_t end = start;
      while (end < data.size() && end - start < static_cast<size_t>(spec->maxLength) && data[end] != kGroupSeparator) ++end;
      value = data.substr(start, end - start);
      pos = end;
    } else {
      size_t gs = data.find(kGroupSeparator, start);
      size_t end = gs == std::string_view::npos ? data.size() : gs;
      value = data.substr(start, end - start);
      if (value.size() > static_cast<size_t>(spec->maxLength)) {
        return fail(ErrorCode::kParse, "GS1 (" + ai + ") " + std::string(spec->title) + " at position " +
                                           std::to_string(pos) + ": at most " + std::to_string(spec->maxLength) +
                                           " characters, got " + std::to_string(value.size()) +
                                           " (missing GS separator?)");
      }
      pos = end;
    }
    if (auto s = validateField(*spec, ai, value, start - static_cast<size_t>(spec->aiLength)); !s) {
      return std::unexpected(s.error());
    }
    out.elements.push_back(Element{std::move(ai), std::string(value)});
    if (pos < data.size() && data[pos] == kGroupSeparator) {
      ++pos;
      if (pos == data.size()) break;  // a trailing separator is harmless
      if (data[pos] == kGroupSeparator) {
        return fail(ErrorCode::kParse, "GS1: two separators in a row at position " + std::to_string(pos));
      }
    }
  }
  return out;
}

Result<ElementString> parseHri(std::string_view text) {
  std::string raw;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '(') {
      return fail(ErrorCode::kParse, "GS1 text: expected \"(\" at position " + std::to_string(pos));
    }
    size_t close = text.find(')', pos);
    if (close == std::string_view::npos) return fail(ErrorCode::kParse, "GS1 text: unclosed \"(\"");
    std::string_view ai = text.substr(pos + 1, close - pos - 1);
    size_t next = text.find('(', close);
    std::string_view value = text.substr(close + 1, (next == std::string_view::npos ? text.size() : next) - close - 1);
    const AiSpec* spec = lookup(ai);
    if (!spec || static_cast<size_t>(spec->aiLength) != ai.size()) {
      return fail(ErrorCode::kParse, "GS1 text: unknown application identifier (" + std::string(ai) + ")");
    }
    // In text the value's end is known: too long a fixed field is that
    // field's fault, not a missing AI after it.
    if (spec->minLength == spec->maxLength && value.size() > static_cast<size_t>(spec->maxLength)) {
      return fail(ErrorCode::kParse, "GS1 text (" + std::string(ai) + ") " + std::string(spec->title) + ": needs " +
                                         std::to_string(spec->maxLength) + " characters, got " +
                                         std::to_string(value.size()));
    }
    if (!raw.empty()) raw += kGroupSeparator;
    raw += std::string(ai) + std::string(value);
    pos = next == std::string_view::npos ? text.size() : next;
  }
  return parse(raw);
}

}  // namespace floorlink::gs1
