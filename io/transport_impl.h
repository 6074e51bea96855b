#pragma once
// Private to io/: the concrete transports behind createTransport().
#include <memory>

#include "config/config.h"
#include "core/log.h"
#include "io/transport.h"

namespace floorlink::io::detail {

Result<std::unique_ptr<Transport>> createSerialTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createTcpTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                     Logger logger);
Result<std::unique_ptr<Transport>> createUsbHidTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createUsbBulkTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                         Logger logger);
Result<std::unique_ptr<Transport>> createFileTransport(EventLoop& loop, const config::DeviceAddress& address);

// strerror(err)
std::string errnoMessage(int err);

}  // namespace floorlink::io::detail
