#pragma once
// What every device shares: identity, state with a reason a technician
// understands, and a ring buffer of the last raw bytes.
#include <cstdint>
#include <functional>
#include <string>

namespace floorlink::drivers {

enum class DeviceState { kOk, kOffline, kFault };
std::string_view toString(DeviceState state);

struct DeviceStatus {
  DeviceState state = DeviceState::kOffline;
  std::string detail;  // "unplugged", "no answer for 5 s", "overload", ...
};

using StatusCallback = std::function<void(const DeviceStatus& status)>;

}  // namespace floorlink::drivers
