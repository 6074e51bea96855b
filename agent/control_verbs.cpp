// The floorlinkctl verbs the running agent answers. Every answer is JSON;
// floorlinkctl renders it for people unless --json is given.
#include <ifaddrs.h>
#include <netdb.h>
#include <unistd.h>

#include <fmt/format.h>

#include "agent/daemon_impl.h"
#include "sync/sync.h"

namespace floorlink::agent {

using nlohmann::json;

namespace {

json jobJson(const printers::PrintJob& j) {
  return {{"job_id", j.jobId},       {"key", j.idempotencyKey}, {"printer", j.printer},
          {"template", j.templateName}, {"task_id", j.taskId},   {"station", j.station},
          {"sscc", j.sscc},          {"tracking", j.tracking},  {"verified", j.verified},
          {"state", std::string(printers::toString(j.state))},   {"detail", j.detail},
          {"attempts", j.attempts},  {"created_ms", j.createdMs}, {"updated_ms", j.updatedMs}};
}

std::string hexOf(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (auto b : bytes) out += fmt::format("{:02x} ", b);
  if (!out.empty()) out.pop_back();
  return out;
}

std::string printable(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (auto b : bytes) {
    if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
    } else if (b == '\r') {
      out += "<CR>";
    } else if (b == '\n') {
      out += "<LF>";
    } else if (b == 0x1d) {
      out += "<GS>";
    } else {
      out += fmt::format("<{:02X}>", b);
    }
  }
  return out;
}

std::string base64(const std::vector<uint8_t>& data) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == data.size()) {
    uint32_t v = data[i] << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

json readingJson(const drivers::Reading& r) {
  return {{"grams", r.weightKnown ? json(r.grams) : json(nullptr)},
          {"status", std::string(drivers::toString(r.status))},
          {"net", r.net},
          {"displayed", r.displayed},
          {"text", r.describe()}};
}

Result<std::string> stringArg(const json& args, const char* key) {
  if (!args.contains(key) || !args[key].is_string() || args[key].get<std::string>().empty()) {
    return fail(ErrorCode::kInvalidArgument, std::string("missing ") + key);
  }
  return args[key].get<std::string>();
}

}  // namespace

json Daemon::Impl::status() {
  json s;
  s["agent_version"] = FLOORLINK_VERSION;
  s["site"] = config.agent.site;
  s["agent"] = config.agent.id;
  s["started_at"] = startedAtMs;
  s["uptime_s"] = (clock.nowMs() - startedAtMs) / 1000;
  s["config"] = config.sourceFile;
  if (store) {
    auto h = store->health();
    s["database"] = {{"state", h.acceptingWork ? "ok" : "stopped"},
                     {"detail", h.acceptingWork ? store->path().string() : h.detail},
                     {"schema_version", store->schemaVersion()}};
    if (auto o = store->outboxStats()) {
      s["outbox"] = {{"depth", o->depth},
                     {"oldest_unacked_ms", o->oldestUnackedMs},
                     {"acked_through", o->ackedThrough},
                     {"last_seq", o->lastSeq}};
    }
  } else {
    s["database"] = {{"state", "damaged"}, {"detail", storeProblem}};
  }
  if (sync) {
    auto st = sync->status();
    s["broker"] = {{"connected", st.connected},
                   {"url", st.brokerUrl},
                   {"client_id", st.clientId},
                   {"protocol", st.protocol},
                   {"session", st.session},
                   {"last_error", st.lastError},
                   {"connected_since_ms", st.connectedSinceMs},
                   {"reconnects", st.reconnects},
                   {"next_retry_in_ms", st.nextRetryInMs},
                   {"inflight", st.inflight}};
  }
  json devs = json::array();
  for (const auto& [id, h] : health) {
    devs.push_back({{"id", id}, {"kind", h.kind}, {"state", h.state}, {"detail", h.detail}, {"since_ms", h.sinceMs}});
  }
  s["devices"] = devs;
  json sts = json::array();
  for (const auto& [id, st] : stations) {
    const auto& v = st->view();
    sts.push_back({{"id", id},
                   {"kind", std::string(config::toString(v.kind))},
                   {"step", std::string(toString(v.step))},
                   {"task_id", v.task ? v.task->taskId : ""}});
  }
  s["stations"] = sts;
  json w = warnings;
  if (store && !store->health().acceptingWork) w.push_back(store->health().detail);
  s["warnings"] = w;
  return s;
}

