#include "sync/event_codec.h"

#include <nlohmann/json.hpp>

namespace floorlink::sync {

std::string encodeEvent(std::string_view site, std::string_view agent, int64_t seq,
                        const EventDraft& draft) {
  // Built by hand in a fixed field order so the bytes are stable and "data"
  // is embedded as already-validated JSON.
  auto str = [](std::string_view s) { return nlohmann::json(std::string(s)).dump(); };
  std::string out;
  out.reserve(160 + draft.dataJson.size());
  out += "{\"v\":1,\"seq\":";
  out += std::to_string(seq);
  out += ",\"event_id\":";
  out += str(std::string(site) + "/" + std::string(agent) + "/" + std::to_string(seq));
  out += ",\"type\":";
  out += str(draft.type);
  out += ",\"occurred_at\":";
  out += std::to_string(draft.occurredAt);
  if (!draft.station.empty()) out += ",\"station\":" + str(draft.station);
  if (!draft.taskId.empty()) out += ",\"task_id\":" + str(draft.taskId);
  if (!draft.waveId.empty()) out += ",\"wave_id\":" + str(draft.waveId);
  out += ",\"data\":";
  out += draft.dataJson.empty() ? "{}" : draft.dataJson;
  out += '}';
  return out;
}


}  // namespace floorlink::sync
