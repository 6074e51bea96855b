#include "printers/print_service.h"

#include <fmt/format.h>

#include <ctime>

#include "core/crash_point.h"
#include "core/gs1.h"
#include "printers/preview.h"

namespace floorlink::printers {
namespace {

// The built-in label of `floorlinkctl print test PRINTER`.
constexpr std::string_view kTestTemplate = R"(# floorlink printer test label
# dpi: 203
^XA^CI28^PW812^LL812
^FO30,30^GB752,752,4^FS
^FO60,60^A0N,48,48^FDfloorlink printer test^FS
^FO60,130^A0N,30,30^FDPrinter: {{printer}}^FS
^FO60,170^A0N,30,30^FDAddress: {{field.address}}^FS
^FO60,210^A0N,30,30^FDModel: {{field.model}}^FS
^FO60,250^A0N,30,30^FDResolution: {{field.resolution}}^FS
^FO60,290^A0N,30,30^FDStatus: {{field.status}}^FS
^FO60,350^A0N,30,30^FDAgent: {{site}}/{{agent}} {{field.version}}^FS
^FO60,390^A0N,30,30^FDHost: {{field.hostname}}^FS
^FO60,430^A0N,30,30^FDNetwork: {{field.network}}^FS
^FO60,470^A0N,30,30^FDPrinted: {{date}} {{time}} UTC^FS
^FO60,540^BY2^BCN,120,Y,N,N^FD{{printer}}^FS
^XZ
)";

// How long a job resumed after a restart waits for its printer to connect.
constexpr std::chrono::seconds kResumeWait{30};

std::string utcFormat(int64_t ms, const char* format) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}


}  // namespace

PrintServiceOptions PrintServiceOptions::from(const config::Config& config) {
  PrintServiceOptions o;
  o.site = config.agent.site;
  o.agent = config.agent.id;
  o.gs1CompanyPrefix = config.labels.gs1CompanyPrefix;
  o.extensionDigit = config.labels.extensionDigit;
  o.jobExpiry = config.labels.jobExpiry;
  return o;
}

PrintService::PrintService(EventLoop& loop, JobStore& store, const TemplateLibrary& templates, const Clock& clock,
                           Logger logger, PrintServiceOptions options)
    : loop_(loop), store_(store), templates_(templates), clock_(clock), logger_(std::move(logger)),
      options_(std::move(options)) {
  // Uncertain and forgotten queued jobs must not linger for ever: check hourly.
  expiryTimer_ = loop_.addTimer(
      std::chrono::hours(1),
      [this] {
        if (auto n = expireOld(); !n) logger_.warn("print job expiry failed: {}", n.error().describe());
      },
      std::chrono::hours(1));
}

PrintService::~PrintService() {
  *alive_ = false;
  loop_.cancelTimer(expiryTimer_);
  for (auto& [id, timer] : retryTimers_) loop_.cancelTimer(timer);
}

void PrintService::addPrinter(LabelPrinter& printer) { printers_[printer.id()] = &printer; }

LabelPrinter* PrintService::printer(std::string_view id) const {
  auto it = printers_.find(id);
  return it == printers_.end() ? nullptr : it->second;
}

LogFields PrintService::fieldsOf(const PrintJob& job) const {
  LogFields f;
  f.device = job.printer;
  f.station = job.station;
  f.taskId = job.taskId;
  return f;
}

int PrintService::dotsPerMmOf(std::string_view printerId) const {
  auto* p = printer(printerId);
  return p ? p->status().dotsPerMm : 0;
}

