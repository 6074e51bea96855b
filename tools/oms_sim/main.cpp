// floorlink-oms-sim: plays the OMS against an agent over a broker.
//   floorlink-oms-sim --url tcp://127.0.0.1:1883 --site dc1 --agent pc7 --tasks 1000 --idle 5
// Exit code: 0 when every check held (contiguous seqs, each event applied once,
// redeliveries byte-identical, every command answered), 1 when a check
// failed, 2 on usage or connection errors.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tools/oms_sim/oms_sim.h"

using namespace floorlink::omssim;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floorlink-oms-sim: the OMS side of contract oms-mqtt-v1 (waves, events, acks, checks)"};
  OmsSimOptions o;
  std::string wavesFile;
  int tasks = 0, waves = 1;
  double idleS = 5, durationS = 120;
  int64_t expect = 0;
  int ackDelayMs = 0, ackIntervalMs = 20;
  bool noAck = false, quiet = false, jsonOut = false;
  int protocol = 5;
  app.add_option("--url", o.url, "broker URL (tcp:// or ssl://)")->capture_default_str();
  app.add_option("--site", o.site, "site id")->capture_default_str();
  app.add_option("--agent", o.agent, "agent id; + consumes every agent of the site (wh/v1/{site}/+/evt)")
      ->capture_default_str();
  app.add_option("--client-id", o.clientId, "MQTT client id")->capture_default_str();
  app.add_option("--username", o.username, "MQTT user name");
  app.add_option("--password", o.password, "MQTT password (or FLOORLINK_OMS_PASSWORD)")->envname("FLOORLINK_OMS_PASSWORD");
  app.add_option("--cafile", o.caFile, "CA file for ssl://")->check(CLI::ExistingFile);
  app.add_option("--cert", o.certFile, "client certificate")->check(CLI::ExistingFile);
  app.add_option("--key", o.keyFile, "client key")->check(CLI::ExistingFile);
  app.add_option("--protocol", protocol, "MQTT version: 4 (3.1.1) or 5")->check(CLI::IsMember({4, 5}))->capture_default_str();
  app.add_option("--waves-file", wavesFile, "JSON file: one command object or an array of them, sent in order")
      ->check(CLI::ExistingFile);
  app.add_option("--tasks", tasks, "generate wave.assign commands with N pick tasks each")->check(CLI::Range(1, 50000));
  app.add_option("--waves", waves, "number of generated waves")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--expect", expect, "wait until this many distinct events arrived");
  app.add_option("--idle", idleS, "stop after this many seconds without a new event (once commands are answered)")
      ->capture_default_str();
  app.add_option("--duration", durationS, "stop after this many seconds in any case")->capture_default_str();
  app.add_flag("--no-ack", noAck, "never acknowledge");
  app.add_option("--ack-delay", ackDelayMs, "send each ack this many ms late")->check(CLI::NonNegativeNumber);
  app.add_option("--ack-interval", ackIntervalMs, "at most one ack per this many ms")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ack-loss", o.ackLoss, "fraction of acks dropped (0..1)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--ack-dup", o.ackDup, "fraction of acks sent twice (0..1)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--start-seq", o.startSeq, "first seq this OMS has not processed yet (contiguity and acks count from it)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", o.seed, "random seed for loss/dup")->capture_default_str();
  app.add_flag("--json", jsonOut, "print the summary as JSON");
  app.add_flag("-q,--quiet", quiet, "no progress lines");
  CLI11_PARSE(app, argc, argv);
  o.mqttVersion = protocol;
  o.ack = !noAck;
  o.ackDelay = std::chrono::milliseconds(ackDelayMs);
  o.ackInterval = std::chrono::milliseconds(ackIntervalMs);

  std::vector<std::pair<std::string, std::string>> commands;  // cmd_id, payload
  if (!wavesFile.empty()) {
    std::ifstream in(wavesFile);
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) {
      std::cerr << "error: " << wavesFile << " is not JSON\n";
      return 2;
    }
    if (!j.is_array()) j = nlohmann::json::array({j});
    int n = 0;
    for (auto& c : j) {
      if (!c.is_object()) {
        std::cerr << "error: " << wavesFile << ": every entry must be a command object\n";
        return 2;
      }
      if (!c.contains("cmd_id")) c["cmd_id"] = "sim-file-" + std::to_string(++n);
      commands.emplace_back(c["cmd_id"].is_string() ? c["cmd_id"].get<std::string>() : c["cmd_id"].dump(), c.dump());
    }
  }
  if (tasks > 0) {
    auto stamp = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
    for (int w = 0; w < waves; ++w) {
      std::string id = "sim-" + stamp + "-" + std::to_string(w + 1);
      commands.emplace_back(id, generateWave(id, "W" + stamp + "-" + std::to_string(w + 1), 1, tasks));
    }
  }

  auto sim = OmsSim::connect(o);
  if (!sim) {
    std::cerr << "error: " << sim.error().describe() << "\n";
    return 2;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  for (auto& [id, payload] : commands) {
    if (auto s = (*sim)->sendCommand(id, payload); !s) {
      std::cerr << "error: " << s.error().describe() << "\n";
      return 2;
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto lastChange = start;
  uint64_t lastUnique = 0;
  while (!gStop) {
    std::this_thread::sleep_for(100ms);
    auto s = (*sim)->summary();
    auto now = std::chrono::steady_clock::now();
    if (s.uniqueEvents != lastUnique) {
      lastUnique = s.uniqueEvents;
      lastChange = now;
      if (!quiet) {
        std::fprintf(stderr, "\r%llu events, contiguous through %lld, %llu duplicates   ",
                     static_cast<unsigned long long>(s.uniqueEvents), static_cast<long long>(s.contiguousThrough),
                     static_cast<unsigned long long>(s.duplicates));
      }
    }
    bool answered = s.results >= s.commandsSent;
    if (expect > 0 && static_cast<int64_t>(s.uniqueEvents) >= expect && answered) break;
    if (expect == 0 && answered && now - lastChange >= std::chrono::duration<double>(idleS)) break;
    if (now - start >= std::chrono::duration<double>(durationS)) break;
  }
  if (!quiet) std::fprintf(stderr, "\n");
  auto s = (*sim)->summary();
  bool answered = s.results >= s.commandsSent;
  bool enough = expect == 0 || static_cast<int64_t>(s.uniqueEvents) >= expect;
  bool ok = s.checksHold() && answered && enough;
  if (jsonOut) {
    nlohmann::json j{{"events_received", s.eventsReceived}, {"unique_events", s.uniqueEvents},
                     {"duplicates", s.duplicates},         {"byte_mismatches", s.byteMismatches},
                     {"malformed", s.malformed},           {"first_seq", s.firstSeq},
                     {"contiguous_through", s.contiguousThrough}, {"max_seq", s.maxSeq},
                     {"acks_sent", s.acksSent},            {"acks_lost", s.acksLost},
                     {"acks_duplicated", s.acksDuplicated}, {"commands_sent", s.commandsSent},
                     {"results", s.results},               {"cmd_result_ms_p50", percentile(s.commandLatencyMs, 0.5)},
                     {"cmd_result_ms_p99", percentile(s.commandLatencyMs, 0.99)}, {"out_of_order", s.outOfOrder},
                     {"ok", ok}};
    auto per = nlohmann::json::object();
    for (const auto& [key, a] : (*sim)->perAgent()) {
      per[key] = {{"unique_events", a.uniqueEvents}, {"duplicates", a.duplicates},
                  {"contiguous_through", a.contiguousThrough}, {"max_seq", a.maxSeq},
                  {"out_of_order", a.outOfOrder}, {"checks_hold", a.checksHold()}};
    }
    j["agents"] = std::move(per);
    std::cout << j.dump(2) << "\n";
  } else {
    auto agents = (*sim)->perAgent();
    if (o.agent == "+" || o.site == "+") {
      // One line per agent, then the totals.
      std::printf("%-24s %9s %9s %7s %9s %9s %6s %s\n", "agent", "unique", "received", "dups", "contig", "max_seq",
                  "late", "checks");
      for (const auto& [key, a] : agents) {
        std::printf("%-24s %9llu %9llu %7llu %9lld %9lld %6llu %s\n", key.c_str(),
                    static_cast<unsigned long long>(a.uniqueEvents), static_cast<unsigned long long>(a.eventsReceived),
                    static_cast<unsigned long long>(a.duplicates), static_cast<long long>(a.contiguousThrough),
                    static_cast<long long>(a.maxSeq), static_cast<unsigned long long>(a.outOfOrder),
                    a.checksHold() ? "hold" : "FAILED");
      }
      std::printf("agents               %zu\n", agents.size());
    }
    std::cout << s.describe();
    if (!s.commandLatencyMs.empty()) {
      std::printf("cmd -> result ms     p50 %.1f  p99 %.1f\n", percentile(s.commandLatencyMs, 0.5),
                  percentile(s.commandLatencyMs, 0.99));
    }
    if (!answered) std::cout << "unanswered commands  " << (s.commandsSent - s.results) << "\n";
    if (!enough) std::cout << "expected events      " << expect << " (got " << s.uniqueEvents << ")\n";
  }
  return ok ? 0 : 1;
}
