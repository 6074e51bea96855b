#include "drivers/scale/scale_driver.h"

#include <fmt/format.h>

#include "drivers/scale/frames.h"

namespace floorlink::drivers {
namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
}  // namespace

ScaleDriver::ScaleDriver(EventLoop& loop, std::string id, std::string protocol, std::unique_ptr<Transport> transport,
                         std::string where, ScaleOptions options, Logger logger)
    : loop_(loop),
      id_(std::move(id)),
      protocol_(std::move(protocol)),
      transport_(std::move(transport)),
      where_(std::move(where)),
      options_(options),
      logger_(std::move(logger)),
      tracker_(options.stability),
      bound_(loop) {}

ScaleDriver::~ScaleDriver() {
  // Pending callbacks are dropped: their owner is tearing us down.
  cancelTimers();
  closing_ = true;
  if (transport_ && transport_->isOpen()) transport_->close();
}

std::string_view ScaleDriver::requestName(Request r) {
  switch (r) {
    case Request::kNone: return "none";
    case Request::kStartup: return "startup";
    case Request::kPoll: return "weight";
    case Request::kZero: return "zero";
    case Request::kTare: return "tare";
    case Request::kClearTare: return "clear tare";
  }
  return "none";
}

std::string ScaleDriver::unsupportedHint(Request request) const {
  return fmt::format("the {} protocol has no {} command: use the {} key on the scale", protocol_,
                     requestName(request), request == Request::kZero ? "ZERO" : "TARE");
}

std::string ScaleDriver::describe() const {
  return protocol_ + " over " + (transport_ ? transport_->describe() : where_);
}

DeviceClient ScaleDriver::deviceClient() {
  auto alive = bound_.token();
  DeviceClient client;
  client.onData = [this, alive](std::span<const uint8_t> bytes) {
    if (!alive.expired() && started_ && linkUp_) handleData(bytes);
  };
  client.onConnected = [this, alive](DeviceWriter writer) {
    if (alive.expired()) return;
    writer_ = std::move(writer);
    linkUp();
  };
  client.onDisconnected = [this, alive](const DeviceStatus& status) {
    if (!alive.expired()) linkDown(status.detail);
  };
  return client;
}

void ScaleDriver::postCallback(std::function<void()> fn) {
  bound_.post(std::move(fn));
}

void ScaleDriver::setStatus(DeviceState state, std::string detail, bool routine) {
  if (status_.state == state && status_.detail == detail) return;
  status_ = DeviceStatus{state, std::move(detail)};
  LogFields fields = scaleLogFields(id_);
  if (state == DeviceState::kOk || routine) {
    logger_.info(fields, "scale {}: {}", id_, status_.detail);
  } else {
    logger_.warn(fields, "scale {} {}: {}", id_, toString(state), status_.detail);
  }
  if (statusCallback_) {
    auto cb = statusCallback_;
    cb(status_);
  }
}

void ScaleDriver::start() {
  bound_.assertLoopThread();
  if (started_) return;
  started_ = true;
  connecting_ = true;
  backoff_ = options_.reconnectMin;
  if (transport_) {
    openTransport();
  } else if (linkUp_) {
    beginSession();
  } else {
    setStatus(DeviceState::kOffline, "waiting for the device to connect", true);
  }
}

void ScaleDriver::stop() {
  bound_.assertLoopThread();
  if (!started_) return;
  started_ = false;
  cancelTimers();
  if (transport_) {
    closing_ = true;
    if (transport_->isOpen()) transport_->close();
    closing_ = false;
    linkUp_ = false;
    writer_ = nullptr;
  }
  auto alive = bound_.token();
  failAll(Error{ErrorCode::kCancelled, "scale " + id_ + " was stopped"});
  if (alive.expired()) return;
  tracker_.reset();
  hasReading_ = false;
  setStatus(DeviceState::kOffline, "stopped", true);
}