Result<LabelValues> PrintService::valuesFor(const LabelRequest& r, const std::string& sscc) const {
  LabelValues v;
  v.fields = r.fields;
  int64_t now = clock_.nowMs();
  v.values["date"] = utcFormat(now, "%Y-%m-%d");
  v.values["time"] = utcFormat(now, "%H:%M");
  v.values["printer"] = r.printer;
  v.values["agent"] = options_.agent;
  v.values["site"] = options_.site;
  auto put = [&](const char* name, const std::string& value) {
    if (!value.empty()) v.values[name] = value;  // absent stays absent: the template fails naming it
  };
  put("sscc", sscc);
  put("station", r.station);
  put("task_id", r.taskId);
  put("order_id", r.orderId);
  put("wave_id", r.waveId);
  put("tracking", r.tracking);
  put("carrier", r.carrier);
  return v;
}

Result<RenderedLabel> PrintService::render(const LabelRequest& request, int dotsPerMm, bool allocateSscc) {
  const LabelTemplate* t = templates_.find(request.templateName);
  if (!t)
    return fail(ErrorCode::kNotFound, fmt::format("no label template '{}' (known: {}); add {}.zpl to the templates "
                                                  "directory", request.templateName,
                                                  fmt::join(templates_.names(), ", "), request.templateName));
  RenderedLabel out;
  out.sscc = request.sscc;
  if (!out.sscc.empty()) {
    if (auto s = gs1::validateSscc(out.sscc); !s) return std::unexpected(s.error());
  } else if (t->uses("sscc")) {
    if (allocateSscc) {
      auto serial = store_.nextSerial("sscc");
      if (!serial) return std::unexpected(serial.error());
      auto sscc = gs1::makeSscc(options_.gs1CompanyPrefix, options_.extensionDigit, *serial);
      if (!sscc) return std::unexpected(sscc.error());
      out.sscc = *sscc;
    } else {
      auto sample = gs1::makeSscc(options_.gs1CompanyPrefix, options_.extensionDigit, 0);
      out.sscc = sample ? *sample : "000000000000000000";
    }
  }
  auto values = valuesFor(request, out.sscc);
  if (!values) return std::unexpected(values.error());
  auto zpl = t->fill(*values, dotsPerMm);
  if (!zpl) return std::unexpected(zpl.error());
  out.zpl = std::move(*zpl);
  out.dotsPerMm = dotsPerMm;
  out.verification = verifyLabel(out.zpl, VerifyExpectations{.sscc = out.sscc});
  return out;
}

Result<std::vector<uint8_t>> PrintService::previewPng(const LabelRequest& request) {
  int dpmm = dotsPerMmOf(request.printer);
  if (dpmm == 0) dpmm = options_.defaultDotsPerMm;
  auto label = render(request, dpmm, false);
  if (!label) return std::unexpected(label.error());
  PreviewOptions po;
  po.dotsPerMm = dpmm;
  po.defaultWidth = 102 * dpmm;   // 4 in
  po.defaultLength = 152 * dpmm;  // 6 in
  auto raster = rasterizeLabel(label->zpl, po);
  if (!raster) return std::unexpected(raster.error());
  return encodePng(*raster, dpmm);
}

void PrintService::submit(const LabelRequest& request, JobCallback done) {
  auto until = request.waitForPrinter ? std::chrono::steady_clock::now() + kResumeWait
                                      : std::chrono::steady_clock::time_point{};
  submitBy(request, std::move(done), until);
}

