#pragma once
// Loads floorlink.toml (toml++) into a validated Config. Every error names
// the file, line and key and says what is expected.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace floorlink::config {

// `overrides` are "key.path=value" strings from --set, applied after the
// file; the value is parsed as TOML (42, true, "text") or else taken as a string.
Result<Config> loadFile(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
Result<Config> loadString(std::string_view text, std::string_view sourceName,
                          const std::vector<std::string>& overrides = {});

// A complete, commented example that passes loadString().
std::string defaultConfigText();

// Parses a device address ("serial:/dev/ttyUSB0?baud=9600&format=8N1").
Result<DeviceAddress> parseAddress(std::string_view text);

}  // namespace floorlink::config
