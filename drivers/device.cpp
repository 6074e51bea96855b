#include "drivers/device.h"

namespace floorlink::drivers {

std::string_view toString(DeviceState state) {
  switch (state) {
    case DeviceState::kOk: return "ok";
    case DeviceState::kOffline: return "offline";
    case DeviceState::kFault: return "fault";
  }
  return "offline";
}

}  // namespace floorlink::drivers