void PrintService::submitBy(const LabelRequest& request, JobCallback done,
                            std::chrono::steady_clock::time_point waitUntil) {
  if (LabelPrinter* p = printer(request.printer); p != nullptr && p->status().state == PrinterState::kOffline &&
                                                  p->status().dotsPerMm == 0 &&
                                                  std::chrono::steady_clock::now() < waitUntil) {
    // Never seen since start (still connecting): its resolution is unknown, so
    // the label cannot be made yet. Ask again shortly.
    loop_.addTimer(std::chrono::milliseconds(250),
                   [this, alive = alive_, request, done = std::move(done), waitUntil]() mutable {
                     if (*alive) submitBy(request, std::move(done), waitUntil);
                   });
    return;
  }
  if (request.idempotencyKey.empty()) {
    done(fail(ErrorCode::kInvalidArgument, "a label request needs an idempotency key (e.g. TASK/label/1)"));
    return;
  }
  auto existing = store_.findByKey(request.idempotencyKey);
  if (!existing) {
    done(std::unexpected(existing.error()));
    return;
  }
  if (*existing) {
    const PrintJob& known = **existing;
    // queued: journaled, never handed to a printer (the agent stopped in
    // between): sending it now is its first and only print.
    if (known.state == JobState::kQueued && !isWaiting(known.printer, known.jobId) &&
        !inFlight_.contains(known.jobId)) {
      logger_.info(fieldsOf(known), "label {} was journaled as job {} but never sent: sending it now",
                   request.idempotencyKey, known.jobId);
      enqueue(known.printer, Pending{known.jobId, std::move(done), std::max(waitUntil, std::chrono::steady_clock::now() + kResumeWait)});
      return;
    }
    logger_.info(fieldsOf(known), "label {} already journaled as job {} ({}): not printing again",
                 request.idempotencyKey, known.jobId, toString(known.state));
    done(known);
    return;
  }
  PrintJob job;
  job.idempotencyKey = request.idempotencyKey;
  job.printer = request.printer;
  job.templateName = request.templateName;
  job.taskId = request.taskId;
  job.station = request.station;
  job.waveId = request.waveId;
  job.tracking = request.tracking;
  job.state = JobState::kQueued;
  job.createdMs = job.updatedMs = clock_.nowMs();

  std::string problem;
  LabelPrinter* p = printer(request.printer);
  if (!p) {
    problem = "no printer '" + request.printer + "' is configured for this station";
    job.cause = FailureCause::kLabel;
  } else if (p->status().state == PrinterState::kOffline && p->status().dotsPerMm == 0) {
    problem = "printer '" + request.printer + "' is offline (" + p->status().reason + "); nothing was printed";
    job.cause = FailureCause::kPrinter;
  } else {
    auto label = render(request, p->status().dotsPerMm, true);
    if (!label) {
      problem = label.error().message;
      job.cause = FailureCause::kLabel;
    } else {
      job.zpl = label->zpl;
      job.sscc = label->sscc;
      job.verified = label->verification.ok;
      if (!label->verification.ok) {
        problem = "barcode verification failed: " + label->verification.reason;
        job.cause = FailureCause::kLabel;
      }
    }
  }
  auto stored = store_.createOrGet(job);
  if (!stored) {
    done(std::unexpected(stored.error()));
    return;
  }
  if (stored->state != JobState::kQueued || stored->attempts > 0) {  // raced with another request
    done(*stored);
    return;
  }
  if (!problem.empty()) {
    logger_.warn(fieldsOf(*stored), "label job {} failed before printing: {}", stored->jobId, problem);
    if (auto s = setState(stored->jobId, JobState::kFailed, problem, stored->attempts); !s) {
      done(std::unexpected(s.error()));
      return;
    }
    done(load(stored->jobId));
    return;
  }
  announce(stored->jobId);
  crashPoint("print:journaled");  // queued, not handed to any printer yet
  enqueue(stored->printer, Pending{stored->jobId, std::move(done)});
}

bool PrintService::isWaiting(const std::string& printerId, std::string_view jobId) const {
  auto q = queues_.find(printerId);
  if (q == queues_.end()) return false;
  for (const auto& p : q->second)
    if (p.jobId == jobId) return true;
  return false;
}

Status PrintService::setState(std::string_view jobId, JobState state, std::string_view detail, int attempts) {
  auto s = store_.updateState(jobId, state, detail, attempts);
  if (s) announce(jobId);
  return s;
}

void PrintService::announce(std::string_view jobId) {
  if (!jobListener_) return;
  if (auto job = load(jobId)) jobListener_(*job);
}

void PrintService::enqueue(const std::string& printerId, Pending pending) {
  queues_[printerId].push_back(std::move(pending));
  pump(printerId);
}

