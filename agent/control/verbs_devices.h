#pragma once
// floorlinkctl devices, device and weigh: what each device reports, its raw
// bytes, and live or stable scale readings.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "agent/control/control_server.h"
#include "agent/device_health.h"
#include "config/config.h"
#include "drivers/device_manager.h"
#include "drivers/scale/scale.h"
#include "printers/label_printer.h"

namespace floorlink::agent {

struct DeviceVerbDeps {
  EventLoop& loop;
  const config::Config& config;
  const DeviceHealthMap& health;
  drivers::DeviceManager* devices = nullptr;  // null: no device manager
  const std::map<std::string, std::unique_ptr<drivers::Scale>>& scales;
  const std::map<std::string, std::unique_ptr<printers::LabelPrinter>>& printers;
};

nlohmann::json readingJson(const drivers::Reading& r);

void registerDeviceVerbs(ControlServer& control, DeviceVerbDeps deps);

}  // namespace floorlink::agent
