#pragma once
// A ZPL printer on a loopback TCP port, for tests, benchmarks and demos. It
// parses the stream like a printer (formats split across reads or joined),
// journals every format, answers ~HS / ~HI / ~HQES byte-exactly from its
// state, and injects faults. It runs its own thread (it stands for another
// machine); every method is thread-safe.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "printers/host_status.h"

namespace floorlink::printers {

class FakeZplPrinter {
 public:
  struct Options {
    uint16_t port = 0;  // 0: any free port
    int dotsPerMm = 8;
    std::string model = "ZT410";
    std::string firmware = "V75.20.01Z";
    bool logTraffic = false;  // prints traffic to stderr (floorlink-fake-printer -v)
    // As silenceAfterNextFormat() from the first moment, for a client that may
    // connect and print before the caller could call it.
    bool silentAfterFirstFormat = false;
  };

  static Result<std::unique_ptr<FakeZplPrinter>> start(Options options);
  static Result<std::unique_ptr<FakeZplPrinter>> start() { return start(Options{}); }
  ~FakeZplPrinter();
  FakeZplPrinter(const FakeZplPrinter&) = delete;
  FakeZplPrinter& operator=(const FakeZplPrinter&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // Journal: every complete format (^XA … ^XZ) received, in order, and the
  // labels actually printed (formats × ^PQ, while no fault holds them).
  std::vector<std::string> formats() const;
  int labelsPrinted() const;
  int formatsWaiting() const;
  size_t connectionsAccepted() const;
  size_t statusQueriesAnswered() const;
  // Waits until at least `count` formats were received (tests).
  bool waitForFormats(size_t count, std::chrono::milliseconds timeout) const;

  // Faults. Paper out, pause and ribbon out hold received formats (they print
  // when cleared) and show in ~HS; head open makes ~HS silent, as Zebra does.
  void setPaperOut(bool on);
  void setPaused(bool on);
  void setHeadOpen(bool on);
  void setRibbonOut(bool on);
  // The next format is cut off: the printer resets (closes the connection,
  // drops the partial format) once it has seen ^XA.
  void resetMidFormat();
  // Connections are refused (listening socket closed) until cleared.
  void setRefuseConnections(bool on);
  // The current/next connection is dropped after `bytes` more received bytes.
  void dropAfterBytes(size_t bytes);
  // Reads at most `chunk` bytes per `delay` (a slow or congested printer).
  void setSlowReads(std::chrono::milliseconds delay, size_t chunk = 16);
  // After the next complete format, stop answering ~HS (the crash test's
  // "printer took the label, agent died before confirming").
  void silenceAfterNextFormat();

  HostStatus hostStatus() const;
  std::string hostStatusReply() const;
  std::string hostIdentificationReply() const;
  std::string extendedStatusReply() const;

 private:
  explicit FakeZplPrinter(Options options) : options_(std::move(options)) {}
  Status listen();
  void run();
  void serve(int fd);
  // Consumes the stream; returns replies to send. Caller holds mutex_.
  std::string consume(std::string_view bytes, bool& closeNow);
  void completeFormat(std::string format);
  void releaseHeld();
  HostStatus statusLocked() const;
  std::string extendedLocked() const;

  Options options_;
  uint16_t port_ = 0;
  int listenFd_ = -1;
  std::atomic<bool> listening_{false};
  int wakeFd_[2] = {-1, -1};
  std::thread thread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<std::string> formats_;
  std::vector<std::string> held_;  // received, waiting for a fault to clear
  int labelsPrinted_ = 0;
  size_t connections_ = 0;
  size_t statusAnswered_ = 0;
  std::string pending_;  // stream bytes not yet parsed
  bool inFormat_ = false;
  std::string format_;
  bool paperOut_ = false, paused_ = false, headOpen_ = false, ribbonOut_ = false;
  bool resetMidFormat_ = false;
  bool refuse_ = false;
  bool refuseApplied_ = false;
  size_t dropAfter_ = 0;
  bool dropArmed_ = false;
  std::chrono::milliseconds slowDelay_{0};
  size_t slowChunk_ = 16;
  bool silenceAfterFormat_ = false;
  bool silent_ = false;
};

}  // namespace floorlink::printers
