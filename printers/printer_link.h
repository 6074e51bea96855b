#pragma once
// Internal to printers/: the byte stream under a ZPL printer. printers may
// not use drivers/ transports (layering), so it has its own small set.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"

namespace floorlink::printers::detail {

class PrinterLink {
 public:
  struct Handlers {
    std::function<void()> onOpen;                       // connected, ready to write
    std::function<void(std::string_view)> onData;       // replies from the printer
    std::function<void()> onFlushed;                    // every queued byte written
    std::function<void(const Error&)> onClosed;         // after open failed or the link broke
  };
  virtual ~PrinterLink() = default;
  // Starts opening; the result arrives through onOpen or onClosed (on the loop).
  virtual Status open(Handlers handlers) = 0;
  virtual void close() = 0;
  virtual bool isOpen() const = 0;
  // Queues bytes; never blocks the loop.
  virtual Status write(std::string_view bytes) = 0;
  // Bytes handed to the device since open().
  virtual size_t bytesWritten() const = 0;
  virtual bool readsBack() const = 0;
  virtual std::string describe() const = 0;
};

Result<std::unique_ptr<PrinterLink>> createTcpLink(EventLoop& loop, const config::DeviceAddress& address);
Result<std::unique_ptr<PrinterLink>> createSerialLink(EventLoop& loop, const config::DeviceAddress& address);
Result<std::unique_ptr<PrinterLink>> createUsbLink(EventLoop& loop, const config::DeviceAddress& address,
                                                   Logger logger);
Result<std::unique_ptr<PrinterLink>> createFileLink(EventLoop& loop, const config::DeviceAddress& address);

}  // namespace floorlink::printers::detail
