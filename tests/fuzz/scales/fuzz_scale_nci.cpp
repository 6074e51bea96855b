// NCI: <LF>...<ETX> replies, weight with unit (incl. lb-oz), two status bytes.
#include <cstddef>
#include <cstdint>

#include "drivers/scale/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace floorlink::drivers;
  FrameSplitter splitter("\x03", 128);
  std::vector<FrameSplitter::Frame> frames;
  splitter.feed(std::span(data, size), frames);
  for (const auto& f : frames) {
    auto r = parseNciFrame(f.bytes);
    if (r && r->status) (void)r->status->describe();
  }
  return 0;
}
