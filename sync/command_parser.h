#pragma once
// Strict parsing of the OMS downlink (contract §4 and §6). Pure functions of
// the payload bytes: no I/O, no state, safe to fuzz.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "sync/command.h"

namespace floorlink::sync {

struct ParserLimits {
  size_t maxPayload = 16 << 20;  // bytes; larger is "too_large" (§1, default 16 MiB)
  size_t maxTasks = 50'000;     // tasks per wave.assign (§4)
  size_t maxErrors = 100;       // errors listed in one cmd.result; the rest are summarised
  int maxDepth = 32;            // JSON nesting; deeper is "too_deep"
};

// Turns one payload from …/cmd into a Command (valid), a RejectedCommand
// (cmd_id readable, validation failed: every problem with its field path) or
// an InvalidMessage (no readable cmd_id, C-C4). Never throws.
ParsedMessage parseCommand(std::string_view payload, const ParserLimits& limits = {});

// One task object as stored from an accepted wave.assign (the same rules as
// inside the wave), so workflows decode a task's fields once, typed.
Result<TaskSpec> parseTaskSpec(std::string_view taskJson);

// {"v":1,"acked_through":N} from …/ack (C-A1). Anything else is an error.
Result<int64_t> parseAck(std::string_view payload, size_t maxPayload = 1 << 20);

// The first `max` bytes of `bytes`, as printable ASCII: printable characters
// stay, a backslash doubles, everything else becomes \xHH (C-C4 "head").
std::string escapeHead(std::string_view bytes, size_t max = 256);

// [A-Za-z0-9_-]{1,64} (§1).
bool isValidId(std::string_view id);

}  // namespace floorlink::sync
