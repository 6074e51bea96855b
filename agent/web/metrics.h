#pragma once
// /metrics: the agent's numbers (the "metrics" control verb, computed on the
// loop) in the Prometheus text exposition format 0.0.4.
#include <nlohmann/json.hpp>

#include <string>

namespace floorlink::agent {

struct HttpCounters {
  uint64_t requests = 0;
  uint64_t loopTimeouts = 0;  // answered 503: the loop did not answer in time
  uint64_t streams = 0;       // SSE streams open now
};

std::string prometheusText(const nlohmann::json& metrics, const HttpCounters& http);

// Escapes a label value (backslash, double quote, newline).
std::string promLabel(std::string_view value);

}  // namespace floorlink::agent
