#pragma once
// Scanners and scales speak their protocols over an io::Transport; the one
// transport only drivers/ has is the keyboard wedge (evdev:).
#include <memory>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "io/transport.h"

namespace floorlink::drivers {

using io::Transport;

//   evdev:PATH?layout=us|de&gs=CHAR
//       keyboard wedge: key presses become the characters they type on the
//       given layout; Ctrl+] and the configured gs character become GS (0x1D).
// Every other scheme is io::createTransport's (usb:// as HID).
Result<std::unique_ptr<Transport>> createTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                  Logger logger = {});

Result<std::unique_ptr<Transport>> createEvdevTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                       Logger logger);

}  // namespace floorlink::drivers