void PrintService::pump(const std::string& printerId) {
  if (printing_[printerId]) return;
  auto& q = queues_[printerId];
  if (q.empty()) return;
  Pending next = std::move(q.front());
  q.pop_front();
  send(printerId, std::move(next));
}

void PrintService::send(const std::string& printerId, Pending pending) {
  auto job = load(pending.jobId);
  if (!job || job->state != JobState::kQueued) {  // cancelled or expired while waiting
    pending.done(job);
    return pump(printerId);
  }
  LabelPrinter* p = printer(printerId);
  if (!p) {
    (void)setState(job->jobId, JobState::kFailed, "no printer '" + printerId + "' is configured", job->attempts);
    pending.done(load(job->jobId));
    return pump(printerId);
  }
  if (p->status().state == PrinterState::kOffline && std::chrono::steady_clock::now() < pending.waitUntil) {
    // Not connected yet (the agent just started): try again shortly, first in line.
    queues_[printerId].push_front(std::move(pending));
    if (!retryTimers_.contains(printerId)) {
      retryTimers_[printerId] = loop_.addTimer(std::chrono::milliseconds(250), [this, printerId, alive = alive_] {
        if (!*alive) return;
        retryTimers_.erase(printerId);
        pump(printerId);
      });
    }
    return;
  }
  printing_[printerId] = true;
  inFlight_.insert(job->jobId);
  auto sentRecorded = std::make_shared<bool>(false);
  auto alive = alive_;
  int attempts = job->attempts + 1;
  std::string jobId = job->jobId;
  p->print(
      job->zpl,
      [this, jobId, attempts, sentRecorded]() -> Status {
        // Durable before the first byte: a crash from here on leaves `sent`, which recover() turns uncertain.
        auto s = setState(jobId, JobState::kSent, "", attempts);
        if (s) *sentRecorded = true;
        crashPoint("print:sent");  // sent is durable, the first byte not yet written
        return s;
      },
      [this, alive, printerId, attempts, sentRecorded, pending = std::move(pending)](const PrintResult& r) mutable {
        if (!*alive) return;
        JobState to = JobState::kFailed;
        if (r.outcome == PrintOutcome::kConfirmed) to = JobState::kConfirmed;
        else if (r.outcome == PrintOutcome::kUncertain) to = JobState::kUncertain;
        int att = *sentRecorded ? attempts : attempts - 1;
        if (*sentRecorded) crashPoint("print:answered");  // the printer answered, not yet recorded
        if (auto s = setState(pending.jobId, to, r.detail, att); !s)
          logger_.error("print job {}: cannot record {}: {}", pending.jobId, toString(to), s.error().describe());
        auto finished = load(pending.jobId);
        if (finished) {
          if (to == JobState::kConfirmed) logger_.info(fieldsOf(*finished), "label job {} printed", finished->jobId);
          else logger_.warn(fieldsOf(*finished), "label job {} {}: {}", finished->jobId, toString(to), r.detail);
        }
        printing_[printerId] = false;
        inFlight_.erase(pending.jobId);
        pending.done(finished);
        pump(printerId);
      });
}

Result<PrintJob> PrintService::load(std::string_view jobId) {
  auto j = store_.find(jobId);
  if (!j) return std::unexpected(j.error());
  if (!*j) return fail(ErrorCode::kNotFound, "no print job " + std::string(jobId) + "; see `floorlinkctl print jobs`");
  return **j;
}

Result<int> PrintService::recover() {
  JobFilter f;
  f.state = JobState::kSent;
  f.limit = 100000;
  auto sent = store_.list(f);
  if (!sent) return std::unexpected(sent.error());
  int n = 0;
  for (const auto& j : *sent) {
    auto s = setState(j.jobId, JobState::kUncertain,
                                "the agent stopped after sending this label, before the printer confirmed it; "
                                "check whether it printed, then `floorlinkctl print reprint " + j.jobId +
                                    "` or confirm it",
                                j.attempts);
    if (!s) return std::unexpected(s.error());
    logger_.warn(fieldsOf(j), "label job {} is uncertain after a restart: an operator must confirm or reprint it",
                 j.jobId);
    ++n;
  }
  if (auto e = expireOld(); !e) return std::unexpected(e.error());
  return n;
}

