#pragma once
// A document printer reached over IPP with libcups: an IPP Everywhere
// printer (ipp://, ipps://) or a queue of a CUPS server (cups:QUEUE), which
// converts for printers that do not take PDF.
//
// Threads: libcups calls block, so each printer has one worker thread that
// makes every IPP request (status polls, Print-Job, Get-Job-Attributes);
// results reach the loop through a LoopPoster. The worker never touches
// loop state; the loop side never calls libcups. stop() and the destructor
// cancel the worker first (every libcups wait is cut into 50 ms slices that
// check the cancel flag, a connect into 250 ms steps) and then join it, so
// they block the loop for one slice at most and nothing is posted after.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/loop_bound.h"
#include "printers/document_printer.h"

namespace floorlink::printers {

// Where the IPP requests go, from a docprinter's address and options.
struct IppTarget {
  std::string host;        // host name, address, or a socket path (a local cupsd)
  int port = 0;
  std::string resource;    // /ipp/print, /printers/QUEUE
  bool tls = false;        // ipps: TLS from the first byte
  bool verifyTls = true;   // ipps: the certificate must chain to a trusted CA and name `host`
  std::string caFile;      // ipps: trusted instead of the system's CAs
  std::string cupsQueue;   // cups:QUEUE: the queue; empty for a printer
  std::string uri() const; // the printer-uri of every request
};
// ipp(s)://host:port/res as written; cups:QUEUE on options.server, else on
// libcups's default server (CUPS_SERVER, client.conf, the local socket).
Result<IppTarget> ippTargetOf(const config::DeviceConfig& device);

// Timing the configuration does not set (tests shorten them).
struct IppPrinterTuning {
  std::chrono::milliseconds followPoll{250};    // Get-Job-Attributes while a job runs
  std::chrono::milliseconds busyBackoffMin{500};
  std::chrono::milliseconds busyBackoffMax{30000};
};

class IppDocumentPrinter final : public DocumentPrinter {
 public:
  static Result<std::unique_ptr<IppDocumentPrinter>> create(EventLoop& loop, const config::DeviceConfig& device,
                                                            Logger logger = {}, IppPrinterTuning tuning = {});
  ~IppDocumentPrinter() override;
  IppDocumentPrinter(const IppDocumentPrinter&) = delete;
  IppDocumentPrinter& operator=(const IppDocumentPrinter&) = delete;

  const std::string& id() const override { return id_; }
  std::string describe() const override;
  Status start(StatusCallback onStatus) override;
  void stop() override;
  const DocumentPrinterStatus& status() const override { return status_; }
  Status submit(DocumentJob job, JobCallbacks callbacks) override;
  void pollNow() override;

  struct Worker;  // the worker thread's state, shared with it (ipp_document_printer.cpp)

 private:
  IppDocumentPrinter(EventLoop& loop, std::string id, IppTarget target, config::DocPrinterOptions options,
                     IppPrinterTuning tuning, Logger logger);
  void onStatus(DocumentPrinterStatus status);
  void onProgress(uint64_t seq, const DocumentUpdate& update);
  void onDone(uint64_t seq, const DocumentResult& result);

  std::string id_;
  IppTarget target_;
  config::DocPrinterOptions options_;
  IppPrinterTuning tuning_;
  Logger log_;
  StatusCallback onStatus_;
  DocumentPrinterStatus status_;
  std::map<uint64_t, JobCallbacks> jobs_;
  uint64_t nextSeq_ = 1;
  std::shared_ptr<Worker> worker_;
  std::thread thread_;
  LoopBound bound_;  // last: posted callbacks die first
};

}  // namespace floorlink::printers
