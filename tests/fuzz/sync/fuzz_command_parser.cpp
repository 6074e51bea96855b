// libFuzzer target: the downlink parsers (…/cmd and …/ack payloads) must never
// crash, and what they produce must hold the contract's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "sync/command_parser.h"

using namespace floorlink::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  ParserLimits limits;
  limits.maxPayload = 64 * 1024;
  limits.maxTasks = 200;
  ParsedMessage parsed = parseCommand(payload, limits);
  if (auto* inv = std::get_if<InvalidMessage>(&parsed)) {
    // C-C4: a reason, and a head that is printable ASCII of at most 256 bytes escaped.
    if (inv->reason.empty() || inv->head.size() > 256 * 4) std::abort();
    for (unsigned char c : inv->head) {
      if (c < 0x20 || c >= 0x7f) std::abort();
    }
  } else if (auto* rej = std::get_if<RejectedCommand>(&parsed)) {
    if (rej->cmdId.empty() || rej->cmdId.size() > 128 || rej->errors.empty()) std::abort();
    if (rej->errors.size() > limits.maxErrors + 1) std::abort();
  } else {
    const auto& cmd = std::get<Command>(parsed);
    if (cmd.cmdId.empty() || cmd.cmdId.size() > 128) std::abort();
    if (auto* w = std::get_if<WaveAssign>(&cmd.body)) {
      if (w->tasks.empty() || w->tasks.size() > limits.maxTasks || w->revision < 1) std::abort();
      for (const auto& t : w->tasks) {
        if (!isValidId(t.taskId) || t.json.empty()) std::abort();
        if (t.kind == TaskKind::kPick && t.pick.qty < 1) std::abort();
        if (t.kind == TaskKind::kShip && t.ship.sscc.empty() && t.ship.tracking.empty()) std::abort();
      }
    }
  }
  auto ack = parseAck(payload);
  if (ack && *ack < 0) std::abort();
  return 0;
}
