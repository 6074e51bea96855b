#include "agent/web/views.h"

namespace floorlink::agent {

using nlohmann::json;

std::vector<VerbCall> stationViewCalls(const std::string& stationId) {
  return {{"station", {{"station", stationId}}}, {"status", json::object()}, {"devices", json::object()}};
}

Result<json> stationView(const VerbAnswers& answers) {
  if (answers.size() != 3) return fail(ErrorCode::kInternal, "station view: expected 3 answers");
  for (const auto& r : answers) {
    if (!r) return std::unexpected(r.error());
  }
  const json& station = *answers[0];
  const json& status = *answers[1];
  const json& devices = *answers[2];
  json out{{"station", station}};
  json agent{{"version", status.value("agent_version", "")},
             {"online", status.contains("broker") && status["broker"].value("connected", false)},
             {"backlog", status.contains("outbox") ? status["outbox"].value("depth", 0) : 0},
             {"oldest_unacked_ms", status.contains("outbox") ? status["outbox"].value("oldest_unacked_ms", 0) : 0},
             {"database", status.value("database", json::object()).value("state", "")},
             {"warnings", status.value("warnings", json::array())}};
  out["agent"] = agent;
  const json ids = station.value("devices", json::object());
  for (const auto& d : devices.value("devices", json::array())) {
    for (const char* role : {"scanner", "scale", "printer"}) {
      if (ids.value(role, "") == d.value("id", "") && !d.value("id", "").empty()) {
        json dev{{"id", d["id"]}, {"state", d.value("state", "")}, {"detail", d.value("detail", "")}};
        if (d.contains("reading")) dev["reading"] = d["reading"];
        if (d.contains("host_status")) dev["host_status"] = d["host_status"];
        out[role] = dev;
      }
    }
  }
  return out;
}

std::vector<VerbCall> technicianViewCalls() {
  return {{"status", json::object()},
          {"devices", {{"raw", 6}}},
          {"logs", {{"max", 60}}},
          {"print.jobs", {{"limit", 10}, {"newest", true}}}};
}

Result<json> technicianView(const VerbAnswers& answers) {
  if (answers.size() != 4) return fail(ErrorCode::kInternal, "technician view: expected 4 answers");
  // Print jobs are optional: an agent without a printer still has a page.
  for (size_t i = 0; i < 3; ++i) {
    if (!answers[i]) return std::unexpected(answers[i].error());
  }
  json out{{"status", *answers[0]},
           {"devices", answers[1]->value("devices", json::array())},
           {"logs", answers[2]->value("lines", json::array())}};
  out["print_jobs"] = answers[3] ? answers[3]->value("jobs", json::array()) : json::array();
  return out;
}

}  // namespace floorlink::agent
