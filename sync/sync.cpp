#include "sync/sync.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "sync/command_parser.h"
#include "sync/command_worker.h"
#include "sync/mqtt_client.h"
#include "sync/presence.h"

namespace floorlink::sync {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr int kQos = 1;
// Acks received within this window are applied together (one durable write).
constexpr milliseconds kAckBatch{100};
// A connection that lasted this long proved the node works: losing it starts
// a fresh round of URLs at the next node, with no backoff. A shorter one
// (a broker that accepts and then drops us, e.g. on a refused publish) counts
// as a failed attempt, so a flapping node cannot make us reconnect in a loop.
constexpr std::chrono::seconds kStableConnection{5};

// FNV-1a: a stable seed from the client id, so "shuffle" gives each agent the
// same order on every start (and a fleet an even spread over the nodes).
uint64_t stableSeed(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Bytes of an MQTT PUBLISH packet at QoS 1: fixed header, topic, packet id,
// (MQTT 5) an empty property list, payload.
size_t publishPacketSize(size_t topic, size_t payload, int version) {
  size_t rest = 2 + topic + 2 + (version >= 5 ? 1 : 0) + payload;
  size_t lengthBytes = rest < 128 ? 1 : rest < 16384 ? 2 : rest < 2097152 ? 3 : 4;
  return 1 + lengthBytes + rest;
}

std::string protocolName(int version) { return version >= 5 ? "5" : "3.1.1"; }

class MqttSync final : public Sync {
 public:
  MqttSync(EventLoop& loop, const config::Config& config, AgentPort& port, Logger logger,
           SyncOptions options)
      : loop_(loop),
        mqtt_(config.mqtt),
        site_(config.agent.site),
        agentId_(config.agent.id),
        port_(port),
        log_(std::move(logger)),
        options_(std::move(options)),
        clock_(options.clock ? options.clock : &systemClock_),
        rng_(std::random_device{}()) {
    prefix_ = "wh/v1/" + site_ + "/" + agentId_ + "/";
    stateTopic_ = prefix_ + "state";
    evtTopic_ = prefix_ + "evt";
    cmdTopic_ = prefix_ + "cmd";
    ackTopic_ = prefix_ + "ack";
    clientId_ = mqtt_.clientId.empty() ? site_ + "-" + agentId_ : mqtt_.clientId;
    version_ = mqtt_.protocol == "3.1.1" ? 4 : 5;
    urls_ = mqtt_.brokerUrls();
    if (mqtt_.urlOrder == "shuffle") {
      std::mt19937_64 order(stableSeed(clientId_));
      std::shuffle(urls_.begin(), urls_.end(), order);
    }
    startedAtMs_ = options_.startedAtMs ? options_.startedAtMs : clock_->nowMs();
    limits_.maxPayload = mqtt_.maxPayload;
    window_ = static_cast<size_t>(std::max(1, mqtt_.inflight));
    worker_ = std::make_unique<CommandWorker>(loop_, limits_);
  }

  const std::string& url() const { return urls_[urlIndex_]; }
  bool tls() const { return url().rfind("ssl://", 0) == 0 || url().rfind("mqtts://", 0) == 0; }

  ~MqttSync() override {
    stop();
    worker_.reset();  // joined; nothing it parsed reaches us later
    current_.reset();
    *alive_ = false;
  }

  Status start() override {
    if (running_) return fail(ErrorCode::kBusy, "sync already started");
    running_ = true;
    std::string nodes;
    for (const auto& u : urls_) nodes += (nodes.empty() ? "" : ", ") + redactUrl(u);
    log_.info("syncing with {} as {} (topics {}…, MQTT {})", nodes, clientId_, prefix_, mqtt_.protocol);
    auto tick = std::clamp<milliseconds>(
        std::min<milliseconds>(mqtt_.ackTimeout, mqtt_.stateInterval) / 4, milliseconds(50),
        milliseconds(1000));
    tickTimer_ = loop_.addTimer(tick, [this] { onTick(); }, tick);
    connectNow();
    return ok();
  }

  void stop() override {
    if (!running_) return;
    running_ = false;
    loop_.cancelTimer(tickTimer_);
    if (retryTimer_) loop_.cancelTimer(*retryTimer_);
    retryTimer_.reset();
    if (ackTimer_) loop_.cancelTimer(*ackTimer_);
    ackTimer_.reset();
    if (!pendingAcks_.empty()) applyPendingAcks();  // keep what the OMS told us
    // A wave half staged stays invisible and unanswered: the OMS sends it again.
    current_.reset();
    parsedQueue_.clear();
    if (client_ && phase_ == Phase::kConnected) {
      // C-P4: say goodbye ourselves; a DISCONNECT then discards the will.
      auto s = client_->publishAndWait(stateTopic_, encodeOffline(session_), kQos, true,
                                       options_.shutdownTimeout);
      if (!s) log_.warn("could not publish online:false before disconnecting: {}", s.error().describe());
      if (auto d = client_->disconnect(options_.shutdownTimeout); !d) {
        log_.warn("MQTT disconnect: {}", d.error().describe());
      }
      log_.info("disconnected from {} (session {})", redactUrl(url()), session_);
    }
    retireClient();
    phase_ = Phase::kIdle;
  }

  void notifyNewEvents() override { pump(); }

  void notifyHealthChanged() override {
    if (healthPostPending_) return;
    healthPostPending_ = true;
    // Coalesces a burst of device changes into one state publish.
    loop_.post([this, alive = alive_] {
      if (!*alive) return;
      healthPostPending_ = false;
      if (phase_ == Phase::kConnected) publishState();
    });
  }

  SyncStatus status() override {
    SyncStatus s = counters_;
    s.running = running_;
    s.connected = phase_ == Phase::kConnected;
    s.brokerUrl = redactUrl(url());
    s.brokerNodes = urls_.size();
    s.clientId = clientId_;
    s.protocol = connectedVersion_ ? protocolName(connectedVersion_) : "";
    s.session = session_;
    s.lastError = lastError_;
    s.lastErrorMs = lastErrorMs_;
    s.connectedSinceMs = s.connected ? connectedSinceMs_ : 0;
    if (retryTimer_) {
      s.nextRetryInMs = std::max<int64_t>(
          0, std::chrono::duration_cast<milliseconds>(retryAt_ - clock_->steadyNow()).count());
    }
    s.inflight = inflight_.size();
    s.window = phase_ == Phase::kConnected ? window_ : 0;
    s.brokerMaxPacket = maxPacket_;
    s.blockedSeq = blockedSeq_;
    s.lastSentSeq = lastSent_;
    if (auto stats = port_.outboxStats()) s.outbox = *stats;
    return s;
  }

 private:
  enum class Phase { kIdle, kWaiting, kConnecting, kConnected };

  void setError(std::string text) {
    lastError_ = std::move(text);
    lastErrorMs_ = clock_->nowMs();
  }

  // --- connection ---------------------------------------------------------

  void connectNow() {
    retryTimer_.reset();
    if (!running_) return;
    auto session = port_.nextSession();
    if (!session) {
      setError("cannot advance the session counter: " + session.error().describe());
      log_.error("{}; will retry", lastError_);
      scheduleReconnect();
      return;
    }
    session_ = *session;
    MqttHandlers h;
    h.connected = [this](const MqttConnectResult& r) { onConnectResult(r); };
    h.connectionLost = [this](const std::string& cause) { onConnectionLost(cause); };
    h.message = [this](const std::string& topic, std::string payload) { onMessage(topic, payload); };
    h.published = [this](uint64_t id, bool ok, const std::string& err) { onPublished(id, ok, err); };
    h.subscribed = [this](bool ok, const std::string& err) {
      if (!ok) {
        refusal_ = err + " (check the broker ACL allows " + prefix_ + "cmd and " + prefix_ + "ack)";
        setError(refusal_);
        log_.error("{}", lastError_);
      }
    };
    h.error = [this](const std::string& detail) { pendingDetail_ = detail; };
    auto client = options_.clientFactory
                      ? options_.clientFactory(loop_, url(), clientId_, version_, std::move(h))
                      : createPahoMqttClient(loop_, url(), clientId_, version_, std::move(h));
    if (!client) {
      setError(client.error().describe());
      log_.error("{}", lastError_);
      scheduleReconnect();
      return;
    }
    client_ = std::move(*client);
    MqttConnectParams p;
    p.url = url();
    p.clientId = clientId_;
    p.username = mqtt_.username;
    p.password = mqtt_.password;
    p.caFile = mqtt_.caFile;
    p.certFile = mqtt_.certFile;
    p.keyFile = mqtt_.keyFile;
    p.keyPassword = mqtt_.keyPassword;
    p.verifyServer = mqtt_.verifyServer;
    p.mqttVersion = version_;
    p.keepalive = mqtt_.keepalive;
    p.connectTimeout = mqtt_.connectTimeout;
    // Room for the state publishes beside the event window (Paho itself
    // lowers this to the broker's receive maximum).
    p.maxInflight = std::max(1, mqtt_.inflight) + 16;
    p.willTopic = stateTopic_;
    p.willPayload = encodeOffline(session_);  // C-P1
    pendingDetail_.clear();
    phase_ = Phase::kConnecting;
    log_.debug("connecting to {} (MQTT {}, session {})", redactUrl(url()), protocolName(version_), session_);
    if (auto s = client_->connect(p); !s) {
      setError(s.error().describe());
      log_.error("{}", lastError_);
      retireClient();
      nextAfterFailure();
    }
  }

  void onConnectResult(const MqttConnectResult& r) {
    if (phase_ != Phase::kConnecting) return;
    if (!r.ok) {
      retireClient();
      if (r.versionRefused && version_ == 5 && mqtt_.protocol == "auto") {
        // The broker does not speak MQTT 5: fall back to 3.1.1 at once.
        log_.info("{} refused MQTT 5; using MQTT 3.1.1", redactUrl(url()));
        version_ = 4;
        connectNow();
        return;
      }
      if (r.closedBeforeConnack && version_ == 5 && mqtt_.protocol == "auto") {
        // No CONNACK at all: a broker that speaks only 3.1.1 (RabbitMQ 3.10)
        // just closes the link on an MQTT 5 CONNECT, and so does a node that
        // is going down. Try 3.1.1 once on the same node; keep it only if
        // that connects.
        v311Probe_ = true;
        version_ = 4;
        connectNow();
        return;
      }
      if (v311Probe_) {
        v311Probe_ = false;
        version_ = 5;
      }
      ++counters_.connectFailures;
      ++failuresInRow_;
      std::string text = "cannot connect to " + redactUrl(url()) + ": " + r.error;
      if (!pendingDetail_.empty()) text += " (" + pendingDetail_ + ")";
      if (tls() && r.returnCode == -1) {
        text += " (if the broker is up, the TLS handshake failed: check mqtt.ca_file, mqtt.cert_file, "
                "mqtt.key_file, mqtt.key_password and that the broker certificate names this host)";
      }
      setError(text);
      // The first failure and then every tenth: an outage must not flood the journal.
      if (failuresInRow_ == 1 || failuresInRow_ % 10 == 0) {
        log_.warn("{}; working offline, retrying{}", lastError_,
                  urls_.size() > 1 ? " the other nodes, then with backoff" : " with backoff");
      }
      nextAfterFailure();
      return;
    }
    phase_ = Phase::kConnected;
    if (v311Probe_) {
      v311Probe_ = false;
      log_.info("{} closed the link to an MQTT 5 CONNECT and took MQTT 3.1.1; using MQTT 3.1.1", redactUrl(url()));
    }
    connectedVersion_ = r.mqttVersion ? r.mqttVersion : version_;
    connectedSinceMs_ = clock_->nowMs();
    connectedAt_ = clock_->steadyNow();
    ++counters_.connects;
    if (counters_.connects > 1) ++counters_.reconnects;
    if (lastConnectedIndex_ && *lastConnectedIndex_ != urlIndex_) ++counters_.failovers;
    lastConnectedIndex_ = urlIndex_;
    failuresInRow_ = 0;
    refusal_.clear();
    // Flow control of this connection. A broker's MQTT 5 receive maximum
    // below mqtt.inflight bounds the window (Paho enforces it too; counting
    // it here keeps prefetch and status true). The maximum packet size is
    // checked per event in pump().
    size_t configured = static_cast<size_t>(std::max(1, mqtt_.inflight));
    window_ = r.receiveMaximum > 0 ? std::min<size_t>(configured, r.receiveMaximum) : configured;
    maxPacket_ = r.maximumPacketSize;
    blockedSeq_ = 0;
    auto stats = port_.outboxStats();
    ackedThrough_ = stats ? stats->ackedThrough : ackedThrough_;
    log_.info("connected to {} (MQTT {}, session {}, backlog {} events)", redactUrl(url()),
              protocolName(connectedVersion_), session_, stats ? stats->depth : -1);
    if (window_ < configured) {
      log_.info("{} takes at most {} unacknowledged publishes (MQTT 5 receive maximum): {} events in flight "
                "instead of mqtt.inflight = {}",
                redactUrl(url()), r.receiveMaximum, window_, configured);
    }
    // C-S2: only our own command and ack topics.
    if (auto s = client_->subscribe({cmdTopic_, ackTopic_}, kQos); !s) {
      setError(s.error().describe());
      log_.error("{}", lastError_);
    }
    publishState();  // C-P2
    // C-A2: after a connect everything unacknowledged goes again, in order.
    restartDeliveryFrom(ackedThrough_);
    pump();
  }

  void onConnectionLost(const std::string& cause) {
    if (phase_ != Phase::kConnected && phase_ != Phase::kConnecting) return;
    bool wasConnected = phase_ == Phase::kConnected;
    bool stable = wasConnected && clock_->steadyNow() - connectedAt_ >= kStableConnection;
    retireClient();
    std::string text = "connection to " + redactUrl(url()) + " lost: " + cause;
    // A broker may drop a client whose publish it refused (mosquitto does for
    // MQTT 5): say what was refused, that is what needs fixing.
    if (!refusal_.empty()) text += "; before that the broker refused: " + refusal_;
    refusal_.clear();
    setError(text);
    if (wasConnected) {
      log_.warn("{}; working offline, reconnecting{}", lastError_,
                urls_.size() > 1 ? " to the next node" : "");
    }
    if (!stable) {
      nextAfterFailure();
      return;
    }
    // The node went away: a fresh round starts at once at the next node (the
    // same one when there is only one); no switching back later.
    roundFailures_ = 0;
    backoffAttempt_ = 0;
    urlIndex_ = (urlIndex_ + 1) % urls_.size();
    retryNow();
  }

  // A connect attempt failed: the next node at once, until every node of the
  // round failed; then the backoff with jitter.
  void nextAfterFailure() {
    ++roundFailures_;
    urlIndex_ = (urlIndex_ + 1) % urls_.size();
    if (roundFailures_ < urls_.size()) {
      retryNow();
      return;
    }
    roundFailures_ = 0;
    scheduleReconnect();
  }

  void retryNow() {
    phase_ = Phase::kWaiting;
    if (!running_) return;
    // Through the loop, not recursively: we are inside the old client's handler.
    retryAt_ = clock_->steadyNow();
    retryTimer_ = loop_.addTimer(milliseconds(0), [this] { connectNow(); });
  }

  void scheduleReconnect() {
    phase_ = Phase::kWaiting;
    if (!running_) return;
    // Exponential backoff with jitter: the delay doubles up to backoffMax and
    // is drawn from its upper half, so a fleet does not reconnect in step.
    auto base = mqtt_.backoffMin.count() > 0 ? mqtt_.backoffMin : milliseconds(1);
    int64_t delay = base.count();
    for (int i = 0; i < backoffAttempt_ && delay < mqtt_.backoffMax.count(); ++i) delay *= 2;
    delay = std::min<int64_t>(delay, std::max(mqtt_.backoffMax.count(), base.count()));
    std::uniform_int_distribution<int64_t> jitter(delay / 2, delay);
    milliseconds wait(jitter(rng_));
    ++backoffAttempt_;
    retryAt_ = clock_->steadyNow() + wait;
    retryTimer_ = loop_.addTimer(wait, [this] { connectNow(); });
  }

  void retireClient() {
    inflight_.clear();
    prefetch_.clear();
    statePublishes_.clear();
    // Destroying the client closes its gate: nothing it queued reaches us later.
    client_.reset();
  }

  // --- downlink -----------------------------------------------------------

  void onMessage(const std::string& topic, std::string& payload) {
    if (topic == cmdTopic_) {
      onCommand(payload);
    } else if (topic == ackTopic_) {
      onAck(payload);
    } else {
      log_.debug("ignoring a message on {}", topic);
    }
  }

  // Parsing happens on the worker thread; the typed results come back in
  // arrival order and are applied one command at a time.
  void onCommand(const std::string& payload) {
    size_t size = payload.size();
    worker_->submit(payload, [this, size](ParsedMessage parsed) {
      parsedQueue_.push_back({std::move(parsed), size});
      applyParsed();
    });
  }

  void applyParsed() {
    while (!current_ && !parsedQueue_.empty()) {
      auto [parsed, size] = std::move(parsedQueue_.front());
      parsedQueue_.pop_front();
      if (auto* cmd = std::get_if<Command>(&parsed)) {
        currentId_ = cmd->cmdId;
        currentType_ = cmd->type;
        currentResync_ = std::holds_alternative<Resync>(cmd->body);
        current_ = port_.startCommand(std::move(*cmd));
        stepCommand();
      } else {
        applyUnappliable(parsed, size);
        pump();
      }
    }
  }

  // One slice of the current command; the loop runs (scans, acks, timers)
  // before the next one.
  void stepCommand() {
    auto r = current_->step();
    if (r && !r->has_value()) {
      loop_.post([this, alive = alive_] {
        if (*alive && current_) stepCommand();
      });
      return;
    }
    current_.reset();
    if (!r) {
      setError("cannot store command " + currentId_ + ": " + r.error().describe());
      log_.error("{}; it was not applied and the OMS should send it again", lastError_);
    } else {
      const CommandOutcome& outcome = **r;
      ++counters_.commandsReceived;
      log_.info("command {} ({}) {}{}", currentId_, currentType_, outcome.status,
                outcome.duplicate ? " (duplicate)" : "");
      if (currentResync_ && !outcome.duplicate) {
        // C-C5: state, then every event after acked_through, in order.
        publishState();
        auto stats = port_.outboxStats();
        if (stats) ackedThrough_ = stats->ackedThrough;
        restartDeliveryFrom(ackedThrough_);
      }
      pump();
    }
    // The next command waits for this loop pass to end.
    if (!parsedQueue_.empty()) {
      loop_.post([this, alive = alive_] {
        if (*alive) applyParsed();
      });
    }
  }

  void applyUnappliable(ParsedMessage& parsed, size_t size) {
    if (auto* rej = std::get_if<RejectedCommand>(&parsed)) {
      auto r = port_.rejectCommand(*rej);
      if (!r) {
        setError("cannot store the rejection of command " + rej->cmdId + ": " + r.error().describe());
        log_.error("{}", lastError_);
        return;
      }
      ++counters_.commandsReceived;
      ++counters_.commandsRejected;
      const auto& first = rej->errors.front();
      log_.warn("command {} ({}) rejected: {} error(s), first {} {}: {}", rej->cmdId,
                rej->type.empty() ? "no type" : rej->type, rej->errors.size(),
                first.path.empty() ? "(message)" : first.path, first.code, first.message);
    } else {
      auto& inv = std::get<InvalidMessage>(parsed);
      if (auto s = port_.recordInvalid(inv); !s) {
        setError("cannot record an invalid command: " + s.error().describe());
        log_.error("{}", lastError_);
        return;
      }
      ++counters_.invalidMessages;
      log_.warn("invalid message on {} ({} bytes): {}", cmdTopic_, size, inv.reason);
    }
  }

  void onAck(const std::string& payload) {
    ++counters_.acksReceived;
    auto n = parseAck(payload, limits_.maxPayload);
    if (!n) {
      ++counters_.acksIgnored;
      log_.warn("ignoring a malformed ack: {}", n.error().message);
      return;
    }
    // Acks are applied in batches: each applied ack is a durable write, and
    // an OMS acking every few ms must not stall delivery on fsyncs. The
    // latest valid ack of a batch wins; an ack applied up to kAckBatch late
    // at worst causes a few duplicate resends after a crash.
    pendingAcks_.push_back(*n);
    if (ackTimer_) return;
    auto since = clock_->steadyNow() - lastAckApplied_;
    auto delay = since >= kAckBatch ? milliseconds(0)
                                    : std::chrono::ceil<milliseconds>(kAckBatch - since);
    ackTimer_ = loop_.addTimer(delay, [this] {
      ackTimer_.reset();
      applyPendingAcks();
    });
  }

  void applyPendingAcks() {
    std::vector<int64_t> acks;
    acks.swap(pendingAcks_);
    lastAckApplied_ = clock_->steadyNow();
    std::sort(acks.begin(), acks.end(), std::greater<>());
    int64_t applied = -1;
    for (int64_t n : acks) {
      if (applied >= 0 || n <= ackedThrough_) {
        // Superseded within this batch, or stale/duplicate (C-A3): by itself
        // it changes nothing.
        ++counters_.acksIgnored;
        continue;
      }
      auto changed = port_.acknowledge(n);
      if (!changed) {
        setError("cannot store ack " + std::to_string(n) + ": " + changed.error().describe());
        log_.error("{}", lastError_);
        return;
      }
      if (!*changed) {
        // C-A3: beyond what was ever sent (or otherwise refused by the store).
        ++counters_.acksIgnored;
        log_.debug("ack {} changed nothing (acked through {})", n, ackedThrough_);
        continue;
      }
      applied = n;
    }
    if (applied < 0) return;
    ++counters_.acksApplied;
    ackedThrough_ = applied;
    if (lastSent_ < ackedThrough_) {
      // Acks for events sent before a restart: no need to send those again.
      lastSent_ = ackedThrough_;
      while (!prefetch_.empty() && prefetch_.front().seq <= ackedThrough_) prefetch_.pop_front();
    }
    waitingSince_ = lastSent_ > ackedThrough_ ? std::optional(clock_->steadyNow()) : std::nullopt;
    if (running_) pump();
  }

  // --- uplink -------------------------------------------------------------

  void restartDeliveryFrom(int64_t seq) {
    lastSent_ = seq;
    prefetch_.clear();
    waitingSince_.reset();
  }

  void pump() {
    if (phase_ != Phase::kConnected || !client_) return;
    while (inflight_.size() < window_) {
      if (prefetch_.empty() && !refill()) return;
      if (maxPacket_ > 0 &&
          publishPacketSize(evtTopic_.size(), prefetch_.front().payload.size(), connectedVersion_) > maxPacket_) {
        reportTooLarge(prefetch_.front());
        return;  // kept; nothing after it goes either (C-E4)
      }
      const int64_t seq = prefetch_.front().seq;
      // The stored bytes go to the client as they are (C-E3), moved, not copied.
      auto id = client_->publish(evtTopic_, std::move(prefetch_.front().payload), kQos, false);
      prefetch_.pop_front();
      if (!id) {
        // The connection is going; connectionLost will follow and we resend then
        // (from the store: the prefetched payloads are dropped, lastSent_ stays).
        log_.debug("publish of seq {} failed: {}", seq, id.error().describe());
        prefetch_.clear();
        return;
      }
      inflight_.emplace(*id, seq);
      lastSent_ = seq;
      ++counters_.eventsSent;
      if (seq <= highestSent_) ++counters_.eventsResent;
      highestSent_ = std::max(highestSent_, seq);
      if (!waitingSince_) waitingSince_ = clock_->steadyNow();
    }
  }

  // C-E5: an event the broker cannot take is never dropped or skipped; the
  // agent says which one, how large, and what to change, and delivery waits
  // at it until a connection to a broker that allows it.
  void reportTooLarge(const OutboxEvent& ev) {
    if (blockedSeq_ == ev.seq) return;
    blockedSeq_ = ev.seq;
    setError("event seq " + std::to_string(ev.seq) + " (" +
             std::to_string(publishPacketSize(evtTopic_.size(), ev.payload.size(), connectedVersion_)) +
             " bytes as an MQTT packet) is larger than the maximum packet size of " + redactUrl(url()) + " (" +
             std::to_string(maxPacket_) +
             " bytes): it stays in the outbox and delivery waits at it, in seq order; raise the broker's "
             "limit (mosquitto max_packet_size, EMQX mqtt.max_packet_size, HiveMQ max-packet-size)");
    log_.error("{}", lastError_);
  }

  bool refill() {
    auto events = port_.eventsAfter(lastSent_, std::max<size_t>(window_ * 2, 64));
    if (!events) {
      setError("cannot read the outbox: " + events.error().describe());
      log_.error("{}", lastError_);
      return false;
    }
    for (auto& e : *events) prefetch_.push_back(std::move(e));
    return !prefetch_.empty();
  }

  void onPublished(uint64_t id, bool success, const std::string& error) {
    if (statePublishes_.erase(id)) {
      if (!success) {
        refusal_ = "publish to " + stateTopic_ + ": " + error;
        log_.warn("state publish failed: {}", error);
      }
      return;
    }
    auto it = inflight_.find(id);
    if (it == inflight_.end()) return;
    if (success) {
      ++counters_.eventsPubacked;
    } else {
      // Refused by the broker (ACL?): the ack timeout sends it again.
      refusal_ = "publish to " + evtTopic_ + ": " + error;
      log_.warn("publish of event seq {} failed: {}", it->second, error);
    }
    inflight_.erase(it);
    pump();
  }

  void publishState() {
    if (phase_ != Phase::kConnected || !client_) return;
    auto stats = port_.outboxStats();
    if (!stats) {
      setError("cannot read outbox figures: " + stats.error().describe());
      log_.error("{}", lastError_);
    }
    auto payload = encodeOnline(session_, FLOORLINK_VERSION, startedAtMs_, stats ? *stats : OutboxStats{},
                                port_.health());
    auto id = client_->publish(stateTopic_, payload, kQos, true);
    if (!id) {
      log_.debug("state publish failed: {}", id.error().describe());
      return;
    }
    statePublishes_.insert(*id);
    ++counters_.statePublishes;
    lastStateAt_ = clock_->steadyNow();
  }

  void onTick() {
    if (phase_ != Phase::kConnected) return;
    auto now = clock_->steadyNow();
    if (waitingSince_ && now - *waitingSince_ >= mqtt_.ackTimeout) {
      if (lastSent_ > ackedThrough_) {
        // C-A2: no ack in ack_timeout: send everything unacknowledged again.
        ++counters_.ackTimeouts;
        log_.info("no ack for {} s (acked through {}, sent through {}): sending again",
                  mqtt_.ackTimeout.count(), ackedThrough_, lastSent_);
        restartDeliveryFrom(ackedThrough_);
        pump();
      } else {
        waitingSince_.reset();
      }
    }
    if (now - lastStateAt_ >= mqtt_.stateInterval) publishState();
  }

  EventLoop& loop_;
  config::MqttSection mqtt_;
  std::string site_, agentId_;
  AgentPort& port_;
  Logger log_;
  SyncOptions options_;
  SystemClock systemClock_;
  const Clock* clock_;
  std::mt19937_64 rng_;
  ParserLimits limits_;

  std::string prefix_, stateTopic_, evtTopic_, cmdTopic_, ackTopic_, clientId_;
  int version_ = 5;
  bool v311Probe_ = false;  // this attempt tries 3.1.1 after an MQTT 5 one got no CONNACK
  std::vector<std::string> urls_;  // the nodes, in the order tried
  size_t urlIndex_ = 0;            // node of the current/last attempt
  size_t roundFailures_ = 0;       // failed attempts in the current round of nodes
  std::optional<size_t> lastConnectedIndex_;
  SteadyTime connectedAt_{};
  uint32_t maxPacket_ = 0;         // broker's maximum packet size, 0: none announced
  int64_t blockedSeq_ = 0;
  int connectedVersion_ = 0;
  int64_t startedAtMs_ = 0;
  size_t window_ = 64;

  bool running_ = false;
  Phase phase_ = Phase::kIdle;
  std::unique_ptr<MqttClient> client_;
  uint64_t session_ = 0;
  int backoffAttempt_ = 0;
  uint64_t failuresInRow_ = 0;
  EventLoop::TimerId tickTimer_ = 0;
  std::optional<EventLoop::TimerId> retryTimer_;
  SteadyTime retryAt_{};
  std::string pendingDetail_;
  std::string refusal_;  // what the broker refused on this connection

  int64_t lastSent_ = 0;
  int64_t highestSent_ = 0;
  int64_t ackedThrough_ = 0;
  std::deque<OutboxEvent> prefetch_;
  std::unordered_map<uint64_t, int64_t> inflight_;  // publish id -> seq
  std::unordered_set<uint64_t> statePublishes_;
  std::optional<SteadyTime> waitingSince_;
  std::vector<int64_t> pendingAcks_;
  std::optional<EventLoop::TimerId> ackTimer_;
  std::unique_ptr<CommandWorker> worker_;
  std::deque<std::pair<ParsedMessage, size_t>> parsedQueue_;  // parsed, not applied yet
  std::unique_ptr<CommandApplication> current_;               // being applied in steps
  std::string currentId_, currentType_;
  bool currentResync_ = false;
  SteadyTime lastAckApplied_{};
  SteadyTime lastStateAt_{};
  bool healthPostPending_ = false;

  std::string lastError_;
  int64_t lastErrorMs_ = 0;
  int64_t connectedSinceMs_ = 0;
  SyncStatus counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::string redactUrl(std::string_view url) {
  auto scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto slash = url.find('/', start);
  auto at = url.rfind('@', slash == std::string_view::npos ? url.size() : slash);
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1));
}

Result<std::unique_ptr<Sync>> Sync::create(EventLoop& loop, const config::Config& config, AgentPort& port,
                                           Logger logger, SyncOptions options) {
  loop.assertLoopThread();
  return std::unique_ptr<Sync>(new MqttSync(loop, config, port, std::move(logger), options));
}

}  // namespace floorlink::sync
