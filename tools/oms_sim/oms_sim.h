#pragma once
// The OMS side of contract oms-mqtt-v1, for demos, tests and benchmarks:
// publishes commands, consumes events, checks seq contiguity and
// exactly-once application by event_id, acknowledges (optionally late, lost
// or duplicated) and summarises.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::omssim {

struct OmsSimOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string clientId = "floorlink-oms-sim";
  std::string username, password;
  std::string caFile, certFile, keyFile;
  int mqttVersion = 5;  // 4 = 3.1.1
  std::string site = "dc1";
  // "+" consumes every agent of the site (wh/v1/{site}/+/evt), each checked
  // and acknowledged on its own; site "+" too: every site.
  std::string agent = "pc7";
  bool ack = true;
  std::chrono::milliseconds ackInterval{20};  // at most one ack per interval
  std::chrono::milliseconds ackDelay{0};      // acks leave this late
  double ackLoss = 0.0;  // fraction of acks not sent
  double ackDup = 0.0;   // fraction of acks sent twice
  uint64_t seed = 1;
  // Seqs before this one were processed in an earlier run: contiguity (and
  // so every ack) counts from here. 1 for a new agent database.
  int64_t startSeq = 1;
  // MQTT 5: keep the broker session (clean start off, an hour's expiry), so
  // the subscriptions and the events queued for it survive the sim's own
  // reconnect or, with broker persistence, a broker restart. Reconnect by
  // connecting a new OmsSim with the same clientId.
  bool keepSession = false;
};

struct OmsSimSummary {
  uint64_t eventsReceived = 0;   // messages on …/evt, duplicates included
  uint64_t uniqueEvents = 0;     // distinct event_ids applied (once each)
  uint64_t duplicates = 0;       // redeliveries, ignored
  uint64_t byteMismatches = 0;   // a redelivery with other bytes (breaks C-E3)
  uint64_t malformed = 0;        // not an event per §5 (bad JSON, wrong event_id, …)
  uint64_t outOfOrder = 0;       // first arrivals below a seq already seen (C-E4 from the OMS side)
  int64_t firstSeq = 0;          // lowest seq seen
  int64_t contiguousThrough = 0; // every seq from startSeq to here was seen (what we ack)
  int64_t maxSeq = 0;
  uint64_t acksSent = 0, acksLost = 0, acksDuplicated = 0;
  uint64_t commandsSent = 0;
  uint64_t results = 0;          // first cmd.result per command sent by us
  uint64_t resultsRejected = 0;
  uint64_t invalids = 0;         // cmd.invalid events
  std::vector<double> commandLatencyMs;  // publish → first cmd.result, per command
  bool lastStateOnline = false;
  uint64_t lastStateSession = 0;

  int64_t gaps() const { return maxSeq - contiguousThrough; }
  // Contiguous, no byte mismatch, nothing malformed.
  bool checksHold() const { return byteMismatches == 0 && malformed == 0 && maxSeq == contiguousThrough; }
  std::string describe() const;
};

class OmsSim {
 public:
  static Result<std::unique_ptr<OmsSim>> connect(const OmsSimOptions& options);
  ~OmsSim();

  // Publishes a command on …/cmd; its cmd.result latency is measured.
  Status sendCommand(const std::string& cmdId, const std::string& payload);
  Status sendAck(int64_t ackedThrough);

  // The one agent's figures; with agent "+", every agent's added up (seq
  // figures then from the agent with the most missing).
  OmsSimSummary summary() const;
  // Per agent ("site/agent"), each with its own seq checks.
  std::map<std::string, OmsSimSummary> perAgent() const;
  // Waits until pred(summary) holds; false on timeout.
  bool waitFor(const std::function<bool(const OmsSimSummary&)>& pred, std::chrono::milliseconds timeout) const;
  bool connected() const;

  struct Impl;

 private:
  explicit OmsSim(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sets TCP_NODELAY on this process's TCP sockets whose peer is the port of
// `url` (Paho C has no socket hook; the agent's adaptor does the same).
void setNoDelayTowardPort(const std::string& url);

// A wave.assign with `tasks` pick tasks (valid per §4), as JSON text.
std::string generateWave(const std::string& cmdId, const std::string& waveId, int revision, int tasks);

}  // namespace floorlink::omssim
