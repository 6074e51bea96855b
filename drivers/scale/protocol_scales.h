#pragma once
// The protocol implementations of Scale (internal: the factory builds them).
#include <memory>
#include <optional>
#include <string>

#include "drivers/scale/frames.h"
#include "drivers/scale/scale_driver.h"

namespace floorlink::drivers {

struct ScaleSetup {
  EventLoop* loop = nullptr;
  std::string id;
  std::unique_ptr<Transport> transport;  // null: connected through deviceClient()
  std::string where;                    // the device address, for describe()
  ScaleOptions options;
  Logger logger;
};

std::unique_ptr<Scale> makeMtSicsScale(ScaleSetup setup);
std::unique_ptr<Scale> makeToledo8217Scale(ScaleSetup setup, std::optional<WeightUnit> unit);
std::unique_ptr<Scale> makeNciScale(ScaleSetup setup);
std::unique_ptr<Scale> makeHidPosScale(ScaleSetup setup, HidScaleQuirk quirk);

struct ContinuousSetup {
  ContinuousParser parser;
  std::string frameEnd = "\r\n";          // any of these bytes ends a frame
  std::optional<std::string> zeroCommand;  // sent as is; the scale does not acknowledge
  std::optional<std::string> tareCommand;
};
std::unique_ptr<Scale> makeContinuousScale(ScaleSetup setup, ContinuousSetup continuous);

}  // namespace floorlink::drivers
