#include "sync/command_parser.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <set>

namespace floorlink::sync {
namespace {

using Json = nlohmann::json;

// Limits on free-text fields the contract leaves open (docs/protocol.md).
constexpr size_t kMaxCmdId = 128;
constexpr size_t kMaxCode = 128;     // bin, sku, tote, uom, carrier, tracking, door
constexpr size_t kMaxText = 1024;    // description, reason, label field values
constexpr size_t kMaxLines = 1000;   // pack lines per task
constexpr size_t kMaxLabelFields = 200;

// Nesting depth of the JSON text, counted without parsing (strings skipped),
// so a hostile payload cannot drive a recursive dump() into the stack guard.
int nestingDepth(std::string_view s, int limit) {
  int depth = 0;
  int maxDepth = 0;
  bool inString = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      if (++depth > maxDepth) maxDepth = depth;
      if (maxDepth > limit) return maxDepth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return maxDepth;
}

bool allDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view typeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number with a fraction";
    case Json::value_t::binary: return "binary";
    case Json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

// Collects field errors with their paths; every getter returns a default on
// error so validation continues and reports every problem at once.
class Validator {
 public:
  explicit Validator(size_t maxErrors) : maxErrors_(maxErrors) {}

  void add(std::string path, std::string code, std::string message) {
    ++total_;
    if (errors_.size() < maxErrors_) {
      errors_.push_back(FieldError{std::move(path), std::move(code), std::move(message)});
    }
  }

  std::vector<FieldError> take() {
    if (total_ > errors_.size()) {
      errors_.push_back(FieldError{"", "too_many_errors",
                                   std::to_string(total_ - maxErrors_) + " more errors not listed"});
    }
    return std::move(errors_);
  }
  bool ok() const { return total_ == 0; }
  size_t total() const { return total_; }

  static std::string join(std::string_view base, std::string_view key) {
    if (base.empty()) return std::string(key);
    std::string out(base);
    out += '.';
    out += key;
    return out;
  }

  const Json* field(const Json& obj, std::string_view base, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) add(join(base, key), "missing", std::string(key) + " is required");
      return nullptr;
    }
    return &*it;
  }