void Daemon::Impl::registerVerbs() {
  using H = ControlServer::SimpleHandler;
  auto needStore = [this]() -> Status {
    if (!store) return fail(ErrorCode::kStorage, storeProblem);
    return ok();
  };

  control->handle("status", H([this](const json&) -> Result<json> { return status(); }));

  control->handle("tasks", H([this, needStore](const json& args) -> Result<json> {
    if (auto s = needStore(); !s) return std::unexpected(s.error());
    TaskFilter f;
    f.waveId = args.value("wave", "");
    f.station = args.value("station", "");
    f.limit = args.value("limit", 1000);
    if (auto st = args.value("state", ""); !st.empty()) {
      auto parsed = parseTaskState(st);
      if (!parsed) return std::unexpected(parsed.error());
      f.state = *parsed;
    }
    auto tasks = store->tasks(f);
    if (!tasks) return std::unexpected(tasks.error());
    json out = json::array();
    for (const auto& t : *tasks) out.push_back(toJson(t));
    return json{{"tasks", out}};
  }));

  control->handle("waves", H([this, needStore](const json&) -> Result<json> {
    if (auto s = needStore(); !s) return std::unexpected(s.error());
    auto waves = store->waves();
    if (!waves) return std::unexpected(waves.error());
    json out = json::array();
    for (const auto& w : *waves) {
      out.push_back({{"wave_id", w.waveId}, {"revision", w.revision}, {"priority", w.priority},
                     {"state", std::string(toString(w.state))}, {"pending", w.pending}, {"active", w.active},
                     {"done", w.done}, {"short", w.shortPicked}, {"cancelled", w.cancelled}});
    }
    return json{{"waves", out}};
  }));

  control->handle("outbox", H([this, needStore](const json&) -> Result<json> {
    if (auto s = needStore(); !s) return std::unexpected(s.error());
    auto o = store->outboxStats();
    if (!o) return std::unexpected(o.error());
    json out{{"depth", o->depth}, {"oldest_unacked_ms", o->oldestUnackedMs}, {"acked_through", o->ackedThrough},
             {"last_seq", o->lastSeq}};
    if (sync) {
      auto st = sync->status();
      out["connected"] = st.connected;
      out["inflight"] = st.inflight;
      out["events_sent"] = st.eventsSent;
      out["events_resent"] = st.eventsResent;
      out["ack_timeouts"] = st.ackTimeouts;
      out["acks_applied"] = st.acksApplied;
      out["acks_ignored"] = st.acksIgnored;
    }
    return out;
  }));

  control->handle("db.info", H([this, needStore](const json&) -> Result<json> {
    if (auto s = needStore(); !s) return std::unexpected(s.error());
    auto i = store->info();
    if (!i) return std::unexpected(i.error());
    return json{{"path", i->path.string()}, {"schema_version", i->schemaVersion}, {"journal_mode", i->journalMode},
                {"synchronous", i->synchronous}, {"foreign_keys", i->foreignKeys},
                {"busy_timeout_ms", i->busyTimeoutMs}, {"size_bytes", i->sizeBytes}};
  }));

  control->handle("devices", H([this](const json& args) -> Result<json> {
    json out = json::array();
    for (const auto& [id, h] : health) {
      json d{{"id", id}, {"kind", h.kind}, {"state", h.state}, {"detail", h.detail}, {"since_ms", h.sinceMs}};
      if (const auto* cfg = config.device(id)) d["address"] = cfg->address.text;
      if (devices) {
        if (auto info = devices->device(id)) {
          d["identity"] = info->identity;
          d["transport"] = info->transport;
          d["bytes_in"] = info->bytesIn;
          d["bytes_out"] = info->bytesOut;
          d["reconnects"] = info->reconnects;
          d["last_error"] = info->lastError;
        }
      }
      if (int rawMax = args.value("raw", 0); rawMax > 0 && devices) {
        json raw = json::array();
        for (const auto& c : devices->raw(id, static_cast<size_t>(rawMax))) {
          raw.push_back({{"time_ms", c.timeMs},
                         {"direction", c.direction == drivers::RawDirection::kIn ? "in" : "out"},
                         {"hex", hexOf(c.bytes)},
                         {"text", printable(c.bytes)}});
        }
        d["raw"] = raw;
      }
      if (auto it = scales.find(id); it != scales.end()) {
        d["transport"] = it->second->describe();
        if (const auto* r = it->second->lastReading()) d["reading"] = readingJson(*r);
      }
      if (auto it = printers.find(id); it != printers.end()) {
        d["transport"] = it->second->describe();
        const auto& ps = it->second->status();
        d["dots_per_mm"] = ps.dotsPerMm;
        if (ps.host) {
          const auto& hs = *ps.host;
          d["host_status"] = {{"paper_out", hs.paperOut}, {"paused", hs.paused}, {"head_open", hs.headOpen},
                              {"ribbon_out", hs.ribbonOut}, {"buffer_full", hs.bufferFull},
                              {"formats_in_buffer", hs.formatsInBuffer}};
        }
      }
      out.push_back(d);
    }
    return json{{"devices", out}};
  }));

  control->handle("device", H([this](const json& args) -> Result<json> {
    auto id = stringArg(args, "device");
    if (!id) return std::unexpected(id.error());
    auto it = health.find(*id);
    if (it == health.end()) {
      std::string known;
      for (const auto& [k, _] : health) known += (known.empty() ? "" : ", ") + k;
      return fail(ErrorCode::kNotFound, "no device \"" + *id + "\" (configured: " + (known.empty() ? "none" : known) + ")");
    }
    json d{{"id", *id}, {"kind", it->second.kind}, {"state", it->second.state}, {"detail", it->second.detail}};
    if (devices) {
      if (auto info = devices->device(*id)) {
        d["identity"] = info->identity;
        d["transport"] = info->transport;
        d["last_error"] = info->lastError;
      }
      json raw = json::array();
      for (const auto& c : devices->raw(*id, args.value("max", 50))) {
        raw.push_back({{"time_ms", c.timeMs},
                       {"direction", c.direction == drivers::RawDirection::kIn ? "in" : "out"},
                       {"hex", hexOf(c.bytes)},
                       {"text", printable(c.bytes)}});
      }
      d["raw"] = raw;
    }
    return d;
  }));

  control->handle("weigh", [this](const json& args, std::shared_ptr<ControlReply> reply) {
    std::string id = args.value("scale", "");
    auto it = scales.find(id);
    if (it == scales.end()) {
      reply->finish(fail(ErrorCode::kNotFound, "no scale \"" + id + "\""));
      return;
    }
    auto* scale = it->second.get();
    if (args.value("stable", false)) {
      scale->weigh([reply](Result<drivers::Weight> w) {
        if (!w) {
          reply->finish(std::unexpected(w.error()));
        } else {
          reply->finish(json{{"grams", w->grams}, {"net", w->net}, {"displayed", w->displayed},
                             {"readings", w->readings}, {"stable_for_ms", w->stableFor.count()}});
        }
      });
      return;
    }
    // Live: every reading as a progress line for `seconds`, or until floorlinkctl hangs up.
    int seconds = std::clamp(args.value("seconds", 10), 1, 3600);
    auto watch = std::make_shared<drivers::Scale::WatchId>(0);
    *watch = scale->watchReadings([reply, scale, watch](const drivers::Reading& r) {
      if (!reply->connected()) {
        scale->unwatchReadings(*watch);
        return;
      }
      reply->progress(readingJson(r));
    });
    loop->addTimer(std::chrono::seconds(seconds), [reply, scale, watch] {
      scale->unwatchReadings(*watch);
      const auto* last = scale->lastReading();
      reply->finish(json{{"status", std::string(drivers::toString(scale->status().state))},
                         {"detail", scale->status().detail},
                         {"last", last ? readingJson(*last) : json(nullptr)}});
    });
  });

  control->handle("print.jobs", H([this](const json& args) -> Result<json> {
    if (!printService) return fail(ErrorCode::kUnsupported, "no printer is configured");
    printers::JobFilter f;
    f.printer = args.value("printer", "");
    f.limit = args.value("limit", 100);
    size_t keepNewest = 0;
    if (args.value("newest", false)) {
      // The journal lists oldest first; the technician page wants the latest.
      keepNewest = f.limit;
      f.limit = 100000;
    }
    if (auto st = args.value("state", ""); !st.empty()) {
      auto parsed = printers::parseJobState(st);
      if (!parsed) return std::unexpected(parsed.error());
      f.state = *parsed;
    }
    auto jobs = printService->jobs(f);
    if (!jobs) return std::unexpected(jobs.error());
    json out = json::array();
    size_t skip = keepNewest > 0 && jobs->size() > keepNewest ? jobs->size() - keepNewest : 0;
    for (size_t i = skip; i < jobs->size(); ++i) out.push_back(jobJson((*jobs)[i]));
    return json{{"jobs", out}};
  }));
  auto jobReply = [](std::shared_ptr<ControlReply> reply) {
    return [reply](const Result<printers::PrintJob>& job) {
      if (!job) {
        reply->finish(std::unexpected(job.error()));
      } else {
        reply->finish(jobJson(*job));
      }
    };
  };
  control->handle("print.reprint", [this, jobReply](const json& args, std::shared_ptr<ControlReply> reply) {
    if (!printService) return reply->finish(fail(ErrorCode::kUnsupported, "no printer is configured"));
    reply->progress({{"message", "printing job " + args.value("job", "") + " again…"}});
    printService->reprint(args.value("job", ""), jobReply(reply));
  });
  control->handle("print.confirm", H([this](const json& args) -> Result<json> {
    if (!printService) return fail(ErrorCode::kUnsupported, "no printer is configured");
    auto j = printService->confirm(args.value("job", ""));
    if (!j) return std::unexpected(j.error());
    return jobJson(*j);
  }));
  control->handle("print.cancel", H([this](const json& args) -> Result<json> {
    if (!printService) return fail(ErrorCode::kUnsupported, "no printer is configured");
    auto j = printService->cancel(args.value("job", ""));
    if (!j) return std::unexpected(j.error());
    return jobJson(*j);
  }));
  control->handle("print.test", [this, jobReply](const json& args, std::shared_ptr<ControlReply> reply) {
    if (!printService) return reply->finish(fail(ErrorCode::kUnsupported, "no printer is configured"));
    printers::TestLabelFacts facts;
    facts.agentVersion = FLOORLINK_VERSION;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    facts.hostname = host;
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
      for (auto* i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        char addr[NI_MAXHOST];
        if (getnameinfo(i->ifa_addr, sizeof(sockaddr_in), addr, sizeof addr, nullptr, 0, NI_NUMERICHOST) == 0) {
          facts.addresses.push_back(std::string(i->ifa_name) + " " + addr);
        }
      }
      freeifaddrs(ifs);
    }
    printService->testPrint(args.value("printer", ""), facts, jobReply(reply));
  });

  control->handle("label.preview", H([this, needStore](const json& args) -> Result<json> {
    if (auto s = needStore(); !s) return std::unexpected(s.error());
    if (!printService) return fail(ErrorCode::kUnsupported, "no printer is configured");
    auto taskId = stringArg(args, "task");
    if (!taskId) return std::unexpected(taskId.error());
    auto task = store->findTask(*taskId);
    if (!task) return std::unexpected(task.error());
    if (!*task) return fail(ErrorCode::kNotFound, "no task \"" + *taskId + "\"");
    if ((*task)->kind != sync::TaskKind::kPack) return fail(ErrorCode::kInvalidArgument, "task " + *taskId + " is not a pack task");
    auto spec = json::parse((*task)->specJson, nullptr, false);
    printers::LabelRequest req;
    req.idempotencyKey = *taskId + "/preview";
    req.taskId = *taskId;
    req.orderId = (*task)->orderId;
    req.waveId = (*task)->waveId;
    req.station = (*task)->claimedBy.empty() ? (*task)->station : (*task)->claimedBy;
    for (const auto& st : config.stations) {
      if (st.id == req.station || (req.printer.empty() && st.kind == config::StationKind::kPack)) req.printer = st.printer;
    }
    if (spec.is_object() && spec.contains("label")) {
      req.templateName = spec["label"].value("template", "");
      if (spec["label"].contains("fields") && spec["label"]["fields"].is_object()) {
        for (auto& [k, v] : spec["label"]["fields"].items()) {
          if (v.is_string()) req.fields[k] = v.get<std::string>();
        }
      }
      req.sscc = spec.value("sscc", "");
      req.tracking = spec.value("tracking", "");
      req.carrier = spec.value("carrier", "");
    }
    auto png = printService->previewPng(req);
    if (!png) return std::unexpected(png.error());
    return json{{"task_id", *taskId}, {"template", req.templateName}, {"png_base64", base64(*png)}, {"bytes", png->size()}};
  }));

  control->handle("scan", H([this](const json& args) -> Result<json> {
    auto id = stringArg(args, "station");
    if (!id) return std::unexpected(id.error());
    auto code = stringArg(args, "code");
    if (!code) return std::unexpected(code.error());
    auto* s = station(*id);
    if (!s) return fail(ErrorCode::kNotFound, "no station \"" + *id + "\"");
    std::string c = *code;
    for (size_t p; (p = c.find("\\x1d")) != std::string::npos;) c.replace(p, 4, "\x1d");
    // The station screen's keyboard entry says so; floorlinkctl injects.
    s->onCode(c, args.value("source", "") == "keyboard" ? ScanSource::kKeyboard : ScanSource::kInjected);
    return toJson(s->view());
  }));

  control->handle("station", H([this](const json& args) -> Result<json> {
    auto id = stringArg(args, "station");
    if (!id) return std::unexpected(id.error());
    auto* s = station(*id);
    if (!s) {
      std::string known;
      for (const auto& [k, _] : stations) known += (known.empty() ? "" : ", ") + k;
      return fail(ErrorCode::kNotFound, "no station \"" + *id + "\" (configured: " + (known.empty() ? "none" : known) + ")");
    }
    json v = toJson(s->view());
    if (const auto* cfg = config.station(*id)) {
      v["devices"] = {{"scanner", cfg->scanner}, {"scale", cfg->scale}, {"printer", cfg->printer}};
    }
    return v;
  }));

  control->handle("logs", H([this](const json& args) -> Result<json> {
    json lines = json::array();
    for (const auto& l : logging.recent(static_cast<size_t>(std::clamp(args.value("max", 100), 1, 500)))) {
      lines.push_back({{"time_ms", l.timeMs}, {"level", std::string(toString(l.level))}, {"module", l.module},
                       {"text", l.text}});
    }
    return json{{"lines", lines}};
  }));

  control->handle("metrics", H([this](const json&) -> Result<json> { return metrics(); }));
}

