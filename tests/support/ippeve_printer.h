#pragma once
// A real IPP Everywhere printer for integration tests: /usr/sbin/ippeveprinter
// (Debian cups-ipp-utils) on loopback, a free port, a temporary directory.
//
// What ippeveprinter needs and does (CUPS 2.4, found by hand):
// - It wants a D-Bus system bus even with `-r off` (no DNS-SD): without one
//   it exits "Unable to initialize DNS-SD". The fixture starts a private
//   dbus-daemon (a system-type bus on a socket in the temp dir) and points
//   DBUS_SYSTEM_BUS_ADDRESS at it; avahi is then simply absent ("Ignored
//   Avahi state 101"). `-n localhost` keeps it on loopback.
// - Without a print command (-c) it "prints" by sleeping 5-15 s per job; with
//   one it runs `CMD SPOOLFILE` with the job's attributes in the environment
//   (IPP_COPIES, IPP_SIDES, IPP_MEDIA, CONTENT_TYPE, IPP_JOB_ID, …), and the
//   job ends when the command does: exit 0 -> completed, non-zero ->
//   aborted (job-state-message from an "ERROR: text" line on stderr). The
//   command's stderr also speaks the CUPS filter language: "STATE: +media-empty"
//   sets printer-state-reasons (reported with a -report/-warning/-error
//   suffix depending on printer-state), "ATTR: job-impressions-completed=3"
//   sets a job attribute. While media-empty is set, the next job waits in
//   processing with media-needed: so every test gets its own printer.
// - One job at a time: a Print-Job while one is processing is answered
//   server-error-busy ("Currently printing another job.").
// - `-f` sets document-format-supported (plus application/octet-stream), so
//   a printer that does not take PDF is `-f image/pwg-raster`.
// - `-K DIR` with DIR/localhost.crt and .key (PEM) makes it answer TLS
//   (ipps://localhost:PORT) on the same port with that certificate.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::testing {

struct IppEvePrinterOptions {
  std::vector<std::string> formats{"application/pdf", "image/pwg-raster"};  // -f
  bool duplex = true;                                                        // -2
  std::string certFile, keyFile;  // PEM for "localhost": TLS too (ipps)
  std::chrono::milliseconds startTimeout{10000};
};

// What the print command does for the jobs after setJobBehavior().
struct JobBehavior {
  bool gate = false;                  // waits (up to 10 min) until openGate() before ending the job
  std::chrono::milliseconds hold{0};  // sleeps this long before ending the job
  int exitCode = 0;                   // non-zero: the job is aborted
  std::string error;                  // an "ERROR:" line (job-state-message)
  std::string state;                  // a "STATE:" line, e.g. "+media-empty,toner-low"
  int impressions = 0;                // an "ATTR: job-impressions-completed=N" line when > 0
};

struct ReceivedJob {
  int jobId = 0;
  std::string bytes;                               // the spool file the printer got
  std::map<std::string, std::string> attributes;  // the command's IPP_* and CONTENT_TYPE variables
  bool finished = false;                           // the command ran to its end
};

class IppEvePrinter {
 public:
  static Result<std::unique_ptr<IppEvePrinter>> start(IppEvePrinterOptions options = {});
  ~IppEvePrinter();  // SIGKILL both processes, remove the directory
  IppEvePrinter(const IppEvePrinter&) = delete;
  IppEvePrinter& operator=(const IppEvePrinter&) = delete;

  uint16_t port() const { return port_; }
  std::string uri() const;       // ipp://127.0.0.1:PORT/ipp/print
  std::string ippsUri() const;   // ipps://localhost:PORT/ipp/print
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  Status setJobBehavior(const JobBehavior& behavior);
  Status openGate();  // lets jobs waiting at the gate end (and the next ones pass)
  // Jobs whose print command has started, by job id.
  std::vector<ReceivedJob> received() const;
  bool waitForJobs(size_t started, size_t finished, std::chrono::milliseconds timeout) const;

  Status kill();    // SIGKILL and reap
  Status freeze();  // SIGSTOP: connections are accepted by the kernel, nothing answers
  Status thaw();
  std::string log() const;

 private:
  IppEvePrinter(IppEvePrinterOptions options, std::string dir, uint16_t port);
  Status spawn();

  IppEvePrinterOptions options_;
  std::string dir_;
  uint16_t port_;
  pid_t busPid_ = -1;
  pid_t pid_ = -1;
};

// A small valid one-page PDF, padded with a comment stream to about `size`
// bytes; `tag` is printed on the page and makes the bytes unique.
std::string makeTestPdf(const std::string& tag, size_t size = 2048);

}  // namespace floorlink::testing
