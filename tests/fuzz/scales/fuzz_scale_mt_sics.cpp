// MT-SICS: line framing + reply parser + gram conversion.
#include <cstddef>
#include <cstdint>

#include "drivers/scale/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace floorlink::drivers;
  FrameSplitter splitter("\r\n", 256);
  std::vector<FrameSplitter::Frame> frames;
  splitter.feed(std::span(data, size), frames);
  for (const auto& f : frames) {
    auto r = parseMtSicsLine(f.bytes);
    if (r && r->grams) (void)printable(r->value);
  }
  // The whole input as one line too (no framing).
  (void)parseMtSicsLine(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
