#pragma once
// GS1 element strings (GS1 General Specifications §3 and §7.8): the data of
// GS1-128, GS1 DataMatrix, GS1 QR and GS1 DataBar symbols, check digits and
// SSCCs. Pure functions, for scans (drivers/) and labels (printers/) alike.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink::gs1 {

constexpr char kGroupSeparator = '\x1d';  // FNC1 as transmitted by scanners

struct Date {
  int year = 0;   // four digits
  int month = 0;  // 1-12
  int day = 0;    // 1-31; a day of 00 in the data means the month's last day
  auto operator<=>(const Date&) const = default;
};

struct Element {
  std::string ai;     // "01", "3103", ...
  std::string value;  // the data field, without separators
  bool operator==(const Element&) const = default;
};

struct ElementString {
  std::vector<Element> elements;
  bool operator==(const ElementString&) const = default;
  // First element with this AI, or nullptr.
  const Element* find(std::string_view ai) const;
  // "(01)09501101530003(17)140704(10)AB-123"
  std::string toHri() const;
  // The raw element string: GS after each variable-length value but the last.
  std::string toRaw() const;
};

// Parses an element string. Separators are GS (0x1D); one leading GS (an
// FNC1 in first position transmitted as GS) is accepted. Errors name the AI
// and the position: unknown AI, truncated or too long field, characters not
// allowed, bad check digit, impossible date.
Result<ElementString> parse(std::string_view data);

// Parses the human-readable form "(01)09501101530003(10)AB-123".
Result<ElementString> parseHri(std::string_view text);

// GS1 mod-10 check digit (General Specifications 7.9.1) of `digits`, which do
// not include it yet; nullopt when `digits` is empty or holds a non-digit.
std::optional<int> checkDigit(std::string_view digits);
// True when the last digit is the check digit of the ones before it.
bool hasValidCheckDigit(std::string_view digitsWithCheck);

// GS1 company prefixes are 6 to 12 digits (labels.gs1_company_prefix).
Status validateCompanyPrefix(std::string_view companyPrefix);
// SSCC = extension digit + company prefix + serial reference (17 digits
// together) + check digit. Fails when the prefix is not 6-12 digits, the
// extension digit not 0-9, or the serial does not fit in the serial reference.
Result<std::string> makeSscc(std::string_view companyPrefix, int extensionDigit, int64_t serial);
Status validateSscc(std::string_view sscc);

// YYMMDD; DD 00 is the last day of the month. Years: 2000-2099 after the
// GS1 sliding window is applied against `referenceYear` (0: 20YY).
Result<Date> parseDate(std::string_view yymmdd, int referenceYear = 0);

// The AI's title for messages ("GTIN", "BATCH/LOT"); empty if unknown.
std::string_view aiTitle(std::string_view ai);

}  // namespace floorlink::gs1
