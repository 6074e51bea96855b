#include "drivers/transport.h"

namespace floorlink::drivers {

Result<std::unique_ptr<Transport>> createTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                  Logger logger) {
  if (address.scheme == config::AddressScheme::kEvdev) return createEvdevTransport(loop, address, std::move(logger));
  // A scanner or scale does not write to a file; io would happily append to one.
  if (address.scheme == config::AddressScheme::kFile) {
    return fail(ErrorCode::kUnsupported, "address \"" + address.text +
                                             "\": file is not a byte-stream device (use serial:, tcp://, usb:// or evdev:)");
  }
  return io::createTransport(loop, address, {.usb = io::UsbClass::kHid, .logger = std::move(logger)});
}

}  // namespace floorlink::drivers
