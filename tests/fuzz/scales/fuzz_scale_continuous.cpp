// Continuous output: frame splitting + the default frame pattern and a
// pattern with a configured unit and no status part.
#include <cstddef>
#include <cstdint>

#include "drivers/scale/frames.h"

namespace {
using namespace floorlink::drivers;

const ContinuousParser& parserA() {
  static const ContinuousParser p = [] {
    ContinuousFormat f;
    f.pattern = R"(^\s*(?<status>ST|US|OL),(?:GS|NT|TR),(?<sign>[+-]?)\s*(?<weight>[0-9.]+)\s*(?<unit>kg|g|lb|oz)\s*$)";
    return ContinuousParser::create(f).value();
  }();
  return p;
}

const ContinuousParser& parserB() {
  static const ContinuousParser p = [] {
    ContinuousFormat f;
    f.pattern = R"(W[:=]\s*(?<weight>-?[0-9]{1,8}(?:\.[0-9]{1,4})?))";
    f.unit = WeightUnit::kPound;
    return ContinuousParser::create(f).value();
  }();
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FrameSplitter splitter("\r\n", 256);
  std::vector<FrameSplitter::Frame> frames;
  splitter.feed(std::span(data, size), frames);
  for (const auto& f : frames) {
    (void)parserA().parse(f.bytes);
    (void)parserB().parse(f.bytes);
  }
  return 0;
}