void ScaleDriver::cancelSessionTimers() {
  for (auto* t : {&answerTimer_, &pollTimer_, &silenceTimer_}) {
    if (*t != 0) loop_.cancelTimer(*t);
    *t = 0;
  }
}

void ScaleDriver::cancelTimers() {
  cancelSessionTimers();
  if (reconnectTimer_ != 0) loop_.cancelTimer(reconnectTimer_);
  reconnectTimer_ = 0;
  for (auto& [key, w] : weighs_) {
    if (w.timer != 0) loop_.cancelTimer(w.timer);
    w.timer = 0;
  }
}

void ScaleDriver::openTransport() {
  reconnectTimer_ = 0;
  if (!started_) return;
  auto alive = bound_.token();
  Transport::Handlers handlers;
  handlers.onData = [this, alive](std::span<const uint8_t> bytes) {
    if (!alive.expired() && started_ && linkUp_) handleData(bytes);
  };
  handlers.onClosed = [this, alive](const Error& why) {
    if (!alive.expired() && !closing_) handleClosed(why);
  };
  handlers.onConnected = [this, alive] {
    if (!alive.expired() && transport_->isOpen()) linkUp();
  };
  auto opened = transport_->open(std::move(handlers));
  if (!opened) {
    connecting_ = false;
    setStatus(DeviceState::kOffline, fmt::format("cannot open {}: {}; check that the scale is plugged in and "
                                                 "switched on (retrying)",
                                                 transport_->describe(), opened.error().message));
    if (!alive.expired()) scheduleReconnect();
    return;
  }
  writer_ = [this](std::span<const uint8_t> bytes) { return transport_->write(bytes); };
  setStatus(DeviceState::kOffline, "opening " + transport_->describe(), true);
}

void ScaleDriver::linkUp() {
  linkUp_ = true;
  connecting_ = false;
  if (started_) beginSession();
}

void ScaleDriver::linkDown(const std::string& reason) {
  bool was = linkUp_;
  linkUp_ = false;
  connecting_ = false;
  writer_ = nullptr;
  if (!started_ || !was) return;
  logger_.warn(scaleLogFields(id_), "scale {}: disconnected: {}", id_, reason);
  cancelSessionTimers();
  inFlight_ = Request::kNone;
  tracker_.reset();
  hasReading_ = false;
  auto alive = bound_.token();
  setStatus(DeviceState::kOffline, fmt::format("disconnected ({}): check the cable or plug the scale back in", reason));
  if (alive.expired()) return;
  failAll(Error{ErrorCode::kDisconnected, "scale " + id_ + " disconnected: " + reason});
}

void ScaleDriver::beginSession() {
  cancelSessionTimers();
  connecting_ = false;
  resetFraming();
  inFlight_ = Request::kNone;
  startupDone_ = false;
  missed_ = 0;
  garbage_ = 0;
  auto alive = bound_.token();
  logger_.info(scaleLogFields(id_), "scale {}: connected, {}", id_, describe());
  lastFrameAt_ = Clock::now();
  setStatus(DeviceState::kOffline,
            "connected to " + (transport_ ? transport_->describe() : where_) + ", waiting for the scale to answer",
            true);
  if (alive.expired() || !linkUp_) return;
  if (requestBytes(Request::kPoll)) {
    pollTimer_ = loop_.addTimer(options_.pollInterval, [this] { pollTick(); }, options_.pollInterval);
  }
  if (options_.silence.count() > 0 && !expectsAnswer(Request::kPoll)) {
    milliseconds every = std::max(milliseconds{20}, options_.silence / 4);
    silenceTimer_ = loop_.addTimer(
        every,
        [this] {
          auto quiet = std::chrono::duration_cast<milliseconds>(Clock::now() - lastFrameAt_);
          if (quiet >= options_.silence) {
            setStatus(DeviceState::kFault,
                      fmt::format("no data from the scale for {} ms: check that it is switched on and plugged in, "
                                  "and {}",
                                  quiet.count(), setupHint()));
          }
        },
        every);
  }
  sendNext(true);
}