Result<int> PrintService::expireOld() {
  int n = 0;
  int64_t cutoff = clock_.nowMs() - options_.jobExpiry.count();
  for (JobState st : {JobState::kQueued, JobState::kUncertain}) {
    JobFilter f;
    f.state = st;
    f.limit = 100000;
    auto list = store_.list(f);
    if (!list) return std::unexpected(list.error());
    for (const auto& j : *list) {
      if (j.createdMs >= cutoff) continue;
      bool waiting = false;
      for (const auto& p : queues_[j.printer]) waiting |= p.jobId == j.jobId;
      if (waiting) continue;
      auto s = setState(j.jobId, JobState::kExpired,
                                  fmt::format("not printed within {} h", options_.jobExpiry.count() / 3600000),
                                  j.attempts);
      if (!s) return std::unexpected(s.error());
      ++n;
    }
  }
  return n;
}

Result<std::vector<PrintJob>> PrintService::jobs(const JobFilter& filter) { return store_.list(filter); }

Result<std::optional<PrintJob>> PrintService::current(std::string_view idempotencyKey) {
  return store_.findCurrent(idempotencyKey);
}

void PrintService::reprint(std::string_view jobId, JobCallback done) {
  auto job = load(jobId);
  if (!job) {
    done(std::unexpected(job.error()));
    return;
  }
  if (job->state == JobState::kSent) {
    done(fail(ErrorCode::kBusy, "job " + job->jobId + " is being printed right now"));
    return;
  }
  if (job->state == JobState::kQueued || job->state == JobState::kUncertain) {
    if (job->state == JobState::kUncertain) {
      if (auto s = setState(job->jobId, JobState::kQueued, "reprint requested by an operator", job->attempts); !s) {
        done(std::unexpected(s.error()));
        return;
      }
    } else {
      for (const auto& p : queues_[job->printer])
        if (p.jobId == job->jobId) {
          done(fail(ErrorCode::kBusy, "job " + job->jobId + " is already waiting for printer " + job->printer));
          return;
        }
    }
    logger_.info(fieldsOf(*job), "label job {} reprint requested", job->jobId);
    enqueue(job->printer, Pending{job->jobId, std::move(done)});
    return;
  }
  // Final states: the same label again, as a new journal entry.
  if (job->zpl.empty()) {
    done(fail(ErrorCode::kInvalidArgument, "job " + job->jobId + " never had a printable label (" + job->detail +
                                               "); fix the cause and let the task print again"));
    return;
  }
  PrintJob copy = *job;
  std::string key;
  for (int n = 1;; ++n) {
    key = job->idempotencyKey + "/reprint-" + std::to_string(n);
    auto e = store_.findByKey(key);
    if (!e) {
      done(std::unexpected(e.error()));
      return;
    }
    if (!*e) break;
  }
  copy.jobId.clear();
  copy.idempotencyKey = key;
  copy.state = JobState::kQueued;
  copy.detail = "reprint of " + job->jobId;
  copy.attempts = 0;
  copy.createdMs = copy.updatedMs = clock_.nowMs();
  auto stored = store_.createOrGet(copy);
  if (!stored) {
    done(std::unexpected(stored.error()));
    return;
  }
  announce(stored->jobId);
  enqueue(stored->printer, Pending{stored->jobId, std::move(done)});
}

