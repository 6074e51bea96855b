#pragma once
// Shared by the scale driver tests: device configs, running the loop until
// something happened, collecting callbacks.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "drivers/scale/scale.h"

namespace floorlink::testing {

inline config::DeviceConfig scaleConfig(std::string protocol, std::map<std::string, std::string> options = {},
                                        config::AddressScheme scheme = config::AddressScheme::kSerial) {
  config::DeviceConfig d;
  d.id = "scale1";
  d.kind = config::DeviceKind::kScale;
  d.protocol = std::move(protocol);
  d.address.scheme = scheme;
  d.address.path = "/dev/ttyUSB0";
  d.origin = config::Origin{"floorlink.toml", 40, "devices[2]"};
  int line = 41;
  for (auto& [k, v] : options) {
    d.options[k] = config::OptionValue{v, config::Origin{"floorlink.toml", line++, "devices[2].options." + k}};
  }
  return d;
}

// Runs the loop until `done` or the deadline (generous: this is not a timing test).
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds deadline = std::chrono::seconds{10}) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    EXPECT_TRUE(loop.runFor(std::chrono::milliseconds{5}).has_value());
  }
  return true;
}

struct WeighResult {
  std::optional<Result<drivers::Weight>> result;
  drivers::Scale::WeighCallback callback() {
    return [this](Result<drivers::Weight> w) { result = std::move(w); };
  }
};

struct CommandResult {
  std::optional<Status> result;
  drivers::Scale::CommandCallback callback() {
    return [this](Status s) { result = std::move(s); };
  }
};

struct StatusLog {
  std::vector<drivers::DeviceStatus> seen;
  drivers::StatusCallback callback() {
    return [this](const drivers::DeviceStatus& s) { seen.push_back(s); };
  }
  bool sawState(drivers::DeviceState state) const {
    for (const auto& s : seen) {
      if (s.state == state) return true;
    }
    return false;
  }
  std::string lastDetail() const { return seen.empty() ? "" : seen.back().detail; }
};

}  // namespace floorlink::testing
