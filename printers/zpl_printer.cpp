// ZPL printers over an io::Transport: ZplTcpPrinter, ZplSerialPrinter,
// ZplUsbPrinter and FilePrinter share the job and status logic of
// ZplStreamPrinter.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>

#include "io/backoff.h"
#include "io/transport.h"
#include "printers/label_printer.h"
#include "printers/label_template.h"

namespace floorlink::printers {

std::string_view toString(PrinterState state) {
  switch (state) {
    case PrinterState::kOk: return "ok";
    case PrinterState::kOffline: return "offline";
    case PrinterState::kFault: return "fault";
  }
  return "?";
}

std::string_view toString(PrintOutcome outcome) {
  switch (outcome) {
    case PrintOutcome::kConfirmed: return "confirmed";
    case PrintOutcome::kNotSent: return "not sent";
    case PrintOutcome::kUncertain: return "uncertain";
  }
  return "?";
}

namespace {

constexpr std::string_view kNoAnswer =
    "no answer to ~HS: the head may be open or media/ribbon out (Zebra printers stay silent then); check the printer";

class ZplStreamPrinter : public LabelPrinter {
 public:
  ZplStreamPrinter(EventLoop& loop, std::string id, std::unique_ptr<io::Transport> link, int configuredDpmm,
                   Logger logger, PrinterOptions options)
      : loop_(loop), id_(std::move(id)), link_(std::move(link)), configuredDpmm_(configuredDpmm),
        logger_(std::move(logger)), options_(options), backoff_(options.reconnectMin, options.reconnectMax) {
    status_.dotsPerMm = configuredDpmm;
    status_.reason = "not started";
  }
  ~ZplStreamPrinter() override { stop(); }

  const std::string& id() const override { return id_; }
  std::string describe() const override {
    std::string s = link_->describe();
    if (status_.identity) s += fmt::format(" ({}, {})", status_.identity->model, status_.identity->firmware);
    if (status_.dotsPerMm) s += fmt::format(", {} dots/mm", status_.dotsPerMm);
    return s;
  }
  const PrinterStatus& status() const override { return status_; }
  bool busy() const override { return job_.has_value(); }

  Status start(StatusCallback onStatus) override {
    onStatus_ = std::move(onStatus);
    started_ = true;
    connect();
    if (pollTimer_ == 0)
      pollTimer_ = loop_.addTimer(options_.pollInterval, [this] { idlePoll(); }, options_.pollInterval);
    return ok();
  }

  void stop() override {
    started_ = false;
    if (pollTimer_) loop_.cancelTimer(pollTimer_);
    if (reconnectTimer_) loop_.cancelTimer(reconnectTimer_);
    pollTimer_ = reconnectTimer_ = 0;
    failQueries(Error{ErrorCode::kCancelled, "printer stopped"});
    link_->close();
    if (job_) finishJob(PrintOutcome::kNotSent, "printer stopped");
  }

  void pollNow() override {
    if (link_->isOpen() && link_->readsBack()) queryStatus([](const Result<HostStatus>&) {});
  }

  void print(std::string zpl, std::function<Status()> beforeSend, PrintCallback done) override {
    if (job_) {
      done({PrintOutcome::kNotSent, "printer " + id_ + " is busy with another label"});
      return;
    }
    if (!link_->isOpen()) {
      done({PrintOutcome::kNotSent, "printer " + id_ + " is offline: " + status_.reason});
      return;
    }
    job_ = Job{std::move(zpl), std::move(beforeSend), std::move(done)};
    if (!link_->readsBack()) return sendJob();
    // Before: a printer with paper out, head open or paused must not get the label.
    queryStatus([this](const Result<HostStatus>& st) {
      if (!job_ || job_->phase != Phase::kPreCheck) return;
      if (!st) return finishJob(PrintOutcome::kNotSent, "not sent: " + st.error().message);
      if (auto f = st->faults(); !f.empty()) return finishJob(PrintOutcome::kNotSent, "not sent: printer reports " + f);
      sendJob();
    });
  }

 private:
  enum class Phase { kPreCheck, kSending, kConfirming };
  struct Job {
    std::string zpl;
    std::function<Status()> beforeSend;
    PrintCallback done;
    Phase phase = Phase::kPreCheck;
    uint64_t startBytes = 0;
    std::chrono::steady_clock::time_point deadline{};
    EventLoop::TimerId timer = 0;
  };
  struct Query {
    std::string command;
    int frames = 0;
    std::function<void(Result<std::string>)> done;
  };

