// floorlinkctl: the technician's tool. Talks to the running agent over its
// control socket; every verb that prints takes --json.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include <fstream>

#include "agent/control/control_server.h"
#include "agent/store/salvage.h"
#include "core/clock.h"
#include "config/loader.h"

namespace {

using nlohmann::json;
using floorlink::Result;

std::string text(const json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump();
}

std::string ago(int64_t ms) {
  if (ms <= 0) return "-";
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 120'000) return std::to_string(ms / 1000) + " s";
  if (ms < 7'200'000) return std::to_string(ms / 60'000) + " min";
  return std::to_string(ms / 3'600'000) + " h";
}

void printStatus(const json& s) {
  std::cout << "floorlink " << text(s, "agent_version") << "  " << text(s, "site") << "/" << text(s, "agent")
            << "  up " << (s.value("uptime_s", int64_t{0}) == 0 ? std::string("0 s") : ago(s.value("uptime_s", int64_t{0}) * 1000))
            << "\n";
  if (s.contains("database")) {
    const auto& d = s["database"];
    std::cout << "database  " << text(d, "state") << "  " << text(d, "detail", "") << "\n";
  }
  if (s.contains("broker")) {
    const auto& b = s["broker"];
    std::cout << "broker    " << (b.value("connected", false) ? "connected" : "NOT CONNECTED") << "  "
              << text(b, "url") << "  session " << text(b, "session") << "\n";
    if (b.contains("last_error") && !b["last_error"].get<std::string>().empty()) {
      std::cout << "          last error: " << text(b, "last_error") << "\n";
    }
  } else {
    std::cout << "broker    (sync not running)\n";
  }
  if (s.contains("outbox")) {
    const auto& o = s["outbox"];
    std::cout << "outbox    " << o.value("depth", 0) << " unacked, oldest " << ago(o.value("oldest_unacked_ms", int64_t{0}))
              << ", last seq " << o.value("last_seq", 0) << ", acked through " << o.value("acked_through", 0) << "\n";
  }
  if (s.contains("devices")) {
    std::cout << "devices   " << (s["devices"].empty() ? "none configured" : "") << "\n";
    for (const auto& d : s["devices"]) {
      std::cout << "  " << text(d, "id") << "  " << text(d, "kind") << "  " << text(d, "state") << "  "
                << text(d, "detail", "") << "\n";
    }
  }
  if (s.contains("warnings")) {
    for (const auto& w : s["warnings"]) std::cout << "WARNING: " << w.get<std::string>() << "\n";
  }
}

std::string pad(std::string s, size_t n) {
  if (s.size() < n) s.append(n - s.size(), ' ');
  return s;
}

void printTasks(const json& r) {
  const auto& tasks = r["tasks"];
  if (tasks.empty()) {
    std::cout << "no tasks match\n";
    return;
  }
  std::cout << pad("TASK", 14) << pad("WAVE", 10) << pad("KIND", 6) << pad("STATE", 11) << pad("STATION", 10)
            << pad("ORDER", 12) << "DETAIL\n";
  for (const auto& t : tasks) {
    std::string detail = t.value("kind", "") == "pick"
                             ? t.value("bin", "") + " " + t.value("sku", "") + " " +
                                   std::to_string(t.value("qty_done", 0)) + "/" + std::to_string(t.value("qty", 0))
                             : "";
    if (!t.value("reason", "").empty()) detail += " (" + t.value("reason", "") + ")";
    std::string station = t.value("claimed_by", "");
    if (station.empty()) station = t.value("station", "");
    std::cout << pad(text(t, "task_id"), 14) << pad(text(t, "wave_id"), 10) << pad(text(t, "kind"), 6)
              << pad(text(t, "state"), 11) << pad(station.empty() ? "-" : station, 10) << pad(text(t, "order_id"), 12)
              << detail << "\n";
  }
}

void printWaves(const json& r) {
  std::cout << pad("WAVE", 12) << pad("REV", 5) << pad("STATE", 10) << "PENDING ACTIVE DONE SHORT CANCELLED\n";
  for (const auto& w : r["waves"]) {
    std::cout << pad(text(w, "wave_id"), 12) << pad(text(w, "revision"), 5) << pad(text(w, "state"), 10)
              << pad(text(w, "pending"), 8) << pad(text(w, "active"), 7) << pad(text(w, "done"), 5)
              << pad(text(w, "short"), 6) << text(w, "cancelled") << "\n";
  }
}

void printOutbox(const json& o) {
  std::cout << "unacknowledged events  " << o.value("depth", 0) << "\n"
            << "oldest unacked         " << ago(o.value("oldest_unacked_ms", int64_t{0})) << "\n"
            << "last seq               " << o.value("last_seq", 0) << "\n"
            << "acked through          " << o.value("acked_through", 0) << "\n";
  if (o.contains("connected")) {
    std::cout << "broker                 " << (o.value("connected", false) ? "connected" : "NOT CONNECTED") << "\n"
              << "in flight              " << o.value("inflight", 0) << "\n"
              << "sent / resent          " << o.value("events_sent", 0) << " / " << o.value("events_resent", 0) << "\n"
              << "ack timeouts           " << o.value("ack_timeouts", 0) << "\n";
  }
}

void printDevices(const json& r) {
  if (r["devices"].empty()) {
    std::cout << "no devices configured\n";
    return;
  }
  std::cout << pad("DEVICE", 12) << pad("KIND", 9) << pad("STATE", 9) << "DETAIL / WHERE\n";
  for (const auto& d : r["devices"]) {
    std::cout << pad(text(d, "id"), 12) << pad(text(d, "kind"), 9) << pad(text(d, "state"), 9) << text(d, "detail", "")
              << "\n" << pad("", 30) << text(d, "transport", text(d, "address").c_str()) << "\n";
    if (d.contains("reading")) std::cout << pad("", 30) << "reading: " << text(d["reading"], "text") << "\n";
    if (d.contains("host_status")) std::cout << pad("", 30) << "~HS: " << d["host_status"].dump() << "\n";
  }
}

void printDevice(const json& d) {
  std::cout << text(d, "id") << " (" << text(d, "kind") << "): " << text(d, "state") << " " << text(d, "detail", "")
            << "\n";
  if (d.contains("identity")) std::cout << "identity   " << text(d, "identity") << "\n";
  if (d.contains("transport")) std::cout << "transport  " << text(d, "transport") << "\n";
  if (d.contains("last_error") && !text(d, "last_error", "").empty()) {
    std::cout << "last error " << text(d, "last_error") << "\n";
  }
  if (d.contains("raw")) {
    std::cout << "last raw bytes (oldest first):\n";
    for (const auto& c : d["raw"]) {
      std::cout << "  " << c.value("time_ms", int64_t{0}) << " " << pad(text(c, "direction"), 4) << text(c, "text")
                << "\n       " << text(c, "hex") << "\n";
    }
  }
}

void printStation(const json& v) {
  std::cout << "station " << text(v, "id") << " (" << text(v, "kind") << "): " << text(v, "step") << "\n";
  std::cout << "  now: " << text(v, "prompt") << "\n";
  if (!text(v, "message", "").empty()) {
    std::cout << "  " << (v.value("message_is_error", false) ? "PROBLEM: " : "last: ") << text(v, "message") << "\n";
  }
  if (v.contains("task") && v["task"].is_object()) {
    const auto& t = v["task"];
    std::cout << "  task " << text(t, "task_id") << " (" << text(t, "state") << ") order " << text(t, "order_id") << "\n";
  }
  if (v.contains("weight_g")) std::cout << "  weight " << v["weight_g"] << " g\n";
  if (v.contains("print")) std::cout << "  label job " << text(v["print"], "job_id") << ": " << text(v["print"], "state") << "\n";
  if (v.contains("last_scans") && !v["last_scans"].empty()) {
    std::cout << "  last scans (newest first):\n";
    for (const auto& s : v["last_scans"]) {
      std::cout << "    " << (s.value("accepted", false) ? "ok      " : "REJECTED") << " " << pad(text(s, "code"), 24)
                << text(s, "message") << "\n";
    }
  }
}

void printJobs(const json& r) {
  if (r["jobs"].empty()) {
    std::cout << "no print jobs\n";
    return;
  }
  std::cout << pad("JOB", 10) << pad("STATE", 11) << pad("PRINTER", 10) << pad("TASK", 12) << pad("SSCC", 20) << "DETAIL\n";
  for (const auto& j : r["jobs"]) {
    std::cout << pad(text(j, "job_id"), 10) << pad(text(j, "state"), 11) << pad(text(j, "printer"), 10)
              << pad(text(j, "task_id"), 12) << pad(text(j, "sscc", ""), 20) << text(j, "detail", "") << "\n";
  }
}

void printJob(const json& j) {
  std::cout << "job " << text(j, "job_id") << " on " << text(j, "printer") << ": " << text(j, "state")
            << (j.value("verified", false) ? " (barcodes verified)" : "") << " " << text(j, "detail", "") << "\n";
}

std::vector<uint8_t> unbase64(const std::string& in) {
  std::vector<uint8_t> out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
          : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// Runs here, not in the agent: salvage is needed exactly when the agent
// cannot open its database.
int salvageDatabase(const std::string& dataDir, bool asJson) {
  namespace fs = std::filesystem;
  if (dataDir.empty()) {
    std::cerr << "floorlinkctl: db salvage needs --config FILE or --data-dir DIR\n";
    return 2;
  }
  fs::path db = fs::path(dataDir) / "floorlink.db";
  auto copies = floorlink::agent::findCorruptCopies(db);
  fs::path source;
  if (!copies.empty()) {
    source = copies.back();
  } else if (fs::exists(db)) {
    source = db;
  } else {
    std::cerr << "floorlinkctl: no database to salvage in " << dataDir << "\n";
    return 1;
  }
  fs::path dest = db;
  if (source == db) dest = fs::path(dataDir) / "floorlink.salvaged.db";
  if (fs::exists(dest)) {
    std::cerr << "floorlinkctl: " << dest.string()
              << " exists: the agent may be running or a salvage already happened. Stop the agent and move it away first.\n";
    return 1;
  }
  std::cerr << "salvaging " << source.string() << " into " << dest.string() << " …\n";
  floorlink::SystemClock clock;
  auto report = floorlink::agent::salvageDatabase(source, dest, clock);
  if (!report) {
    std::cerr << "floorlinkctl: salvage failed: " << report.error().message << "\n";
    return 1;
  }
  if (asJson) {
    json j{{"source", report->source.string()}, {"destination", report->destination.string()},
           {"complete", report->complete()}, {"last_seq", report->lastSeq}, {"acked_through", report->ackedThrough},
           {"missing_seq_count", report->missingSeqCount}, {"problems", report->problems}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << report->describe() << "\n";
    if (dest != db) std::cout << "Review it, then move " << dest.string() << " to " << db.string() << " and start the agent.\n";
  }
  return report->complete() ? 0 : 4;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floorlinkctl: inspect and drive a running floorlink agent"};
  app.require_subcommand(1);
  std::string socket = "/run/floorlink/control.sock";
  std::string configPath;
  bool asJson = false;
  int timeoutS = 30;
  app.add_option("--socket", socket, "the agent's control socket")->capture_default_str();
  app.add_option("--config", configPath, "take the control socket from this configuration file");
  app.add_flag("--json", asJson, "print machine-readable JSON");
  app.add_option("--timeout", timeoutS, "seconds to wait for the agent")->capture_default_str();

  std::string verb;
  json args = json::object();
  std::function<void(const json&)> render = [](const json& j) { std::cout << j.dump(2) << "\n"; };

  auto* status = app.add_subcommand("status", "version, uptime, broker connection, devices, outbox");
  status->callback([&] {
    verb = "status";
    render = printStatus;
  });

  std::string wave, station, state, device, code, job, printer, task, out;
  int limit = 1000, seconds = 10, maxRaw = 50;
  bool raw = false, stable = false;
  auto* tasks = app.add_subcommand("tasks", "tasks in the local queue");
  tasks->add_option("--wave", wave, "only this wave");
  tasks->add_option("--station", station, "only tasks assigned to or worked at this station");
  tasks->add_option("--state", state, "pending, active, done, short or cancelled");
  tasks->add_option("--limit", limit, "at most this many")->capture_default_str();
  tasks->callback([&] {
    verb = "tasks";
    args = {{"wave", wave}, {"station", station}, {"state", state}, {"limit", limit}};
    render = printTasks;
  });
  app.add_subcommand("waves", "waves and their progress")->callback([&] {
    verb = "waves";
    render = printWaves;
  });
  app.add_subcommand("outbox", "events waiting for the OMS's acknowledgement")->callback([&] {
    verb = "outbox";
    render = printOutbox;
  });
  app.add_subcommand("devices", "every device with its state and reason")->callback([&] {
    verb = "devices";
    render = printDevices;
  });
  auto* dev = app.add_subcommand("device", "one device in detail");
  dev->add_option("DEVICE", device, "device id")->required();
  dev->add_flag("--raw", raw, "show the last raw bytes it sent and received");
  dev->add_option("--max", maxRaw, "raw chunks to show")->capture_default_str();
  dev->callback([&] {
    verb = "device";
    args = {{"device", device}, {"max", raw ? maxRaw : 0}};
    render = printDevice;
  });
  auto* weigh = app.add_subcommand("weigh", "live readings of a scale (or one stable weight with --stable)");
  weigh->add_option("SCALE", device, "scale id")->required();
  weigh->add_option("--seconds", seconds, "how long to show live readings")->capture_default_str();
  weigh->add_flag("--stable", stable, "wait for one stable weight, as the pack bench does");
  weigh->callback([&] {
    verb = "weigh";
    args = {{"scale", device}, {"seconds", seconds}, {"stable", stable}};
    timeoutS = std::max(timeoutS, seconds + 10);
    render = [](const json& r) {
      if (r.contains("grams")) {
        std::cout << "stable: " << r["grams"] << " g (" << text(r, "displayed") << ")\n";
      } else {
        std::cout << "scale " << text(r, "status") << " " << text(r, "detail", "") << "\n";
      }
    };
  });

  auto* print = app.add_subcommand("print", "label print jobs");
  print->require_subcommand(1);
  auto* jobs = print->add_subcommand("jobs", "the print journal");
  jobs->add_option("--state", state, "queued, sent, confirmed, failed, uncertain, cancelled, expired");
  jobs->add_option("--printer", printer, "only this printer");
  jobs->callback([&] {
    verb = "print.jobs";
    args = {{"state", state}, {"printer", printer}};
    render = printJobs;
  });
  auto* reprint = print->add_subcommand("reprint", "print a job again (after checking the printer)");
  reprint->add_option("JOB", job, "job id")->required();
  reprint->callback([&] {
    verb = "print.reprint";
    args = {{"job", job}};
    render = printJob;
  });
  auto* confirm = print->add_subcommand("confirm", "an uncertain label did print: mark it confirmed");
  confirm->add_option("JOB", job, "job id")->required();
  confirm->callback([&] {
    verb = "print.confirm";
    args = {{"job", job}};
    render = printJob;
  });
  auto* cancel = print->add_subcommand("cancel", "do not print a queued job");
  cancel->add_option("JOB", job, "job id")->required();
  cancel->callback([&] {
    verb = "print.cancel";
    args = {{"job", job}};
    render = printJob;
  });
  auto* test = print->add_subcommand("test", "print a status label with agent, printer and network facts");
  test->add_option("PRINTER", printer, "printer id")->required();
  test->callback([&] {
    verb = "print.test";
    args = {{"printer", printer}};
    render = printJob;
  });

  auto* label = app.add_subcommand("label", "label tools");
  label->require_subcommand(1);
  auto* preview = label->add_subcommand("preview", "render a pack task's label to PNG at the printer's resolution");
  preview->add_option("TASK", task, "pack task id")->required();
  preview->add_option("--out", out, "PNG file to write")->required();
  preview->callback([&] {
    verb = "label.preview";
    args = {{"task", task}};
    render = [&out](const json& r) {
      auto png = unbase64(r.value("png_base64", ""));
      std::ofstream f(out, std::ios::binary);
      f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
      if (!f) {
        std::cerr << "floorlinkctl: cannot write " << out << "\n";
        std::exit(1);
      }
      std::cout << "wrote " << out << " (" << png.size() << " bytes, template " << text(r, "template") << ")\n";
    };
  });

  auto* scan = app.add_subcommand("scan", "inject a scan at a station, as if from its scanner");
  scan->add_option("STATION", station, "station id")->required();
  scan->add_option("CODE", code, "the barcode text (\\x1d stands for the GS1 separator)")->required();
  scan->callback([&] {
    verb = "scan";
    args = {{"station", station}, {"code", code}};
    render = printStation;
  });
  auto* st = app.add_subcommand("station", "a station's current task and last scans");
  st->add_option("STATION", station, "station id")->required();
  st->callback([&] {
    verb = "station";
    args = {{"station", station}};
    render = printStation;
  });

  auto* db = app.add_subcommand("db", "the task database");
  db->require_subcommand(1);
  db->add_subcommand("info", "path, schema version, durability settings, size")->callback([&] { verb = "db.info"; });
  std::string dataDir, salvageOut;
  auto* salvage = db->add_subcommand("salvage",
                                     "copy every readable row of a damaged database into a new one (agent stopped)");
  salvage->add_option("--data-dir", dataDir, "the agent's data directory (default: from --config)");
  salvage->callback([&] { verb = "db.salvage"; });

  for (auto* sub : app.get_subcommands({})) {
    sub->add_flag("--json", asJson, "print machine-readable JSON");
    for (auto* subsub : sub->get_subcommands({})) subsub->add_flag("--json", asJson, "print machine-readable JSON");
  }

  CLI11_PARSE(app, argc, argv);

  if (!configPath.empty()) {
    auto c = floorlink::config::loadFile(configPath);
    if (!c) {
      std::cerr << c.error().message << "\n";
      return 2;
    }
    socket = c->control.socket.string();
    if (dataDir.empty()) dataDir = c->agent.dataDir.string();
  }
  if (verb == "db.salvage") return salvageDatabase(dataDir, asJson);
  auto progress = [&](const json& p) {
    if (asJson) {
      std::cout << json{{"progress", p}}.dump() << "\n";
    } else if (p.contains("message")) {
      std::cerr << p["message"].get<std::string>() << "\n";
    } else {
      std::cerr << p.dump() << "\n";
    }
  };
  auto result = floorlink::agent::controlRequest(socket, verb, args, progress, timeoutS * 1000);
  if (!result) {
    if (asJson) {
      std::cout << json{{"ok", false}, {"error", result.error().message}}.dump() << "\n";
    } else {
      std::cerr << "floorlinkctl: " << result.error().message << "\n";
    }
    return result.error().code == floorlink::ErrorCode::kDisconnected ? 3 : 1;
  }
  if (asJson) {
    std::cout << result->dump(2) << "\n";
  } else {
    render(*result);
  }
  return 0;
}
