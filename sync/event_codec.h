#pragma once
// Event envelope of contract §5. The agent stores the encoded bytes once, so
// a resend is byte-identical (C-E3).
#include <cstdint>
#include <string>
#include <string_view>

namespace floorlink::sync {

struct EventDraft {
  std::string type;       // "pick.confirmed", ...
  int64_t occurredAt = 0; // Unix ms
  std::string station;    // omitted when empty
  std::string taskId;     // omitted when empty
  std::string waveId;     // omitted when empty
  std::string dataJson = "{}";  // the "data" object, already serialised
};

// {"v":1,"seq":N,"event_id":"{site}/{agent}/{N}","type":...,"occurred_at":...,
//  "station":...,"task_id":...,"wave_id":...,"data":{...}}
std::string encodeEvent(std::string_view site, std::string_view agent, int64_t seq,
                        const EventDraft& draft);

}  // namespace floorlink::sync