  void connect() {
    if (!started_) return;
    auto s = link_->open({
        .onData = [this](std::span<const uint8_t> d) {
          onData(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
        },
        .onClosed = [this](const Error& e) { onClosed(e); },
        .onConnected = [this] { onOpen(); },
        .onFlushed = [this] { onFlushed(); },
    });
    if (!s) onClosed(s.error());
  }

  void onOpen() {
    backoff_.reset();
    logger_.info(fields(), "printer connected: {}", link_->describe());
    if (!link_->readsBack()) {
      setStatus(PrinterState::kOk, "");
      return;
    }
    // Learn the resolution first; templates are scaled to it.
    query("~HI", 1, [this](Result<std::string> r) {
      if (r) {
        auto id = parseHostIdentification(*r);
        if (id) {
          status_.identity = *id;
          status_.dotsPerMm = id->dotsPerMm;
        } else {
          logger_.warn(fields(), "printer ~HI reply unusable: {}", id.error().message);
        }
      } else if (configuredDpmm_ == 0) {
        logger_.warn(fields(), "printer did not answer ~HI and options.dpi is not set: "
                                               "labels cannot be scaled to it");
      }
      queryStatus([](const Result<HostStatus>&) {});
    });
  }

  void onClosed(const Error& e) {
    bool wasOpen = status_.state != PrinterState::kOffline;
    failQueries(e);
    rx_.clear();
    if (job_) {
      bool anySent = link_->bytesWritten() > job_->startBytes && job_->phase != Phase::kPreCheck;
      if (anySent)
        finishJob(PrintOutcome::kUncertain,
                  "connection lost after the label was sent (" + e.message + "); check whether it printed");
      else
        finishJob(PrintOutcome::kNotSent, "not sent: " + e.message);
    }
    link_->close();
    setStatus(PrinterState::kOffline, e.message);
    if (wasOpen) logger_.warn(fields(), "printer offline: {}", e.message);
    if (!started_) return;
    if (reconnectTimer_) loop_.cancelTimer(reconnectTimer_);
    reconnectTimer_ = loop_.addTimer(backoff_.next(), [this] {
      reconnectTimer_ = 0;
      connect();
    });
  }

  void onData(std::string_view d) {
    rx_.append(d);
    if (rx_.size() > 65536) rx_.erase(0, rx_.size() - 65536);  // a chatty printer must not grow memory
    if (!queryInFlight_ || queries_.empty()) {
      rx_.clear();  // unsolicited bytes
      return;
    }
    auto scan = scanFrames(rx_);
    if (scan.frames < queries_.front().frames) return;
    // Take exactly the frames of this answer.
    std::string reply;
    size_t used = 0;
    for (int i = 0; i < queries_.front().frames; ++i) {
      size_t etx = rx_.find('\x03', rx_.find('\x02', used));
      used = etx + 1;
      while (used < rx_.size() && (rx_[used] == '\r' || rx_[used] == '\n')) ++used;
    }
    reply = rx_.substr(0, used);
    rx_.erase(0, used);
    completeQuery(std::move(reply));
  }

  void onFlushed() {
    if (!job_ || job_->phase != Phase::kSending) return;
    // A flush reported for bytes written before the label (a status query) is not the label's.
    if (link_->bytesWritten() < job_->startBytes + job_->zpl.size()) return;
    if (!link_->readsBack()) {
      return finishJob(PrintOutcome::kConfirmed,
                       "written to " + link_->describe() + " (this printer reports no status)");
    }
    job_->phase = Phase::kConfirming;
    job_->deadline = std::chrono::steady_clock::now() + options_.confirmTimeout;
    confirmStep();
  }

  void sendJob() {
    if (job_->beforeSend) {
      if (auto s = job_->beforeSend(); !s) return finishJob(PrintOutcome::kNotSent, "not sent: " + s.error().message);
    }
    job_->phase = Phase::kSending;
    job_->startBytes = link_->bytesWritten();
    if (auto s = write(job_->zpl); !s) finishJob(PrintOutcome::kNotSent, "not sent: " + s.error().message);
  }

  // After the label: ~HS until the printer has no format and no label left.
  void confirmStep() {
    queryStatus([this](const Result<HostStatus>& st) {
      if (!job_ || job_->phase != Phase::kConfirming) return;
      if (!st)
        return finishJob(PrintOutcome::kUncertain,
                         "label sent but the printer stopped answering (" + st.error().message +
                             "); check whether it printed");
      if (auto f = st->faults(); !f.empty())
        return finishJob(PrintOutcome::kUncertain, "label sent, then the printer reported " + f +
                                                       "; check whether it printed");
      if (st->idle()) return finishJob(PrintOutcome::kConfirmed, "printed");
      if (std::chrono::steady_clock::now() >= job_->deadline)
        return finishJob(PrintOutcome::kUncertain,
                         fmt::format("label sent but the printer still holds {} format(s) and {} label(s) after {} s; "
                                     "check whether it printed",
                                     st->formatsInBuffer, st->labelsRemaining,
                                     std::chrono::duration_cast<std::chrono::seconds>(options_.confirmTimeout).count()));
      job_->timer = loop_.addTimer(options_.confirmPoll, [this] {
        if (job_) job_->timer = 0;
        confirmStep();
      });
    });
  }

  void finishJob(PrintOutcome outcome, std::string detail) {
    if (!job_) return;
    if (job_->timer) loop_.cancelTimer(job_->timer);
    auto done = std::move(job_->done);
    job_.reset();
    logger_.info(fields(), "label {}: {}", toString(outcome), detail);
    if (done) done({outcome, std::move(detail)});
  }

  void queryStatus(std::function<void(const Result<HostStatus>&)> done) {
    query("~HS", 3, [this, done = std::move(done)](Result<std::string> r) {
      Result<HostStatus> st = r ? parseHostStatus(*r) : Result<HostStatus>(std::unexpected(r.error()));
      if (!r && r.error().code == ErrorCode::kTimeout) {
        st = fail(ErrorCode::kFault, std::string(kNoAnswer));
        setStatus(PrinterState::kFault, std::string(kNoAnswer));
      } else if (!r) {
        // link trouble: onClosed sets the state
      } else if (!st) {
        logger_.warn(fields(), "unreadable ~HS reply: {}", st.error().message);
        setStatus(PrinterState::kFault, "unreadable status reply: " + st.error().message);
      } else {
        status_.host = *st;
        auto f = st->faults();
        setStatus(f.empty() ? PrinterState::kOk : PrinterState::kFault, f);
      }
      done(st);
    });
  }

  void query(std::string command, int frames, std::function<void(Result<std::string>)> done) {
    if (!link_->isOpen()) {
      done(fail(ErrorCode::kDisconnected, "printer offline"));
      return;
    }
    queries_.push_back({std::move(command), frames, std::move(done)});
    if (!queryInFlight_) sendQuery();
  }

  // One query on the wire at a time: replies carry no id, so order is the only match.
  void sendQuery() {
    while (!queryInFlight_ && !queries_.empty()) {
      rx_.clear();
      if (auto s = write(queries_.front().command); !s) {
        auto q = std::move(queries_.front());
        queries_.pop_front();
        q.done(std::unexpected(s.error()));
        continue;
      }
      queryInFlight_ = true;
      if (queryTimer_) loop_.cancelTimer(queryTimer_);
      queryTimer_ = loop_.addTimer(options_.replyTimeout, [this] {
        queryTimer_ = 0;
        if (!queryInFlight_ || queries_.empty()) return;
        queryInFlight_ = false;
        auto q = std::move(queries_.front());
        queries_.pop_front();
        rx_.clear();
        q.done(fail(ErrorCode::kTimeout, fmt::format("no answer to {} within {} ms", q.command,
                                                     options_.replyTimeout.count())));
        sendQuery();
      });
    }
  }

  void completeQuery(std::string reply) {
    if (queryTimer_) loop_.cancelTimer(queryTimer_);
    queryTimer_ = 0;
    queryInFlight_ = false;
    auto q = std::move(queries_.front());
    queries_.pop_front();
    q.done(std::move(reply));  // may queue (and send) the next query itself
    sendQuery();
  }

  void failQueries(const Error& e) {
    if (queryTimer_) loop_.cancelTimer(queryTimer_);
    queryTimer_ = 0;
    queryInFlight_ = false;
    auto pending = std::move(queries_);
    queries_.clear();
    for (auto& q : pending) q.done(std::unexpected(e));
  }

  void idlePoll() {
    if (job_ || !queries_.empty() || !link_->isOpen() || !link_->readsBack()) return;
    queryStatus([](const Result<HostStatus>&) {});
  }

  void setStatus(PrinterState state, std::string reason) {
    if (status_.state == state && status_.reason == reason) return;
    status_.state = state;
    status_.reason = std::move(reason);
    if (status_.dotsPerMm == 0) status_.dotsPerMm = configuredDpmm_;
    if (state == PrinterState::kFault)
      logger_.warn(fields(), "printer fault: {}", status_.reason);
    if (onStatus_) onStatus_(status_);
  }

  Status write(std::string_view bytes) {
    return link_->write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }

  LogFields fields() const { return deviceFields(id_); }

  EventLoop& loop_;
  std::string id_;
  std::unique_ptr<io::Transport> link_;
  int configuredDpmm_;
  Logger logger_;
  PrinterOptions options_;
  StatusCallback onStatus_;
  PrinterStatus status_;
  bool started_ = false;
  std::optional<Job> job_;
  std::deque<Query> queries_;
  bool queryInFlight_ = false;
  std::string rx_;
  EventLoop::TimerId pollTimer_ = 0, reconnectTimer_ = 0, queryTimer_ = 0;
  io::Backoff backoff_;
};

// Named after how they reach the printer (house style); the logic is shared.
class ZplTcpPrinter final : public ZplStreamPrinter {
  using ZplStreamPrinter::ZplStreamPrinter;
};
class ZplSerialPrinter final : public ZplStreamPrinter {
  using ZplStreamPrinter::ZplStreamPrinter;
};
class ZplUsbPrinter final : public ZplStreamPrinter {
  using ZplStreamPrinter::ZplStreamPrinter;
};
class FilePrinter final : public ZplStreamPrinter {
  using ZplStreamPrinter::ZplStreamPrinter;
};

}  // namespace

Result<std::unique_ptr<LabelPrinter>> createLabelPrinter(EventLoop& loop, const config::DeviceConfig& device,
                                                         Logger logger, PrinterOptions options) {
  if (device.kind != config::DeviceKind::kPrinter)
    return fail(ErrorCode::kInvalidArgument, "device " + device.id + " is not a printer");
  if (!device.protocol.empty() && device.protocol != "zpl")
    return fail(ErrorCode::kUnsupported, device.origin.describe() + ": printer protocol \"" + device.protocol +
                                             "\" is not supported; floorlink speaks zpl");
  int dpmm = 0;
  if (auto it = device.options.find("dpi"); it != device.options.end()) {
    int dpi = 0;
    auto& t = it->second.text;
    std::from_chars(t.data(), t.data() + t.size(), dpi);
    dpmm = dpiToDotsPerMm(dpi);
    if (dpmm == 0)
      return fail(ErrorCode::kInvalidArgument,
                  it->second.origin.describe() + ": dpi must be 152, 203, 300 or 600, got " + t);
  }
  if (auto it = device.options.find("poll_ms"); it != device.options.end()) {
    int ms = 0;
    std::from_chars(it->second.text.data(), it->second.text.data() + it->second.text.size(), ms);
    if (ms < 100) return fail(ErrorCode::kInvalidArgument, it->second.origin.describe() + ": poll_ms must be >= 100");
    options.pollInterval = std::chrono::milliseconds(ms);
  }
  config::DeviceAddress a = device.address;
  if (a.scheme == config::AddressScheme::kEvdev || a.scheme == config::AddressScheme::kSim ||
      a.scheme == config::AddressScheme::kIpp || a.scheme == config::AddressScheme::kIpps ||
      a.scheme == config::AddressScheme::kCups) {
    return fail(ErrorCode::kUnsupported, device.origin.describe() + ": a printer cannot be addressed as " +
                                             std::string(config::toString(a.scheme)) +
                                             "; use tcp://host:9100, usb://vid:pid, serial:/dev/… or file:/path");
  }
  // Zebra serial ports default to XON/XOFF; the parameters mean what they
  // mean for every serial device.
  if (a.scheme == config::AddressScheme::kSerial && !a.params.contains("flow")) a.params["flow"] = "xonxoff";
  auto link = io::createTransport(loop, a, {.usb = io::UsbClass::kPrinter, .logger = logger});
  if (!link) return fail(link.error().code, device.origin.describe() + ": device \"" + device.id + "\": " +
                                                link.error().message);
  switch (a.scheme) {
    case config::AddressScheme::kTcp:
      return std::make_unique<ZplTcpPrinter>(loop, device.id, std::move(*link), dpmm, logger, options);
    case config::AddressScheme::kSerial:
      return std::make_unique<ZplSerialPrinter>(loop, device.id, std::move(*link), dpmm, logger, options);
    case config::AddressScheme::kUsb:
      return std::make_unique<ZplUsbPrinter>(loop, device.id, std::move(*link), dpmm, logger, options);
    case config::AddressScheme::kFile:
    case config::AddressScheme::kEvdev:
    case config::AddressScheme::kSim:
    case config::AddressScheme::kIpp:
    case config::AddressScheme::kIpps:
    case config::AddressScheme::kCups:
      break;
  }
  return std::make_unique<FilePrinter>(loop, device.id, std::move(*link), dpmm ? dpmm : 8, logger, options);
}

}  // namespace floorlink::printers
