#include "agent/web/metrics.h"

#include <fmt/format.h>

namespace floorlink::agent {

using nlohmann::json;

namespace {

// One metric family: HELP and TYPE once, then its samples.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(name) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(double value, std::string_view labels = {}) {
    if (labels.empty()) {
      out_ += fmt::format("{} {}\n", name_, value);
    } else {
      out_ += fmt::format("{}{{{}}} {}\n", name_, labels, value);
    }
  }

 private:
  std::string& out_;
  std::string_view name_;
};

double number(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<double>();
}

std::string label(std::string_view name, const json& value) {
  return fmt::format("{}=\"{}\"", name, promLabel(value.is_string() ? value.get<std::string>() : value.dump()));
}

}  // namespace

std::string promLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheusText(const json& m, const HttpCounters& http) {
  std::string out;
  Family(out, "floorlink_info", "gauge", "Agent version (always 1).")
      .sample(1, label("version", m.value("version", "")));
  Family(out, "floorlink_uptime_seconds", "gauge", "Seconds since the agent started.").sample(number(m, "uptime_s"));

  const json outbox = m.value("outbox", json::object());
  Family(out, "floorlink_outbox_depth", "gauge", "Events stored and not yet acknowledged by the OMS.")
      .sample(number(outbox, "depth"));
  Family(out, "floorlink_outbox_oldest_unacked_age_seconds", "gauge",
         "Age of the oldest unacknowledged event (0 when none).")
      .sample(number(outbox, "oldest_unacked_ms") / 1000.0);
  Family(out, "floorlink_events_recorded_total", "counter", "Events recorded (the highest seq).")
      .sample(number(outbox, "last_seq"));
  Family(out, "floorlink_events_acked_total", "counter", "Events acknowledged by the OMS (acked_through).")
      .sample(number(outbox, "acked_through"));

  const json broker = m.value("broker", json::object());
  Family(out, "floorlink_broker_connected", "gauge", "1 while connected to the MQTT broker.")
      .sample(broker.value("connected", false) ? 1 : 0);
  Family(out, "floorlink_broker_reconnects_total", "counter", "Successful broker connects after the first.")
      .sample(number(broker, "reconnects"));
  Family(out, "floorlink_broker_connect_failures_total", "counter", "Failed broker connection attempts.")
      .sample(number(broker, "connect_failures"));
  Family(out, "floorlink_events_sent_total", "counter", "Event publishes, resends included.")
      .sample(number(broker, "events_sent"));
  Family(out, "floorlink_events_resent_total", "counter", "Publishes of an event sent before.")
      .sample(number(broker, "events_resent"));
  {
    Family f(out, "floorlink_commands_total", "counter", "OMS commands stored, by result.");
    double received = number(broker, "commands_received"), rejected = number(broker, "commands_rejected");
    f.sample(received - rejected, "result=\"applied\"");
    f.sample(rejected, "result=\"rejected\"");
  }
  {
    Family f(out, "floorlink_scans_total", "counter", "Scans handled by stations, by result (accepted or the rejection reason).");
    for (const auto& s : m.value("scans", json::array())) {
      f.sample(number(s, "count"), label("station", s.value("station", "")) + "," + label("result", s.value("result", "")));
    }
  }
  {
    Family f(out, "floorlink_device_state", "gauge", "1 for the state each device is in now (ok, offline, fault).");
    for (const auto& d : m.value("devices", json::array())) {
      f.sample(1, label("device", d.value("id", "")) + "," + label("kind", d.value("kind", "")) + "," +
                      label("state", d.value("state", "")));
    }
  }
  {
    Family f(out, "floorlink_device_reconnects_total", "counter", "Times a device connection was opened again.");
    for (const auto& d : m.value("devices", json::array())) {
      f.sample(number(d, "reconnects"), label("device", d.value("id", "")));
    }
  }
  {
    Family f(out, "floorlink_print_jobs", "gauge", "Print jobs in the journal, by state.");
    const json jobs = m.value("print_jobs", json::object());
    for (const char* state : {"queued", "sent", "confirmed", "failed", "uncertain", "cancelled", "expired"}) {
      f.sample(number(jobs, state), fmt::format("state=\"{}\"", state));
    }
  }
  Family(out, "floorlink_http_requests_total", "counter", "HTTP requests served.")
      .sample(static_cast<double>(http.requests));
  Family(out, "floorlink_http_loop_timeouts_total", "counter", "HTTP requests answered 503 because the loop was busy.")
      .sample(static_cast<double>(http.loopTimeouts));
  Family(out, "floorlink_http_streams", "gauge", "Live page (SSE) connections open.")
      .sample(static_cast<double>(http.streams));
  return out;
}

}  // namespace floorlink::agent
