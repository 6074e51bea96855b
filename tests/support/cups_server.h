#pragma once
// A real, private CUPS scheduler for integration tests: /usr/sbin/cupsd in
// the foreground (-f) with its own cupsd.conf and cups-files.conf in a
// temporary directory, listening on 127.0.0.1 and a free port, no browsing,
// no web interface, its own spool, cache, state and log directories.
//
// What cupsd needs (CUPS 2.4, found by hand):
// - cups-files.conf takes no PidFile (an unknown directive is fatal), and
//   Printcap needs a value (a file in the temp dir).
// - Run as root, cupsd runs filters as lp: the temp dir must be searchable
//   by others and TempDir world-writable (1777), or gstoraster fails with
//   "Can't create temporary file" and the queue stops. ErrorPolicy abort-job
//   keeps a failed job from stopping the queue for the next test.
// - Queues: `lpadmin -h 127.0.0.1:PORT -p Q -E -v ipp://…/ipp/print -m everywhere`
//   asks the printer for its attributes and makes a PPD, but cupsd answers
//   lpadmin before it has made it (in the background; the error_log says
//   'Printer "Q" is now available.' when done): a job sent in between is
//   aborted, so addQueue() waits for that line. PDF sent to such a
//   queue is converted for the printer (pdftopdf, then gstoraster when the
//   printer takes only image/pwg-raster). A queue made without -m is raw:
//   the bytes reach the printer unchanged.
// - `cupsdisable -h … Q` stops a queue: printer-state stopped, reason paused.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"

namespace floorlink::testing {

class CupsServer {
 public:
  static Result<std::unique_ptr<CupsServer>> start(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~CupsServer();  // SIGKILL, remove the directory
  CupsServer(const CupsServer&) = delete;
  CupsServer& operator=(const CupsServer&) = delete;

  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }  // for -h and CUPS_SERVER

  // A queue to an IPP printer; `model` "everywhere" (CUPS converts) or "" (raw).
  Status addQueue(const std::string& name, const std::string& deviceUri, const std::string& model = "everywhere");
  Status disableQueue(const std::string& name);  // cupsdisable
  Status enableQueue(const std::string& name);   // cupsenable
  std::string errorLog() const;

 private:
  CupsServer(std::string dir, uint16_t port) : dir_(std::move(dir)), port_(port) {}
  Status run(const std::string& command) const;

  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace floorlink::testing
