// /metrics text format: names, HELP/TYPE once per family, label escaping.
#include "agent/web/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

namespace floorlink::agent {
namespace {

using nlohmann::json;

json sample() {
  return {{"version", "1.2.3"},
          {"uptime_s", 42},
          {"outbox", {{"depth", 3}, {"oldest_unacked_ms", 1500}, {"acked_through", 7}, {"last_seq", 10}}},
          {"broker",
           {{"connected", true}, {"reconnects", 2}, {"connect_failures", 1}, {"events_sent", 12},
            {"events_resent", 2}, {"commands_received", 5}, {"commands_rejected", 1}}},
          {"scans", json::array({{{"station", "pick1"}, {"result", "accepted"}, {"count", 4}},
                                 {{"station", "pick\"1\\\n"}, {"result", "wrong_bin"}, {"count", 1}}})},
          {"devices", json::array({{{"id", "scanner1"}, {"kind", "scanner"}, {"state", "offline"}, {"reconnects", 3}}})},
          {"print_jobs", {{"confirmed", 2}, {"uncertain", 1}}}};
}

TEST(Metrics, EverySampleLineIsValidExpositionFormat) {
  auto text = prometheusText(sample(), HttpCounters{9, 1, 2});
  std::istringstream in(text);
  std::string line;
  std::regex sampleLine(R"re(^([a-z_]+)(\{([a-z_]+="([^"\\\n]|\\.)*",?)+\})? -?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$)re");
  std::set<std::string> typed;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# TYPE ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "TYPE twice for " << name;
      continue;
    }
    if (line.starts_with("# HELP ")) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sampleLine)) << "bad line: " << line;
    EXPECT_TRUE(typed.count(m[1])) << "sample before its TYPE: " << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
}

TEST(Metrics, CarriesTheNumbersTheIssueAsksFor) {
  auto text = prometheusText(sample(), HttpCounters{9, 1, 2});
  for (const char* want : {"floorlink_outbox_depth 3\n",
                           "floorlink_outbox_oldest_unacked_age_seconds 1.5\n",
                           "floorlink_events_sent_total 12\n",
                           "floorlink_events_acked_total 7\n",
                           "floorlink_commands_total{result=\"applied\"} 4\n",
                           "floorlink_commands_total{result=\"rejected\"} 1\n",
                           "floorlink_scans_total{station=\"pick1\",result=\"accepted\"} 4\n",
                           "floorlink_device_state{device=\"scanner1\",kind=\"scanner\",state=\"offline\"} 1\n",
                           "floorlink_print_jobs{state=\"uncertain\"} 1\n",
                           "floorlink_print_jobs{state=\"failed\"} 0\n",
                           "floorlink_broker_reconnects_total 2\n",
                           "floorlink_device_reconnects_total{device=\"scanner1\"} 3\n",
                           "floorlink_http_loop_timeouts_total 1\n",
                           "floorlink_info{version=\"1.2.3\"} 1\n"}) {
    EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want << "\n" << text;
  }
  EXPECT_NE(text.find(R"(station="pick\"1\\\n")"), std::string::npos) << text;
}

TEST(Metrics, EmptyAnswerStillRenders) {
  auto text = prometheusText(json::object(), HttpCounters{});
  EXPECT_NE(text.find("floorlink_outbox_depth 0\n"), std::string::npos);
  EXPECT_NE(text.find("floorlink_broker_connected 0\n"), std::string::npos);
}

}  // namespace
}  // namespace floorlink::agent
