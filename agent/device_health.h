#pragma once
// What the agent last heard from each configured device: written by the
// daemon from driver and printer status, read by floorlinkctl and the pages.
#include <cstdint>
#include <map>
#include <string>

namespace floorlink::agent {

struct DeviceHealth {
  std::string kind;
  std::string state = "offline";
  std::string detail = "not opened yet";
  int64_t sinceMs = 0;
};

using DeviceHealthMap = std::map<std::string, DeviceHealth>;

}  // namespace floorlink::agent
