#pragma once
// GS1 helpers for labels: SSCC generation, mod-10 check digits and element
// strings ("(00)…(420)…"). Printers' own copy: the scan-side parser lives in
// drivers/, which printers may not include.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink::printers::gs1 {

// Mod-10 check digit (GS1 General Specifications 7.9.1) of `digits`, which
// excludes the check digit. -1 when `digits` holds a non-digit or is empty.
int checkDigit(std::string_view digits);
// True when the last digit is the check digit of the ones before it.
bool hasValidCheckDigit(std::string_view digitsWithCheck);

// SSCC = extension digit + company prefix + serial reference + check digit,
// 18 digits. Fails when the prefix is not 7-10 digits, the extension digit
// not 0-9, or the serial does not fit in the serial reference.
Result<std::string> makeSscc(std::string_view companyPrefix, int extensionDigit, int64_t serial);
Status validateSscc(std::string_view sscc);

struct Element {
  std::string ai;
  std::string value;
  bool operator==(const Element&) const = default;
};

// "(00)106141411234567897(420)12345" -> elements. Checks each AI's length
// rules and, for AIs carrying a GTIN/SSCC/GLN, the check digit.
Result<std::vector<Element>> parseHri(std::string_view hri);
// Raw element string as decoded from a barcode: AIs concatenated, variable
// length values ended by GS (0x1D) or the end.
Result<std::vector<Element>> parseRaw(std::string_view raw);
// Elements -> "(00)…(420)…".
std::string toHri(const std::vector<Element>& elements);
// Elements -> raw string with GS after variable-length values (not after the last).
std::string toRaw(const std::vector<Element>& elements);

}  // namespace floorlink::printers::gs1