void ScaleDriver::scheduleReconnect() {
  if (!started_ || reconnectTimer_ != 0) return;
  milliseconds delay = backoff_;
  backoff_ = std::min(options_.reconnectMax, backoff_ * 2);
  reconnectTimer_ = loop_.addTimer(delay, [this] { openTransport(); });
}

void ScaleDriver::pollTick() {
  if (inFlight_ == Request::kNone) sendNext(true);
}

void ScaleDriver::sendNext(bool poll) {
  if (inFlight_ != Request::kNone || !linkUp_) return;
  if (!startupDone_) {
    if (auto bytes = requestBytes(Request::kStartup)) {
      send(Request::kStartup, *bytes);
      return;
    }
    startupDone_ = true;
  }
  if (!commands_.empty()) {
    PendingCommand c = std::move(commands_.front());
    commands_.pop_front();
    auto bytes = requestBytes(c.request);
    if (!expectsAnswer(c.request)) {
      // Streaming scales do not acknowledge: sent is all we can know.
      bool sent = send(c.request, bytes.value_or(""));
      if (c.done) {
        c.done(sent ? ok()
                    : fail(ErrorCode::kIo, fmt::format("could not send the {} command to the scale",
                                                       requestName(c.request))));
      }
      return;
    }
    inFlightDone_ = std::move(c.done);
    if (!send(c.request, bytes.value_or(""))) {
      auto cb = std::move(inFlightDone_);
      inFlightDone_ = nullptr;
      if (cb) cb(fail(ErrorCode::kIo, fmt::format("could not send the {} command to the scale", requestName(c.request))));
    }
    return;
  }
  if (poll) {
    if (auto bytes = requestBytes(Request::kPoll)) send(Request::kPoll, *bytes);
  }
}

