// Kept apart from scale_factory.cpp so code that brings its own transport
// (tests, benchmarks) does not pull in every transport implementation.
#include "drivers/scale/scale.h"

namespace floorlink::drivers {

Result<std::unique_ptr<Scale>> createScale(EventLoop& loop, const config::DeviceConfig& device, Logger logger) {
  auto transport = createTransport(loop, device.address);
  if (!transport) {
    return fail(transport.error().code, "scale " + device.id + ": " + transport.error().message);
  }
  return createScale(loop, device, std::move(*transport), std::move(logger));
}

}  // namespace floorlink::drivers