Result<PrintJob> PrintService::confirm(std::string_view jobId) {
  auto job = load(jobId);
  if (!job) return job;
  if (job->state != JobState::kUncertain)
    return fail(ErrorCode::kInvalidArgument, "job " + job->jobId + " is " + std::string(toString(job->state)) +
                                                 "; only an uncertain job can be confirmed");
  if (auto s = setState(job->jobId, JobState::kConfirmed, "confirmed by an operator", job->attempts); !s)
    return std::unexpected(s.error());
  return load(jobId);
}

Result<PrintJob> PrintService::cancel(std::string_view jobId) {
  auto job = load(jobId);
  if (!job) return job;
  if (job->state == JobState::kUncertain)
    return fail(ErrorCode::kInvalidArgument, "job " + job->jobId + " is uncertain: check the printer, then confirm "
                                                 "it (it printed) or reprint it");
  if (job->state != JobState::kQueued)
    return fail(ErrorCode::kInvalidArgument,
                "job " + job->jobId + " is " + std::string(toString(job->state)) + " and cannot be cancelled");
  if (auto s = setState(job->jobId, JobState::kCancelled, "cancelled by an operator", job->attempts); !s)
    return std::unexpected(s.error());
  return load(jobId);
}

void PrintService::testPrint(std::string_view printerId, const TestLabelFacts& facts, JobCallback done) {
  LabelPrinter* p = printer(printerId);
  if (!p) {
    done(fail(ErrorCode::kNotFound, "no printer '" + std::string(printerId) + "' is configured"));
    return;
  }
  static const auto kTemplate = LabelTemplate::parse("printer-test", kTestTemplate);
  if (!kTemplate) {
    done(std::unexpected(kTemplate.error()));
    return;
  }
  const auto& st = p->status();
  LabelRequest r;
  // Each request is its own label: a key made of the time alone gave the second
  // of two requests in the same millisecond the first one's job back.
  auto serial = store_.nextSerial("print_test");
  if (!serial) {
    done(std::unexpected(serial.error()));
    return;
  }
  r.idempotencyKey = fmt::format("test/{}/{}", printerId, *serial);
  r.printer = std::string(printerId);
  r.templateName = "printer-test";
  r.fields["address"] = p->describe();
  r.fields["model"] = st.identity ? st.identity->model + " " + st.identity->firmware : "unknown (no ~HI answer)";
  r.fields["resolution"] = st.dotsPerMm ? fmt::format("{} dots/mm ({} dpi)", st.dotsPerMm, dotsPerMmToDpi(st.dotsPerMm))
                                        : "unknown";
  r.fields["status"] = std::string(toString(st.state)) + (st.reason.empty() ? "" : ": " + st.reason);
  r.fields["version"] = facts.agentVersion;
  r.fields["hostname"] = facts.hostname;
  r.fields["network"] = fmt::format("{}", fmt::join(facts.addresses, "; "));
  // Rendered from the built-in template, then journaled and printed as any label.
  auto values = valuesFor(r, "");
  if (!values) {
    done(std::unexpected(values.error()));
    return;
  }
  int dpmm = st.dotsPerMm ? st.dotsPerMm : options_.defaultDotsPerMm;
  auto zpl = kTemplate->fill(*values, dpmm);
  PrintJob job;
  job.idempotencyKey = r.idempotencyKey;
  job.printer = r.printer;
  job.templateName = r.templateName;
  job.createdMs = job.updatedMs = clock_.nowMs();
  std::string problem;
  if (!zpl) {
    problem = zpl.error().message;
  } else {
    job.zpl = *zpl;
    auto v = verifyLabel(job.zpl);
    job.verified = v.ok;
    if (!v.ok) problem = "barcode verification failed: " + v.reason;
  }
  auto stored = store_.createOrGet(job);
  if (!stored) {
    done(std::unexpected(stored.error()));
    return;
  }
  if (!problem.empty()) {
    (void)setState(stored->jobId, JobState::kFailed, problem, 0);
    done(load(stored->jobId));
    return;
  }
  enqueue(stored->printer, Pending{stored->jobId, std::move(done)});
}

}  // namespace floorlink::printers
