#pragma once
// Commands from the OMS (contract §4) as typed values. Parsing and validation
// live in sync/command_parser.h; applying them is the agent's job.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace floorlink::sync {

// One validation problem, reported in cmd.result "errors" (C-C4).
struct FieldError {
  std::string path;     // "tasks[3].qty"
  std::string code;     // "missing", "wrong_type", "out_of_range", "bad_format", ...
  std::string message;  // human words
};

enum class TaskKind { kPick, kPack, kShip };
std::string_view toString(TaskKind kind);

struct PickSpec {
  std::string bin, sku, gtin, description, uom, tote;
  int64_t qty = 0;
  std::optional<int64_t> sequence;
};
struct PackLine {
  std::string sku, gtin;
  int64_t qty = 0;
};
struct LabelSpec {
  std::string templateName;
  std::map<std::string, std::string> fields;
};
struct PackSpec {
  std::vector<PackLine> lines;
  int64_t expectedWeightG = 0, toleranceG = 0;
  LabelSpec label;
  std::string sscc, carrier, tracking;
};
struct ShipSpec {
  std::string sscc, tracking, door;
};

struct TaskSpec {
  std::string taskId;
  TaskKind kind = TaskKind::kPick;
  std::string orderId;
  std::string station;  // empty: any station of the task's kind
  PickSpec pick;        // kind == kPick
  PackSpec pack;        // kind == kPack
  ShipSpec ship;        // kind == kShip
  std::string json;     // the task object as received (compact), for storage
};

struct WaveAssign {
  std::string waveId;
  int64_t revision = 1;
  std::optional<int64_t> priority;
  std::vector<TaskSpec> tasks;
};
struct WaveCancel {
  std::string waveId, reason;
};
struct TaskCancel {
  std::string taskId, reason;
};
struct Resync {};

struct Command {
  std::string cmdId;
  std::string type;  // "wave.assign", ...
  int64_t sentAt = 0;
  std::variant<WaveAssign, WaveCancel, TaskCancel, Resync> body;
};

// A command whose cmd_id was readable but which failed validation: it is
// answered with cmd.result status "rejected" (C-C4).
struct RejectedCommand {
  std::string cmdId;
  std::string type;  // as sent, may be empty or unknown
  std::vector<FieldError> errors;
};

// A message without a readable cmd_id: answered with cmd.invalid (C-C4).
struct InvalidMessage {
  std::string reason;  // "not_json", "too_large", "no_cmd_id", "not_object", ...
  std::string head;    // first 256 bytes, escaped
};

using ParsedMessage = std::variant<Command, RejectedCommand, InvalidMessage>;

}  // namespace floorlink::sync
