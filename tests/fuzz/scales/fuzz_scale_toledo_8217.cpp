// Toledo 8217: <STX>...<CR> records, status bytes, unit inference.
#include <cstddef>
#include <cstdint>

#include "drivers/scale/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace floorlink::drivers;
  FrameSplitter splitter("\r", 64);
  std::vector<FrameSplitter::Frame> frames;
  splitter.feed(std::span(data, size), frames);
  for (const auto& f : frames) {
    size_t stx = f.bytes.rfind('\x02');
    std::string_view body = stx == std::string::npos ? std::string_view(f.bytes) : std::string_view(f.bytes).substr(stx + 1);
    auto r = parseToledo8217Frame(body);
    if (r && !r->status) {
      (void)toledo8217Grams(*r, std::nullopt);
      (void)toledo8217Grams(*r, WeightUnit::kOunce);
    }
    if (r && r->status) (void)r->status->describe();
  }
  return 0;
}
