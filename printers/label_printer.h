#pragma once
// A ZPL label printer driven by the event loop: status through ~HS/~HI,
// one job at a time, each job answered confirmed / not sent / uncertain.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "printers/host_status.h"
#include "printers/printer_state.h"

namespace floorlink::printers {

struct PrinterStatus {
  PrinterState state = PrinterState::kOffline;
  std::string reason;                           // plain words when not ok
  std::optional<HostStatus> host;               // last ~HS answer
  std::optional<HostIdentification> identity;   // ~HI answer
  int dotsPerMm = 0;                            // ~HI, else options.dpi, else 0 (unknown)
  bool operator==(const PrinterStatus& o) const { return state == o.state && reason == o.reason; }
};

enum class PrintOutcome {
  kConfirmed,  // the printer took the label and reports it done
  kNotSent,    // nothing reached the printer: safe to try again
  kUncertain,  // bytes went out but completion is unknown: a person must look
};
std::string_view toString(PrintOutcome outcome);

struct PrintResult {
  PrintOutcome outcome = PrintOutcome::kNotSent;
  std::string detail;  // plain words
};

struct PrinterOptions {
  std::chrono::milliseconds pollInterval{5000};     // ~HS while idle
  std::chrono::milliseconds replyTimeout{2000};     // for one ~HS/~HI answer
  std::chrono::milliseconds confirmTimeout{15000};  // label sent -> printer idle
  std::chrono::milliseconds confirmPoll{150};
  std::chrono::milliseconds reconnectMin{500};
  std::chrono::milliseconds reconnectMax{30000};
};

class LabelPrinter {
 public:
  using StatusCallback = std::function<void(const PrinterStatus&)>;
  using PrintCallback = std::function<void(const PrintResult&)>;

  virtual ~LabelPrinter() = default;
  virtual const std::string& id() const = 0;
  // "tcp://10.1.2.3:9100 (ZT410-203dpi, 8 dots/mm)"
  virtual std::string describe() const = 0;
  // Connects (and keeps reconnecting); `onStatus` runs on the loop at every
  // change of state or reason.
  virtual Status start(StatusCallback onStatus) = 0;
  virtual void stop() = 0;
  virtual const PrinterStatus& status() const = 0;
  virtual bool busy() const = 0;
  // Checks status (~HS), calls `beforeSend` (the journal records `sent`
  // durably there; an error stops the job, nothing sent), sends the bytes,
  // then polls ~HS until the printer has finished them. `done` runs once, on
  // the loop.
  virtual void print(std::string zpl, std::function<Status()> beforeSend, PrintCallback done) = 0;
  // An immediate ~HS, outside the idle schedule.
  virtual void pollNow() = 0;
};

// tcp://host:9100 -> ZplTcpPrinter, usb://vid:pid?serial= -> ZplUsbPrinter,
// serial:/dev/ttyS0?baud=9600 -> ZplSerialPrinter, file:/path -> FilePrinter.
// Options: dpi (used when the printer does not answer ~HI), poll_ms; usb://…?status=none
// (printer without read-back: a label counts as printed once written).
Result<std::unique_ptr<LabelPrinter>> createLabelPrinter(EventLoop& loop, const config::DeviceConfig& device,
                                                         Logger logger = {}, PrinterOptions options = {});

}  // namespace floorlink::printers
