#pragma once
// The protocol-independent half of every scale: transport lifecycle and
// reconnect, request/answer bookkeeping, polling, silence and garbage
// detection, device status, the stability tracker and weigh/zero/tare
// requests. Protocol classes (MtSicsScale, ...) only frame and interpret bytes.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/loop_bound.h"
#include "drivers/scale/scale.h"
#include "drivers/scale/stability.h"

namespace floorlink::drivers {

// LogFields for a scale's log lines.
inline LogFields scaleLogFields(std::string_view device) {
  LogFields f;
  f.device = device;
  return f;
}

struct ScaleOptions {
  StabilityCriteria stability;
  std::chrono::milliseconds timeout{5000};         // weigh() gives up after this
  std::chrono::milliseconds pollInterval{200};     // polled protocols: request period
  std::chrono::milliseconds answerTimeout{1000};   // one request's answer
  std::chrono::milliseconds silence{3000};         // streaming protocols: offline after this without a frame; 0: off
  int missedAnswers = 3;                           // polled: offline after this many unanswered requests
  int garbageLimit = 3;                            // fault after this many unreadable frames in a row
  std::chrono::milliseconds reconnectMin{500};
  std::chrono::milliseconds reconnectMax{10000};
};

class ScaleDriver : public Scale {
 public:
  ~ScaleDriver() override;

  void start() override;
  void stop() override;
  void weigh(WeighCallback done) override;
  void zero(CommandCallback done) override { command(Request::kZero, std::move(done)); }
  void tare(CommandCallback done) override { command(Request::kTare, std::move(done)); }
  void clearTare(CommandCallback done) override { command(Request::kClearTare, std::move(done)); }
  DeviceClient deviceClient() override;
  WatchId watchReadings(ReadingCallback callback) override;
  void unwatchReadings(WatchId id) override;
  const Reading* lastReading() const override { return hasReading_ ? &tracker_.last() : nullptr; }
  DeviceStatus status() const override { return status_; }
  void setStatusCallback(StatusCallback callback) override { statusCallback_ = std::move(callback); }
  const std::string& id() const override { return id_; }
  std::string describe() const override;

 protected:
  enum class Request { kNone, kStartup, kPoll, kZero, kTare, kClearTare };
  static std::string_view requestName(Request r);

  // What the protocol made of the bytes.
  struct Event {
    enum class Kind { kReading, kAnswer, kGarbage };
    Kind kind = Kind::kAnswer;
    Reading reading;                        // kReading
    bool completes = false;                 // answers the request in flight
    Status result;                          // kAnswer to a command: done or why not
    Error garbage;                          // kGarbage: what was wrong
    std::optional<std::string> deviceFault; // the scale reports a hardware fault
  };

  // `transport` may be null: the device manager then connects us (deviceClient()).
  // `where` names the device for describe() in that case (its address).
  ScaleDriver(EventLoop& loop, std::string id, std::string protocol, std::unique_ptr<Transport> transport,
              std::string where, ScaleOptions options, Logger logger);

  // Bytes to send for a request; nullopt when the protocol has none (no
  // polling for streaming protocols; unsupported zero/tare).
  virtual std::optional<std::string> requestBytes(Request request) const = 0;
  // Whether the scale answers that request (streaming protocols: no).
  virtual bool expectsAnswer(Request request) const { return request != Request::kNone; }
  // Why a command is not available and what to do instead.
  virtual std::string unsupportedHint(Request request) const;
  // Settings a technician should compare when the scale is silent or babbles.
  virtual std::string setupHint() const = 0;
  virtual void onBytes(std::span<const uint8_t> bytes, Request inFlight, std::vector<Event>& out) = 0;
  virtual void resetFraming() = 0;

  const Logger& logger() const { return logger_; }
  const ScaleOptions& options() const { return options_; }

 private:
  struct PendingCommand {
    Request request;
    CommandCallback done;
  };
  struct PendingWeigh {
    WeighCallback done;
    EventLoop::TimerId timer = 0;
  };

  void command(Request request, CommandCallback done);
  void openTransport();
  void linkUp();
  void linkDown(const std::string& reason);
  void beginSession();
  void scheduleReconnect();
  void handleData(std::span<const uint8_t> bytes);
  void handleClosed(const Error& why);
  void handleEvent(Event& event);
  void handleReading(Reading reading);
  void pollTick();
  void sendNext(bool poll);
  bool send(Request request, const std::string& bytes);
  void answerTimedOut();
  void completeInFlight();
  void finishCommand(Request request, Status result);
  void failAll(const Error& error);
  void deliverWeighs(const StabilityTracker::Outcome& outcome);
  void weighTimedOut(uint64_t key);
  // `routine` states (connecting, stopped) are logged at info, not warn.
  void setStatus(DeviceState state, std::string detail, bool routine = false);
  void cancelTimers();
  void cancelSessionTimers();
  void postCallback(std::function<void()> fn);

  EventLoop& loop_;
  std::string id_;
  std::string protocol_;
  std::unique_ptr<Transport> transport_;  // null with a device manager
  std::string where_;
  DeviceWriter writer_;
  bool linkUp_ = false;
  ScaleOptions options_;
  Logger logger_;
  bool started_ = false;
  bool connecting_ = false;  // started, first connection not yet made or failed
  bool closing_ = false;  // we are closing the transport ourselves
  DeviceStatus status_{DeviceState::kOffline, "not started"};
  StatusCallback statusCallback_;

  Request inFlight_ = Request::kNone;
  CommandCallback inFlightDone_;
  EventLoop::TimerId answerTimer_ = 0;
  EventLoop::TimerId pollTimer_ = 0;
  EventLoop::TimerId reconnectTimer_ = 0;
  EventLoop::TimerId silenceTimer_ = 0;
  std::chrono::milliseconds backoff_{0};
  bool startupDone_ = false;
  int missed_ = 0;
  int garbage_ = 0;
  std::string lastGarbage_;
  std::optional<std::string> deviceFault_;
  std::chrono::steady_clock::time_point lastFrameAt_{};
  std::deque<PendingCommand> commands_;

  StabilityTracker tracker_;
  bool hasReading_ = false;
  std::map<uint64_t, PendingWeigh> weighs_;
  uint64_t nextWeigh_ = 1;
  std::map<WatchId, ReadingCallback> watchers_;
  WatchId nextWatch_ = 1;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace floorlink::drivers