  std::optional<int64_t> integer(const Json& obj, std::string_view base, const char* key,
                                 bool required, int64_t min,
                                 int64_t max = std::numeric_limits<int64_t>::max()) {
    const Json* j = field(obj, base, key, required);
    if (!j) return std::nullopt;
    auto path = join(base, key);
    if (!j->is_number_integer()) {
      add(path, "wrong_type", std::string(key) + " must be an integer, got " + std::string(typeName(*j)));
      return std::nullopt;
    }
    if (j->is_number_unsigned() && j->get<uint64_t>() > static_cast<uint64_t>(max)) {
      add(path, "out_of_range", std::string(key) + " must be at most " + std::to_string(max));
      return std::nullopt;
    }
    int64_t v = j->get<int64_t>();
    if (v < min || v > max) {
      std::string range = max == std::numeric_limits<int64_t>::max()
                              ? "at least " + std::to_string(min)
                              : "between " + std::to_string(min) + " and " + std::to_string(max);
      add(path, "out_of_range", std::string(key) + " must be " + range + ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  // A string; empty strings count as missing when required.
  // The field if present and a string (else the error is recorded).
  const Json* stringField(const Json& obj, std::string_view base, const char* key, bool required) {
    const Json* j = field(obj, base, key, required);
    if (!j) return nullptr;
    if (!j->is_string()) {
      add(join(base, key), "wrong_type", std::string(key) + " must be a string, got " + std::string(typeName(*j)));
      return nullptr;
    }
    return j;
  }

  std::string string(const Json& obj, std::string_view base, const char* key, bool required,
                     size_t maxLen) {
    const Json* j = stringField(obj, base, key, required);
    if (!j) return {};
    auto path = join(base, key);
    const auto& s = j->get_ref<const std::string&>();
    if (s.empty() && required) {
      add(path, "missing", std::string(key) + " must not be empty");
      return {};
    }
    if (s.size() > maxLen) {
      add(path, "too_long", std::string(key) + " is longer than " + std::to_string(maxLen) + " bytes");
      return {};
    }
    return s;
  }

  std::string id(const Json& obj, std::string_view base, const char* key, bool required) {
    const Json* j = stringField(obj, base, key, required);
    if (!j) return {};
    auto path = join(base, key);
    const auto& s = j->get_ref<const std::string&>();
    if (!isValidId(s)) {
      add(path, "bad_format", std::string(key) + " must match [A-Za-z0-9_-]{1,64}");
      return {};
    }
    return s;
  }

  std::string digits(const Json& obj, std::string_view base, const char* key,
                     std::initializer_list<size_t> lengths, std::string_view what) {
    const Json* j = field(obj, base, key, false);
    if (!j) return {};
    auto path = join(base, key);
    if (!j->is_string()) {
      add(path, "wrong_type", std::string(key) + " must be a string of digits, got " +
                                  std::string(typeName(*j)));
      return {};
    }
    const auto& s = j->get_ref<const std::string&>();
    bool lengthOk = false;
    for (size_t n : lengths) lengthOk = lengthOk || s.size() == n;
    if (!lengthOk || !allDigits(s)) {
      add(path, "bad_format", std::string(key) + " must be " + std::string(what));
      return {};
    }
    return s;
  }

 private:
  size_t maxErrors_;
  size_t total_ = 0;
  std::vector<FieldError> errors_;
};

void parsePick(Validator& v, const Json& t, const std::string& p, PickSpec& out) {
  out.bin = v.string(t, p, "bin", true, kMaxCode);
  out.sku = v.string(t, p, "sku", true, kMaxCode);
  out.gtin = v.digits(t, p, "gtin", {8, 12, 13, 14}, "8, 12, 13 or 14 digits");
  // Required by the contract; may be empty text.
  if (const Json* d = v.field(t, p, "description", true)) {
    if (!d->is_string()) {
      v.add(Validator::join(p, "description"), "wrong_type",
            "description must be a string, got " + std::string(typeName(*d)));
    } else if (d->get_ref<const std::string&>().size() > kMaxText) {
      v.add(Validator::join(p, "description"), "too_long",
            "description is longer than " + std::to_string(kMaxText) + " bytes");
    } else {
      out.description = d->get<std::string>();
    }
  }
  out.qty = v.integer(t, p, "qty", true, 1, 1'000'000'000).value_or(0);
  out.uom = v.string(t, p, "uom", false, kMaxCode);
  out.tote = v.string(t, p, "tote", false, kMaxCode);
  out.sequence = v.integer(t, p, "sequence", false, std::numeric_limits<int64_t>::min());
}

void parsePack(Validator& v, const Json& t, const std::string& p, PackSpec& out) {
  if (const Json* lines = v.field(t, p, "lines", true)) {
    auto path = Validator::join(p, "lines");
    if (!lines->is_array()) {
      v.add(path, "wrong_type", "lines must be an array, got " + std::string(typeName(*lines)));
    } else if (lines->empty() || lines->size() > kMaxLines) {
      v.add(path, "out_of_range", "lines must hold 1 to " + std::to_string(kMaxLines) + " entries");
    } else {
      for (size_t i = 0; i < lines->size(); ++i) {
        const Json& line = (*lines)[i];
        auto lp = path + "[" + std::to_string(i) + "]";
        if (!line.is_object()) {
          v.add(lp, "wrong_type", "a pack line must be an object");
          continue;
        }
        PackLine pl;
        pl.sku = v.string(line, lp, "sku", true, kMaxCode);
        pl.gtin = v.digits(line, lp, "gtin", {8, 12, 13, 14}, "8, 12, 13 or 14 digits");
        pl.qty = v.integer(line, lp, "qty", true, 1, 1'000'000'000).value_or(0);
        out.lines.push_back(std::move(pl));
      }
    }
  }
  out.expectedWeightG = v.integer(t, p, "expected_weight_g", true, 0, 10'000'000'000).value_or(0);
  out.toleranceG = v.integer(t, p, "tolerance_g", true, 0, 10'000'000'000).value_or(0);
  if (const Json* label = v.field(t, p, "label", true)) {
    auto lp = Validator::join(p, "label");
    if (!label->is_object()) {
      v.add(lp, "wrong_type", "label must be an object, got " + std::string(typeName(*label)));
    } else {
      out.label.templateName = v.string(*label, lp, "template", true, kMaxCode);
      if (const Json* fields = v.field(*label, lp, "fields", false)) {
        auto fp = Validator::join(lp, "fields");
        if (!fields->is_object()) {
          v.add(fp, "wrong_type", "label.fields must be an object of strings");
        } else if (fields->size() > kMaxLabelFields) {
          v.add(fp, "out_of_range", "label.fields holds more than " + std::to_string(kMaxLabelFields) + " keys");
        } else {
          for (auto it = fields->begin(); it != fields->end(); ++it) {
            auto kp = fp + "." + it.key();
            if (!it->is_string()) {
              v.add(kp, "wrong_type", "label field values must be strings, got " + std::string(typeName(*it)));
            } else if (it->get_ref<const std::string&>().size() > kMaxText) {
              v.add(kp, "too_long", "label field value is longer than " + std::to_string(kMaxText) + " bytes");
            } else {
              out.label.fields.emplace(it.key(), it->get<std::string>());
            }
          }
        }
      }
    }
  }
  out.sscc = v.digits(t, p, "sscc", {18}, "18 digits");
  out.carrier = v.string(t, p, "carrier", false, kMaxCode);
  out.tracking = v.string(t, p, "tracking", false, kMaxCode);
}

void parseShip(Validator& v, const Json& t, const std::string& p, ShipSpec& out) {
  size_t before = v.total();
  out.sscc = v.digits(t, p, "sscc", {18}, "18 digits");
  out.tracking = v.string(t, p, "tracking", false, kMaxCode);
  bool hasSscc = t.contains("sscc") && !t["sscc"].is_null();
  bool hasTracking = t.contains("tracking") && !t["tracking"].is_null();
  if (!hasSscc && !hasTracking && v.total() == before) {
    v.add(Validator::join(p, "sscc"), "missing", "a ship task needs sscc or tracking (at least one)");
  }
  out.door = v.string(t, p, "door", false, kMaxCode);
}

void parseTask(Validator& v, const Json& t, const std::string& p, TaskSpec& out) {
  out.taskId = v.id(t, p, "task_id", true);
  out.orderId = v.id(t, p, "order_id", true);
  out.station = v.id(t, p, "station", false);
  const Json* kind = v.field(t, p, "kind", true);
  if (!kind) return;
  auto kp = Validator::join(p, "kind");
  if (!kind->is_string()) {
    v.add(kp, "wrong_type", "kind must be a string, got " + std::string(typeName(*kind)));
    return;
  }
  const auto& k = kind->get_ref<const std::string&>();
  if (k == "pick") {
    out.kind = TaskKind::kPick;
    parsePick(v, t, p, out.pick);
  } else if (k == "pack") {
    out.kind = TaskKind::kPack;
    parsePack(v, t, p, out.pack);
  } else if (k == "ship") {
    out.kind = TaskKind::kShip;
    parseShip(v, t, p, out.ship);
  } else {
    v.add(kp, "bad_value", "kind must be pick, pack or ship");
  }
}

WaveAssign parseWaveAssign(Validator& v, const Json& j, const ParserLimits& limits) {
  WaveAssign w;
  w.waveId = v.id(j, "", "wave_id", true);
  w.revision = v.integer(j, "", "revision", true, 1).value_or(1);
  w.priority = v.integer(j, "", "priority", false, std::numeric_limits<int64_t>::min());
  const Json* tasks = v.field(j, "", "tasks", true);
  if (!tasks) return w;
  if (!tasks->is_array()) {
    v.add("tasks", "wrong_type", "tasks must be an array, got " + std::string(typeName(*tasks)));
    return w;
  }
  if (tasks->empty() || tasks->size() > limits.maxTasks) {
    v.add("tasks", "out_of_range",
          "tasks must hold 1 to " + std::to_string(limits.maxTasks) + " tasks, got " +
              std::to_string(tasks->size()));
    return w;
  }
  w.tasks.reserve(tasks->size());
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < tasks->size(); ++i) {
    const Json& t = (*tasks)[i];
    std::string p = "tasks[" + std::to_string(i) + "]";
    if (!t.is_object()) {
      v.add(p, "wrong_type", "a task must be an object, got " + std::string(typeName(t)));
      continue;
    }
    TaskSpec spec;
    parseTask(v, t, p, spec);
    if (!spec.taskId.empty() && !seen.insert(spec.taskId).second) {
      v.add(p + ".task_id", "duplicate", "task_id " + spec.taskId + " appears more than once in the wave");
    }
    if (v.ok()) spec.json = t.dump();  // only kept when the whole wave is valid
    w.tasks.push_back(std::move(spec));
  }
  return w;
}

}  // namespace

bool isValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool okChar = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
    if (!okChar) return false;
  }
  return true;
}

std::string escapeHead(std::string_view bytes, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  auto head = bytes.substr(0, max);
  out.reserve(head.size() + 16);
  for (unsigned char c : head) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

ParsedMessage parseCommand(std::string_view payload, const ParserLimits& limits) {
  auto invalid = [&](std::string reason) {
    return ParsedMessage{InvalidMessage{std::move(reason), escapeHead(payload)}};
  };
  if (payload.size() > limits.maxPayload) return invalid("too_large");
  if (nestingDepth(payload, limits.maxDepth) > limits.maxDepth) return invalid("too_deep");
  Json j = Json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("not_json");
  if (!j.is_object()) return invalid("not_object");
  auto idIt = j.find("cmd_id");
  if (idIt == j.end()) return invalid("no_cmd_id");
  if (!idIt->is_string() || idIt->get_ref<const std::string&>().empty() ||
      idIt->get_ref<const std::string&>().size() > kMaxCmdId) {
    return invalid("bad_cmd_id");
  }

  try {
    Validator v(limits.maxErrors);
    Command cmd;
    cmd.cmdId = idIt->get<std::string>();
    if (auto ver = j.find("v"); ver == j.end()) {
      v.add("v", "missing", "v is required");
    } else if (!ver->is_number_integer()) {
      v.add("v", "wrong_type", "v must be the integer 1");
    } else if (*ver != 1) {
      v.add("v", "unsupported_version", "this agent speaks contract version 1");
    }
    cmd.sentAt = v.integer(j, "", "sent_at", true, 0).value_or(0);
    const Json* type = v.field(j, "", "type", true);
    if (type && !type->is_string()) {
      v.add("type", "wrong_type", "type must be a string, got " + std::string(typeName(*type)));
      type = nullptr;
    }
    if (type) cmd.type = type->get<std::string>();
    if (cmd.type.size() > kMaxCode) cmd.type.resize(kMaxCode);

    if (cmd.type == "wave.assign") {
      cmd.body = parseWaveAssign(v, j, limits);
    } else if (cmd.type == "wave.cancel") {
      WaveCancel c;
      c.waveId = v.id(j, "", "wave_id", true);
      c.reason = v.string(j, "", "reason", false, kMaxText);
      cmd.body = std::move(c);
    } else if (cmd.type == "task.cancel") {
      TaskCancel c;
      c.taskId = v.id(j, "", "task_id", true);
      c.reason = v.string(j, "", "reason", false, kMaxText);
      cmd.body = std::move(c);
    } else if (cmd.type == "resync") {
      cmd.body = Resync{};
    } else if (type) {
      v.add("type", "unknown_type", "type must be wave.assign, wave.cancel, task.cancel or resync");
    }

    if (!v.ok()) {
      return ParsedMessage{RejectedCommand{std::move(cmd.cmdId), std::move(cmd.type), v.take()}};
    }
    return ParsedMessage{std::move(cmd)};
  } catch (const std::exception& e) {
    // nlohmann throws only on misuse; keep the promise "never throws".
    return ParsedMessage{RejectedCommand{idIt->get<std::string>(), "",
                                         {FieldError{"", "internal", e.what()}}}};
  }
}

Result<TaskSpec> parseTaskSpec(std::string_view taskJson) {
  Json t = Json::parse(taskJson, nullptr, false);
  if (t.is_discarded() || !t.is_object()) {
    return fail(ErrorCode::kParse, "a stored task is not a JSON object");
  }
  Validator v(10);
  TaskSpec spec;
  parseTask(v, t, "", spec);
  if (!v.ok()) {
    auto errors = v.take();
    return fail(ErrorCode::kParse, "stored task " + spec.taskId + " is invalid: " + errors.front().path + ": " +
                                       errors.front().message);
  }
  spec.json = std::string(taskJson);
  return spec;
}

Result<int64_t> parseAck(std::string_view payload, size_t maxPayload) {
  if (payload.size() > maxPayload) return fail(ErrorCode::kProtocol, "ack larger than the payload limit");
  if (nestingDepth(payload, 8) > 8) return fail(ErrorCode::kProtocol, "ack nested too deeply");
  Json j = Json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded()) return fail(ErrorCode::kParse, "ack is not JSON");
  if (!j.is_object()) return fail(ErrorCode::kProtocol, "ack is not a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || *v != 1) {
    return fail(ErrorCode::kProtocol, "ack needs \"v\":1");
  }
  auto n = j.find("acked_through");
  if (n == j.end()) return fail(ErrorCode::kProtocol, "ack has no acked_through");
  if (!n->is_number_integer()) return fail(ErrorCode::kProtocol, "acked_through must be an integer");
  if (n->is_number_unsigned() && n->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return fail(ErrorCode::kProtocol, "acked_through out of range");
  }
  int64_t value = n->get<int64_t>();
  if (value < 0) return fail(ErrorCode::kProtocol, "acked_through must not be negative");
  return value;
}

}  // namespace floorlink::sync
