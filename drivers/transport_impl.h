#pragma once
// Private to drivers/: the concrete transports behind createTransport().
#include <memory>

#include "config/config.h"
#include "core/log.h"
#include "drivers/transport.h"

namespace floorlink::drivers::detail {

Result<std::unique_ptr<Transport>> createSerialTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createTcpTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                     Logger logger);
Result<std::unique_ptr<Transport>> createUsbHidTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createEvdevTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                       Logger logger);

// LogFields for a device line (designated initializers would warn about
// the fields left out).
inline LogFields deviceFields(std::string_view device) {
  LogFields f;
  f.device = device;
  return f;
}

// "cannot open X: <strerror(err)>"
std::string errnoMessage(int err);

// Parses a decimal or 0x-prefixed unsigned parameter.
Result<unsigned long> parseUnsignedParam(const config::DeviceAddress& address, const std::string& key,
                                         unsigned long min, unsigned long max, unsigned long fallback);

}  // namespace floorlink::drivers::detail