json Daemon::Impl::metrics() {
  json m{{"version", FLOORLINK_VERSION}, {"uptime_s", (clock.nowMs() - startedAtMs) / 1000}};
  if (store) {
    if (auto o = store->outboxStats()) {
      m["outbox"] = {{"depth", o->depth}, {"oldest_unacked_ms", o->oldestUnackedMs}, {"acked_through", o->ackedThrough},
                     {"last_seq", o->lastSeq}};
    }
  }
  if (sync) {
    auto st = sync->status();
    m["broker"] = {{"connected", st.connected},           {"connects", st.connects},
                   {"reconnects", st.reconnects},         {"connect_failures", st.connectFailures},
                   {"events_sent", st.eventsSent},        {"events_resent", st.eventsResent},
                   {"acks_applied", st.acksApplied},      {"commands_received", st.commandsReceived},
                   {"commands_rejected", st.commandsRejected}, {"invalid_messages", st.invalidMessages}};
  }
  json scans = json::array();
  for (const auto& [id, st] : stations) {
    for (const auto& [result, n] : st->scanCounts()) scans.push_back({{"station", id}, {"result", result}, {"count", n}});
  }
  m["scans"] = scans;
  json devs = json::array();
  for (const auto& [id, h] : health) {
    json d{{"id", id}, {"kind", h.kind}, {"state", h.state}, {"reconnects", 0}};
    if (devices) {
      if (auto info = devices->device(id)) d["reconnects"] = info->reconnects;
    }
    devs.push_back(d);
  }
  m["devices"] = devs;
  if (jobStore) {
    if (auto counts = jobStore->countByState()) m["print_jobs"] = *counts;
  }
  return m;
}

}  // namespace floorlink::agent
