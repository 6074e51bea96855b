// libFuzzer: bytes from a scanner through every decoder of drivers/.
// Run: fuzz_scan_decode tests/fuzz/drivers/corpus
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/gs1.h"
#include "drivers/keyboard_wedge.h"
#include "drivers/scan.h"

using namespace floorlink::drivers;
namespace gs1 = floorlink::gs1;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool digitsWithCheck(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return gs1::hasValidCheckDigit(s);
}

void checkScan(const ScanValue& v) {
  switch (v.kind) {
    case ScanKind::kSscc: check(digitsWithCheck(v.sscc, 18)); break;
    case ScanKind::kGtin: check(digitsWithCheck(v.gtin, 14)); break;
    case ScanKind::kBinLabel: check(!v.bin.empty() || v.data.empty()); break;
    case ScanKind::kCommand:
    case ScanKind::kText: break;
  }
  check(v.raw == v.aimId + v.data);
  if (v.gs1) {
    // What parsed once parses again to the same elements from its HRI form.
    auto again = gs1::parseHri(v.gs1->toHri());
    if (again) check(again->elements.size() == v.gs1->elements.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const ScanClassifier classifier =
      ScanClassifier::create({.binLabelPattern = "^[A-Z]\\d{2}-\\d{2}-\\d{2}$", .commandPattern = "^CMD:(.+)$"}).value();
  uint8_t mode = data[0];
  uint8_t chunk = static_cast<uint8_t>(data[1] % 16 + 1);
  std::span<const uint8_t> input(data + 2, size - 2);

  // Framing with the suffix the first byte picks, fed in small chunks.
  FramingOptions options;
  options.suffix = static_cast<FrameSuffix>(mode % 4);
  if (options.suffix == FrameSuffix::kNone) options.fixedLength = (mode >> 2) % 32 + 1;
  if (mode & 0x80) options.prefix = "\x02";
  options.maxFrame = 256;
  ScanFramer framer(options);
  std::vector<floorlink::Result<std::string>> frames;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    framer.feed(input.subspan(pos, std::min<size_t>(chunk, input.size() - pos)), frames);
  }
  if (auto last = framer.flush()) frames.push_back(std::move(*last));
  for (auto& f : frames) {
    if (!f) continue;
    check(f->size() <= 256);
    if (auto v = classifier.classify(*f)) checkScan(*v);
  }

  // The whole input as one frame and as a bare element string.
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  if (auto v = classifier.classify(text)) checkScan(*v);
  if (auto es = gs1::parse(text)) {
    for (auto& e : es->elements) check(!e.value.empty());
  }
  (void)gs1::parseHri(text);
  if (input.size() >= 6) (void)gs1::parseDate(text.substr(0, 6), 2000 + mode % 100);

  // HID POS reports of 8..64 bytes.
  HidPosReportDecoder hid;
  size_t reportSize = mode % 57 + 8;
  for (size_t pos = 0; pos + reportSize <= input.size(); pos += reportSize) {
    if (auto f = hid.feed(input.subspan(pos, reportSize)); f && *f) (void)classifier.classify(**f);
  }

  // Key events: (code, value) pairs.
  KeyboardWedgeDecoder keys(mode & 1 ? KeyboardLayout::kDe : KeyboardLayout::kUs, mode & 2 ? "~" : "");
  std::string typed;
  for (size_t pos = 0; pos + 1 < input.size(); pos += 2) {
    keys.key(input[pos], input[pos + 1] % 3, typed);
  }
  return 0;
}
