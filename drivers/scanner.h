#pragma once
// Barcode scanners: the Scanner interface and its factory. A scanner turns
// the bytes of its device into typed scans (scan.h); the device manager
// delivers those bytes and owns the connection:
//
//   auto scanner = drivers::createScanner(loop, deviceConfig, logger);   // validates options
//   (*scanner)->setHandlers({.onScan = ..., .onBadScan = ...});
//   manager.add(deviceConfig, (*scanner)->deviceClient());
//
// Options ([devices.options], all optional):
//   suffix = "cr" | "lf" | "crlf" | "none"   frame end (default cr; usb: none needed)
//   prefix = "\x02"                           stripped from every frame
//   length = 12                               fixed-length frames (suffix none)
//   timeout_ms = 50                           a pause ends a frame (suffix none)
//   bin_pattern = "^([A-Z]\d{2}-\d{2})$"      bin labels (ECMAScript regex, group 1 = bin)
//   command_pattern = "^CMD:(.+)$"            command barcodes (group 1 = command)
//   good_read = "\x1b[7q" / bad_read = "..."  feedback commands from the scanner's manual
//   hid_report_id = 2                         usb: the HID POS input report id
// Strings accept \r \n \t \\ and \xHH escapes.
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "drivers/device.h"
#include "drivers/scan.h"

namespace floorlink::drivers {

class Scanner {
 public:
  struct Handlers {
    std::function<void(const ScanValue& scan)> onScan;
    // A read that is no valid scan (bad check digit, truncated frame, missing
    // prefix); `raw` is the frame as read. A bad-read beep is already sent.
    std::function<void(const Error& why, const std::string& raw)> onBadScan;
  };

  virtual ~Scanner() = default;
  virtual const std::string& id() const = 0;
  virtual void setHandlers(Handlers handlers) = 0;
  // Hand this to DeviceManager::add() for the same device.
  virtual DeviceClient deviceClient() = 0;
  // Good-read / bad-read feedback (beep, LED) for the picker, e.g. after the
  // workflow rejects a scan. kUnsupported when the model has none configured,
  // kDisconnected when the scanner is not connected.
  virtual Status feedback(bool good) = 0;
  virtual bool supportsFeedback() const = 0;
};

// Validates the device's options (errors quote the config file and line).
Result<std::unique_ptr<Scanner>> createScanner(EventLoop& loop, const config::DeviceConfig& device, Logger logger);

// "\x1d" and friends in option strings to bytes.
Result<std::string> unescapeOption(std::string_view text);

}  // namespace floorlink::drivers
