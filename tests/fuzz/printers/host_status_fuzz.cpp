// Printer replies are outside bytes: any of them must parse or fail cleanly,
// and whatever parses must survive a round trip through reply().
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "printers/host_status.h"

using namespace floorlink::printers;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto scan = scanFrames(in);
  if (scan.bytes > in.size()) std::abort();
  if (auto s = parseHostStatus(in)) {
    auto again = parseHostStatus(s->reply());
    if (!again || again->paperOut != s->paperOut || again->headOpen != s->headOpen ||
        again->formatsInBuffer != s->formatsInBuffer || again->labelsRemaining != s->labelsRemaining)
      std::abort();
    (void)s->faults();
  }
  if (auto id = parseHostIdentification(in)) {
    if (id->dotsPerMm != 6 && id->dotsPerMm != 8 && id->dotsPerMm != 12 && id->dotsPerMm != 24) std::abort();
  }
  if (auto e = parseExtendedStatus(in)) (void)e->faults();
  return 0;
}
