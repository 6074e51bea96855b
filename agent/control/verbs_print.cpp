#include "agent/control/verbs_print.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <unistd.h>

namespace floorlink::agent {

using nlohmann::json;
using H = ControlServer::SimpleHandler;

namespace {

Status needPrinter(const PrintVerbDeps& deps) {
  if (!deps.printService) return fail(ErrorCode::kUnsupported, "no printer is configured");
  return ok();
}

auto jobReply(std::shared_ptr<ControlReply> reply) {
  return [reply](const Result<printers::PrintJob>& job) {
    if (!job) {
      reply->finish(std::unexpected(job.error()));
    } else {
      reply->finish(jobJson(*job));
    }
  };
}

Result<json> jobs(const PrintVerbDeps& deps, const json& args) {
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
  auto jobs = deps.printService->jobs(f);
  if (!jobs) return std::unexpected(jobs.error());
  json out = json::array();
  size_t skip = keepNewest > 0 && jobs->size() > keepNewest ? jobs->size() - keepNewest : 0;
  for (size_t i = skip; i < jobs->size(); ++i) out.push_back(jobJson((*jobs)[i]));
  return json{{"jobs", out}};
}

printers::TestLabelFacts testLabelFacts() {
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
  return facts;
}

Result<json> preview(const PrintVerbDeps& deps, const json& args) {
  auto store = deps.store.get();
  if (!store) return std::unexpected(store.error());
  if (auto s = needPrinter(deps); !s) return std::unexpected(s.error());
  auto taskId = stringArg(args, "task");
  if (!taskId) return std::unexpected(taskId.error());
  auto task = (*store)->findTask(*taskId);
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
  for (const auto& st : deps.stations) {
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
  auto png = deps.printService->previewPng(req);
  if (!png) return std::unexpected(png.error());
  return json{{"task_id", *taskId}, {"template", req.templateName}, {"png_base64", base64(*png)}, {"bytes", png->size()}};
}

}  // namespace

json jobJson(const printers::PrintJob& j) {
  return {{"job_id", j.jobId},       {"key", j.idempotencyKey}, {"printer", j.printer},
          {"template", j.templateName}, {"task_id", j.taskId},   {"station", j.station},
          {"sscc", j.sscc},          {"tracking", j.tracking},  {"verified", j.verified},
          {"state", std::string(printers::toString(j.state))},   {"detail", j.detail},
          {"attempts", j.attempts},  {"created_ms", j.createdMs}, {"updated_ms", j.updatedMs}};
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

void registerPrintVerbs(ControlServer& control, PrintVerbDeps deps) {
  control.handle("print.jobs", H([deps](const json& args) -> Result<json> {
    if (auto s = needPrinter(deps); !s) return std::unexpected(s.error());
    return jobs(deps, args);
  }));
  control.handle("print.reprint", [deps](const json& args, std::shared_ptr<ControlReply> reply) {
    if (auto s = needPrinter(deps); !s) return reply->finish(std::unexpected(s.error()));
    reply->progress({{"message", "printing job " + args.value("job", "") + " again…"}});
    deps.printService->reprint(args.value("job", ""), jobReply(reply));
  });
  control.handle("print.confirm", H([deps](const json& args) -> Result<json> {
    if (auto s = needPrinter(deps); !s) return std::unexpected(s.error());
    auto j = deps.printService->confirm(args.value("job", ""));
    if (!j) return std::unexpected(j.error());
    return jobJson(*j);
  }));
  control.handle("print.cancel", H([deps](const json& args) -> Result<json> {
    if (auto s = needPrinter(deps); !s) return std::unexpected(s.error());
    auto j = deps.printService->cancel(args.value("job", ""));
    if (!j) return std::unexpected(j.error());
    return jobJson(*j);
  }));
  control.handle("print.test", [deps](const json& args, std::shared_ptr<ControlReply> reply) {
    if (auto s = needPrinter(deps); !s) return reply->finish(std::unexpected(s.error()));
    deps.printService->testPrint(args.value("printer", ""), testLabelFacts(), jobReply(reply));
  });
  control.handle("label.preview", H([deps](const json& args) -> Result<json> { return preview(deps, args); }));
}

}  // namespace floorlink::agent
