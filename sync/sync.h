#pragma once
// Sync: the agent's link to the OMS over MQTT (contract oms-mqtt-v1).
//
// Downlink: commands from …/cmd are parsed strictly and handed to the
// AgentPort on the loop thread; acks from …/ack advance the outbox.
// Uplink: the outbox (AgentPort::eventsAfter) drives delivery, in seq order,
// with a bounded in-flight window; everything unacknowledged is sent again
// after each connect and when no ack comes for ack_timeout.
// Presence: will, birth state, periodic state, clean shutdown.
//
// Every method runs on the event-loop thread (the one running EventLoop::run).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "sync/agent_port.h"
#include "sync/mqtt_client.h"

namespace floorlink::sync {

// A snapshot for `floorlinkctl status` / `floorlinkctl outbox`. Holds no secret.
struct SyncStatus {
  bool running = false;            // between start() and stop()
  bool connected = false;
  std::string brokerUrl;           // the node of the current/last connection (attempt), any
                                   // user:password@ removed
  size_t brokerNodes = 1;          // URLs configured (mqtt.urls)
  uint64_t failovers = 0;          // connects to another node than the one of the previous connection
  std::string clientId;
  std::string protocol;            // "5" or "3.1.1" of the current/last connection, "" before
  uint64_t session = 0;            // session of the current/last connection (C-P3)
  std::string lastError;           // latest connection/storage problem, "" if none yet
  int64_t lastErrorMs = 0;         // Unix ms of lastError
  int64_t connectedSinceMs = 0;    // 0 when not connected
  uint64_t connects = 0;           // successful connects since start()
  uint64_t reconnects = 0;         // successful connects after the first
  uint64_t connectFailures = 0;
  int64_t nextRetryInMs = 0;       // while waiting to reconnect, else 0
  size_t inflight = 0;             // event publishes awaiting the broker's PUBACK
  size_t window = 0;               // in-flight limit of this connection: mqtt.inflight, or the
                                   // broker's smaller MQTT 5 receive maximum
  uint32_t brokerMaxPacket = 0;    // the broker's MQTT 5 maximum packet size, 0 if none announced
  int64_t blockedSeq = 0;          // an event larger than brokerMaxPacket: kept, and delivery waits
                                   // at it (seq order, C-E4); 0 if none
  int64_t lastSentSeq = 0;         // highest seq published on this connection
  uint64_t eventsSent = 0;         // event publishes, resends included
  uint64_t eventsResent = 0;       // publishes of a seq already sent before
  uint64_t eventsPubacked = 0;     // PUBACKs from the broker (means "broker has it" only)
  uint64_t ackTimeouts = 0;        // times ack_timeout passed and events were resent (C-A2)
  uint64_t acksReceived = 0;
  uint64_t acksApplied = 0;        // acks that advanced acked_through
  uint64_t acksIgnored = 0;        // acks that changed nothing by themselves: malformed, stale,
                                   // duplicate, out of range (C-A3), or superseded by a higher
                                   // ack of the same 100 ms batch
  uint64_t commandsReceived = 0;   // commands stored by the agent (applied or rejected)
  uint64_t commandsRejected = 0;
  uint64_t invalidMessages = 0;    // cmd.invalid events recorded
  uint64_t statePublishes = 0;
  OutboxStats outbox;              // depth, oldest unacked age, acked_through, last_seq
};

struct SyncOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock
  // Bound on each blocking step of stop(): the online:false publish and the DISCONNECT.
  std::chrono::milliseconds shutdownTimeout{2000};
  // Unix ms reported as started_at in the state topic; 0: when create() ran.
  int64_t startedAtMs = 0;
  // Makes the MQTT client of each connection attempt; empty: Paho. The sync
  // unit tests pass a FakeMqttNetwork's (sync/testing/), no broker needed.
  MqttClientFactory clientFactory;
};

class Sync {
 public:
  virtual ~Sync() = default;

  // Takes a Config the loader validated (config/loader.h is the only
  // validator); does not connect yet. The AgentPort must outlive the Sync.
  static Result<std::unique_ptr<Sync>> create(EventLoop& loop, const config::Config& config,
                                              AgentPort& port, Logger logger,
                                              SyncOptions options = {});

  // Starts connecting (and reconnecting with backoff for as long as it runs).
  // Errors only if already started.
  virtual Status start() = 0;
  // Clean shutdown (C-P4): publishes online:false, then DISCONNECTs. Blocks the
  // loop for at most about 2 × shutdownTimeout. Idempotent.
  virtual void stop() = 0;

  // The agent committed new events: send them if the window allows.
  virtual void notifyNewEvents() = 0;
  // A device changed state: republish …/state soon (C-P2).
  virtual void notifyHealthChanged() = 0;

  virtual SyncStatus status() = 0;
};

// Removes user:password@ from a broker URL (for logs and status, C-S3).
std::string redactUrl(std::string_view url);

}  // namespace floorlink::sync
