// Any bytes as floorlink.toml (and as a --set override): the loader returns
// a Config or an error; it never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = floorlink::config::loadString(text, "fuzz.toml");
  if (c) {
    (void)c->secrets();
  } else if (c.error().message.empty()) {
    __builtin_trap();  // every error must say something
  }
  // The first line doubles as an override.
  auto nl = text.find('\n');
  (void)floorlink::config::loadString("[agent]\nsite=\"a\"\nid=\"b\"\n", "fuzz.toml", {text.substr(0, nl)});
  (void)floorlink::config::parseAddress(text);
  return 0;
}
