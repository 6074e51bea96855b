#pragma once
// The print journal: renders, verifies and prints labels so that each task's
// label prints once. Every job is journaled (JobStore) before a byte goes
// out; a job interrupted between sending and confirmation becomes
// `uncertain` and is never resent without an operator's decision.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "printers/job_store.h"
#include "printers/label_printer.h"
#include "printers/label_template.h"
#include "printers/verify.h"

namespace floorlink::printers {

// One label for one task (a pack task's `label` plus its context).
struct LabelRequest {
  std::string idempotencyKey;  // e.g. "T-7/label/1": the same key never prints twice
  std::string printer;         // device id
  std::string templateName;
  std::string taskId, station, waveId, orderId;
  std::map<std::string, std::string> fields;  // the task's label.fields
  std::string sscc;            // from the task; generated when empty and the template uses {{sscc}}
  std::string tracking, carrier;
  // Resumed after a restart: a printer not connected yet is waited for (up
  // to 30 s) instead of failing the label at once.
  bool waitForPrinter = false;
};

struct RenderedLabel {
  std::string zpl;             // exact bytes for the printer
  std::string sscc;            // on the label (may be empty)
  int dotsPerMm = 0;
  Verification verification;
};

struct PrintServiceOptions {
  std::string site, agent;
  std::string gs1CompanyPrefix;
  int extensionDigit = 0;
  std::chrono::milliseconds jobExpiry{std::chrono::hours(24)};
  int defaultDotsPerMm = 8;    // preview when the printer is unknown or silent
  static PrintServiceOptions from(const config::Config& config);
};

// Facts for `floorlinkctl print test PRINTER`.
struct TestLabelFacts {
  std::string agentVersion;
  std::string hostname;
  std::vector<std::string> addresses;  // "eth0 10.1.2.7"
};

class PrintService {
 public:
  using JobCallback = std::function<void(const Result<PrintJob>&)>;

  PrintService(EventLoop& loop, JobStore& store, const TemplateLibrary& templates, const Clock& clock,
               Logger logger, PrintServiceOptions options);
  ~PrintService();
  PrintService(const PrintService&) = delete;
  PrintService& operator=(const PrintService&) = delete;

  // Told after every change of a job's state made here (printing, confirm,
  // reprint, cancel, recovery, expiry), so a station shows it at once.
  void setJobListener(std::function<void(const PrintJob&)> listener) { jobListener_ = std::move(listener); }

  // Printers stay owned by the caller and must outlive the service.
  void addPrinter(LabelPrinter& printer);
  LabelPrinter* printer(std::string_view id) const;

  // Start-up: jobs found `sent` become `uncertain` (never resent blindly);
  // queued/uncertain jobs past their expiry become `expired`. Returns how
  // many jobs became uncertain.
  Result<int> recover();

  // Renders, verifies, journals and prints. `done` gets the job in its final
  // state for this request (confirmed / failed / uncertain). A request whose
  // idempotency key is known prints nothing new: a job still `queued` (no
  // byte of it ever reached a printer, e.g. the agent stopped right after
  // journaling it) is sent now; any other state is returned as it is.
  void submit(const LabelRequest& request, JobCallback done);
  void submitBy(const LabelRequest& request, JobCallback done, std::chrono::steady_clock::time_point waitUntil);

  // The job that stands for this label now (the key's job or its newest reprint).
  Result<std::optional<PrintJob>> current(std::string_view idempotencyKey);

  // floorlinkctl print jobs
  Result<std::vector<PrintJob>> jobs(const JobFilter& filter);
  // floorlinkctl print reprint JOB: queued or uncertain -> printed again (same
  // bytes, same SSCC); failed -> a new job "<key>/reprint-N" with the same label.
  void reprint(std::string_view jobId, JobCallback done);
  // The operator saw that an uncertain label did print.
  Result<PrintJob> confirm(std::string_view jobId);
  // floorlinkctl print cancel JOB: a queued job is not printed.
  Result<PrintJob> cancel(std::string_view jobId);
  // floorlinkctl print test PRINTER: a status label with agent, printer and network facts.
  void testPrint(std::string_view printerId, const TestLabelFacts& facts, JobCallback done);
  // queued/uncertain jobs older than the expiry become expired; returns the count.
  Result<int> expireOld();

  // Fill + scale + verify without journaling or printing. `allocateSscc`
  // false puts a placeholder SSCC (for previews).
  Result<RenderedLabel> render(const LabelRequest& request, int dotsPerMm, bool allocateSscc);
  // floorlinkctl label preview TASK --out label.png
  Result<std::vector<uint8_t>> previewPng(const LabelRequest& request);

 private:
  struct Pending {
    std::string jobId;
    JobCallback done;
    // A job resumed after a restart may find its printer not connected yet:
    // it waits for it (up to kResumeWait) instead of failing at once.
    std::chrono::steady_clock::time_point waitUntil{};
  };
  Result<LabelValues> valuesFor(const LabelRequest& request, const std::string& sscc) const;
  int dotsPerMmOf(std::string_view printerId) const;
  void enqueue(const std::string& printerId, Pending pending);
  void pump(const std::string& printerId);
  void send(const std::string& printerId, Pending pending);
  void finish(Pending& pending, const std::string& printerId);
  Result<PrintJob> load(std::string_view jobId);
  // Records a state change durably, then tells the job listener.
  Status setState(std::string_view jobId, JobState state, std::string_view detail, int attempts);
  void announce(std::string_view jobId);
  bool isWaiting(const std::string& printerId, std::string_view jobId) const;
  LogFields fieldsOf(const PrintJob& job) const;

  EventLoop& loop_;
  JobStore& store_;
  const TemplateLibrary& templates_;
  const Clock& clock_;
  Logger logger_;
  PrintServiceOptions options_;
  std::map<std::string, LabelPrinter*, std::less<>> printers_;
  std::map<std::string, std::deque<Pending>, std::less<>> queues_;
  std::map<std::string, bool, std::less<>> printing_;
  std::set<std::string, std::less<>> inFlight_;  // jobs handed to a printer, not answered yet
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  EventLoop::TimerId expiryTimer_ = 0;
  std::map<std::string, EventLoop::TimerId, std::less<>> retryTimers_;
  std::function<void(const PrintJob&)> jobListener_;
};

}  // namespace floorlink::printers
