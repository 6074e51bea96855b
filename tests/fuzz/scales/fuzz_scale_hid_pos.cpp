// HID POS scale reports under every quirk of the table.
#include <cstddef>
#include <cstdint>

#include "drivers/scale/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace floorlink::drivers;
  for (const auto& quirk : hidScaleQuirks()) {
    (void)parseHidScaleReport(std::span(data, size), quirk);
  }
  return 0;
}
