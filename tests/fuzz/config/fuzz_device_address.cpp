// Device addresses come from the configuration file (and --set): any bytes
// must parse or fail cleanly, and what parses must hold what the printers and
// transports rely on without checking again.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/loader.h"

using namespace floorlink::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto a = parseAddress(text);
  if (!a) {
    if (a.error().message.empty()) std::abort();
    return 0;
  }
  if (a->text != text) std::abort();
  switch (a->scheme) {
    case AddressScheme::kIpp:
    case AddressScheme::kIpps:
      if (a->host.empty() || a->port == 0 || a->path.size() < 2 || a->path.front() != '/' || !a->params.empty()) {
        std::abort();
      }
      for (char c : a->path) {
        if (static_cast<unsigned char>(c) <= ' ' || c == '#') std::abort();
      }
      break;
    case AddressScheme::kCups:
      if (a->path.empty() || a->path.size() > 127 || a->path.find_first_of("/\\\"'# ") != std::string::npos) {
        std::abort();
      }
      break;
    case AddressScheme::kTcp:
      if (a->port == 0) std::abort();
      break;
    case AddressScheme::kSerial:
    case AddressScheme::kEvdev:
    case AddressScheme::kFile:
      if (a->path.empty() || a->path.front() != '/') std::abort();
      break;
    case AddressScheme::kUsb:
    case AddressScheme::kSim:
      break;
  }
  // Parsing is a function of the text.
  auto again = parseAddress(text);
  if (!again || again->scheme != a->scheme || again->host != a->host || again->port != a->port ||
      again->path != a->path) {
    std::abort();
  }
  return 0;
}