bool ScaleDriver::send(Request request, const std::string& bytes) {
  auto written = writer_ ? writer_(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
                         : Status(fail(ErrorCode::kDisconnected, "not connected"));
  if (!written) {
    logger_.warn(scaleLogFields(id_), "scale {}: cannot send {} request: {}", id_, requestName(request),
                 written.error().describe());
    return false;
  }
  if (expectsAnswer(request)) {
    inFlight_ = request;
    // Zero and tare wait for a stable weight on the scale (MT-SICS Z/T):
    // they get as long as weigh() does.
    bool command = request == Request::kZero || request == Request::kTare || request == Request::kClearTare;
    auto wait = command ? std::max(options_.answerTimeout, options_.timeout) : options_.answerTimeout;
    answerTimer_ = loop_.addTimer(wait, [this] { answerTimedOut(); });
  }
  return true;
}

void ScaleDriver::answerTimedOut() {
  answerTimer_ = 0;
  Request r = inFlight_;
  inFlight_ = Request::kNone;
  auto cb = std::move(inFlightDone_);
  inFlightDone_ = nullptr;
  if (r == Request::kStartup) startupDone_ = true;  // old firmware may not know it; go on
  ++missed_;
  auto alive = bound_.token();
  if (cb) {
    cb(fail(ErrorCode::kTimeout, fmt::format("the scale did not answer the {} command within {} ms",
                                             requestName(r),
                                             std::max(options_.answerTimeout, options_.timeout).count())));
    if (alive.expired()) return;
  }
  if (missed_ >= options_.missedAnswers) {
    setStatus(DeviceState::kFault,
              fmt::format("no answer from the scale to {} requests in a row: check that it is switched on and "
                          "plugged in, and {}",
                          missed_, setupHint()));
    if (alive.expired()) return;
  }
  sendNext(false);
}

void ScaleDriver::handleData(std::span<const uint8_t> bytes) {
  lastFrameAt_ = Clock::now();
  std::vector<Event> events;
  onBytes(bytes, inFlight_, events);
  auto alive = bound_.token();
  for (auto& e : events) {
    handleEvent(e);
    if (alive.expired()) return;
  }
}

void ScaleDriver::handleEvent(Event& e) {
  auto alive = bound_.token();
  Request answered = Request::kNone;
  CommandCallback cb;
  // A weight is never the answer to zero/tare: it is a late answer to an
  // earlier poll, and the command is still waiting for its own.
  bool commandInFlight =
      inFlight_ == Request::kZero || inFlight_ == Request::kTare || inFlight_ == Request::kClearTare;
  if (e.kind == Event::Kind::kReading && commandInFlight) e.completes = false;
  if (e.completes && inFlight_ != Request::kNone) {
    if (answerTimer_ != 0) loop_.cancelTimer(answerTimer_);
    answerTimer_ = 0;
    answered = inFlight_;
    inFlight_ = Request::kNone;
    cb = std::move(inFlightDone_);
    inFlightDone_ = nullptr;
    if (answered == Request::kStartup) startupDone_ = true;
  }
  if (e.kind == Event::Kind::kGarbage) {
    ++garbage_;
    lastGarbage_ = e.garbage.message;
    logger_.warn(scaleLogFields(id_), "scale {}: unreadable data: {}", id_, e.garbage.message);
    if (garbage_ >= options_.garbageLimit) {
      setStatus(DeviceState::kFault, fmt::format("the scale sends data we cannot read ({}): check that it is set "
                                                 "to {} and {}",
                                                 e.garbage.message, protocol_, setupHint()));
      if (alive.expired()) return;
    }
    if (cb) {
      cb(fail(ErrorCode::kProtocol, fmt::format("the scale answered the {} command with unreadable data: {}",
                                                requestName(answered), e.garbage.message)));
      if (alive.expired()) return;
    }
  } else {
    garbage_ = 0;
    missed_ = 0;
    backoff_ = options_.reconnectMin;
    deviceFault_ = e.deviceFault;
    if (deviceFault_) {
      setStatus(DeviceState::kFault, *deviceFault_);
    } else {
      setStatus(DeviceState::kOk, "ok");
    }
    if (alive.expired()) return;
    if (e.kind == Event::Kind::kAnswer && answered != Request::kPoll && answered != Request::kStartup &&
        answered != Request::kNone) {
      // Zero and tare change what the numbers mean: start a new run.
      if (e.result) tracker_.reset();
      if (cb) {
        cb(e.result);
        if (alive.expired()) return;
      }
    }
    if (e.kind == Event::Kind::kReading) {
      handleReading(std::move(e.reading));
      if (alive.expired()) return;
    }
  }
  if (answered != Request::kNone) sendNext(false);
}

void ScaleDriver::handleReading(Reading reading) {
  reading.at = Clock::now();
  auto outcome = tracker_.add(reading);
  hasReading_ = true;
  auto alive = bound_.token();
  if (!watchers_.empty()) {
    auto watchers = watchers_;
    for (auto& [id, cb] : watchers) {
      if (!watchers_.contains(id)) continue;  // unwatched by an earlier watcher
      cb(tracker_.last());
      if (alive.expired()) return;
    }
  }
  if (outcome.verdict != StabilityTracker::Verdict::kWait) deliverWeighs(outcome);
}

void ScaleDriver::deliverWeighs(const StabilityTracker::Outcome& outcome) {
  auto weighs = std::move(weighs_);
  weighs_.clear();
  for (auto& [key, w] : weighs) {
    if (w.timer != 0) loop_.cancelTimer(w.timer);
  }
  auto alive = bound_.token();
  for (auto& [key, w] : weighs) {
    if (outcome.verdict == StabilityTracker::Verdict::kAccept) {
      logger_.info(scaleLogFields(id_), "scale {}: stable weight {} g after {} readings", id_,
                   outcome.weight.grams, outcome.weight.readings);
      w.done(outcome.weight);
    } else {
      w.done(std::unexpected(outcome.error));
    }
    if (alive.expired()) return;
  }
}

void ScaleDriver::weigh(WeighCallback done) {
  bound_.assertLoopThread();
  if (!started_ || (!linkUp_ && !connecting_)) {
    postCallback([done = std::move(done), why = "scale " + id_ + " is offline: " + status_.detail] {
      done(fail(ErrorCode::kDisconnected, why));
    });
    return;
  }
  // A stable run that already qualifies counts, as long as it is current.
  // A rejection waits for the next reading: the packer may just have fixed it.
  auto outcome = tracker_.current();
  auto freshness = options_.pollInterval * 2 + options_.answerTimeout;
  if (outcome.verdict == StabilityTracker::Verdict::kAccept && hasReading_ &&
      Clock::now() - tracker_.last().at <= freshness) {
    postCallback([done = std::move(done), weight = outcome.weight] { done(weight); });
    return;
  }
  uint64_t key = nextWeigh_++;
  PendingWeigh w{std::move(done), 0};
  w.timer = loop_.addTimer(options_.timeout, [this, key] { weighTimedOut(key); });
  weighs_.emplace(key, std::move(w));
}

void ScaleDriver::weighTimedOut(uint64_t key) {
  auto it = weighs_.find(key);
  if (it == weighs_.end()) return;
  auto done = std::move(it->second.done);
  weighs_.erase(it);
  std::string why = fmt::format("no stable weight within {} ms: {}", options_.timeout.count(),
                                hasReading_ ? tracker_.waitingFor() : std::string("the scale sent no reading"));
  if (status_.state != DeviceState::kOk) {
    why += fmt::format(" (scale {}: {})", toString(status_.state), status_.detail);
  }
  done(fail(ErrorCode::kTimeout, why));
}

void ScaleDriver::command(Request request, CommandCallback done) {
  if (!requestBytes(request)) {
    postCallback([done = std::move(done), why = unsupportedHint(request)] { done(fail(ErrorCode::kUnsupported, why)); });
    return;
  }
  if (!started_ || (!linkUp_ && !connecting_)) {
    postCallback([done = std::move(done), why = "scale " + id_ + " is offline: " + status_.detail] {
      done(fail(ErrorCode::kDisconnected, why));
    });
    return;
  }
  commands_.push_back(PendingCommand{request, std::move(done)});
  sendNext(false);
}

ScaleDriver::WatchId ScaleDriver::watchReadings(ReadingCallback callback) {
  WatchId id = nextWatch_++;
  watchers_.emplace(id, std::move(callback));
  return id;
}

void ScaleDriver::unwatchReadings(WatchId id) { watchers_.erase(id); }

void ScaleDriver::handleClosed(const Error& why) {
  auto alive = bound_.token();
  connecting_ = false;
  if (linkUp_) {
    linkDown(why.message);
  } else {
    setStatus(DeviceState::kOffline, fmt::format("cannot connect ({}): check that the scale is plugged in and "
                                                 "switched on",
                                                 why.message));
  }
  if (alive.expired()) return;
  scheduleReconnect();
}

void ScaleDriver::failAll(const Error& error) {
  auto inFlight = std::move(inFlightDone_);
  inFlightDone_ = nullptr;
  if (answerTimer_ != 0) loop_.cancelTimer(answerTimer_);
  answerTimer_ = 0;
  inFlight_ = Request::kNone;
  auto commands = std::move(commands_);
  commands_.clear();
  auto weighs = std::move(weighs_);
  weighs_.clear();
  for (auto& [key, w] : weighs) {
    if (w.timer != 0) loop_.cancelTimer(w.timer);
  }
  auto alive = bound_.token();
  if (inFlight) {
    inFlight(std::unexpected(error));
    if (alive.expired()) return;
  }
  for (auto& c : commands) {
    if (c.done) c.done(std::unexpected(error));
    if (alive.expired()) return;
  }
  for (auto& [key, w] : weighs) {
    w.done(std::unexpected(error));
    if (alive.expired()) return;
  }
}

}  // namespace floorlink::drivers
