#include <fmt/format.h>

#include <charconv>
#include <set>

#include "drivers/scale/protocol_scales.h"

namespace floorlink::drivers {
namespace {

using config::DeviceConfig;
using config::OptionValue;

Error optionError(const OptionValue& v, const std::string& message) {
  return Error{ErrorCode::kInvalidArgument, v.origin.describe() + ": " + message};
}

Result<int64_t> intOption(const OptionValue& v, int64_t min, int64_t max) {
  int64_t value = 0;
  const char* b = v.text.data();
  const char* e = b + v.text.size();
  auto [end, ec] = std::from_chars(b, e, value);
  if (v.text.empty() || ec != std::errc() || end != e || value < min || value > max) {
    return std::unexpected(
        optionError(v, fmt::format("must be a whole number from {} to {}, got \"{}\"", min, max, v.text)));
  }
  return value;
}

std::vector<std::string> listOption(const OptionValue& v) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= v.text.size()) {
    size_t comma = v.text.find(',', pos);
    if (comma == std::string::npos) comma = v.text.size();
    std::string item = v.text.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

// "\r\n", "\x02", "\\" escapes in command and terminator options.
Result<std::string> bytesOption(const OptionValue& v) {
  std::string out;
  const std::string& t = v.text;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '\\') {
      out += t[i];
      continue;
    }
    if (++i >= t.size()) return std::unexpected(optionError(v, "ends with a lone backslash"));
    switch (t[i]) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        unsigned value = 0;
        if (i + 2 >= t.size()) return std::unexpected(optionError(v, "\\x needs two hex digits"));
        auto [end, ec] = std::from_chars(t.data() + i + 1, t.data() + std::min(t.size(), i + 3), value, 16);
        if (ec != std::errc() || end != t.data() + i + 3) {
          return std::unexpected(optionError(v, "\\x needs two hex digits"));
        }
        out += static_cast<char>(value);
        i += 2;
        break;
      }
      default:
        return std::unexpected(optionError(v, fmt::format("unknown escape \\{}: use \\r \\n \\t \\\\ or \\xNN", t[i])));
    }
  }
  return out;
}

const std::set<std::string, std::less<>> kCommonOptions = {
    "stable_readings", "stable_window_ms", "min_weight_g",  "timeout_ms",   "answer_timeout_ms",
    "poll_interval_ms", "silence_ms",      "garbage_limit", "missed_answers"};

std::string_view kDefaultContinuousPattern =
    R"(^\s*(?<status>ST|US|OL),(?:GS|NT|TR),(?<sign>[+-]?)\s*(?<weight>[0-9.]+)\s*(?<unit>kg|g|lb|oz)\s*$)";

Result<std::unique_ptr<Scale>> createScaleOver(EventLoop& loop, const DeviceConfig& device,
                                               std::unique_ptr<Transport> transport, Logger logger);

}  // namespace

Result<std::unique_ptr<Scale>> createScale(EventLoop& loop, const DeviceConfig& device,
                                           std::unique_ptr<Transport> transport, Logger logger) {
  if (!transport) return fail(ErrorCode::kInvalidArgument, "scale " + device.id + ": no transport");
  return createScaleOver(loop, device, std::move(transport), std::move(logger));
}

std::string formatLiveReading(const Reading* reading, const DeviceStatus& status) {
  std::string out = reading ? reading->describe() : std::string("no reading");
  out += " [";
  out += toString(status.state);
  if (status.state != DeviceState::kOk && !status.detail.empty()) out += ": " + status.detail;
  out += "]";
  return out;
}

Result<std::unique_ptr<Scale>> createScale(EventLoop& loop, const DeviceConfig& device, Logger logger) {
  return createScaleOver(loop, device, nullptr, std::move(logger));
}

namespace {

Result<std::unique_ptr<Scale>> createScaleOver(EventLoop& loop, const DeviceConfig& device,
                                               std::unique_ptr<Transport> transport, Logger logger) {
  if (device.kind != config::DeviceKind::kScale) {
    return fail(ErrorCode::kInvalidArgument,
                device.origin.describe() + ": device " + device.id + " is a " +
                    std::string(config::toString(device.kind)) + ", not a scale");
  }
  const std::string& protocol = device.protocol;
  std::set<std::string, std::less<>> known = kCommonOptions;
  if (protocol == "toledo-8217") known.insert("unit");
  if (protocol == "hid-pos") known.insert({"quirk", "report_id"});
  if (protocol == "continuous") {
    known.insert({"frame_pattern", "unit", "frame_end", "stable_status", "motion_status", "overload_status",
                  "underload_status", "zero_command", "tare_command"});
  }
  if (protocol != "mt-sics" && protocol != "toledo-8217" && protocol != "nci" && protocol != "hid-pos" &&
      protocol != "continuous") {
    return fail(ErrorCode::kInvalidArgument,
                device.origin.describe() + ".protocol: scale protocol \"" + protocol +
                    "\" is unknown: use mt-sics, toledo-8217, nci, hid-pos or continuous");
  }
  for (const auto& [key, value] : device.options) {
    if (!known.contains(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return std::unexpected(optionError(value, "unknown option for a " + protocol + " scale; known: " + list));
    }
  }
  auto opt = [&](std::string_view key) -> const OptionValue* {
    auto it = device.options.find(std::string(key));
    return it == device.options.end() ? nullptr : &it->second;
  };

  ScaleOptions o;
  bool streaming = protocol == "hid-pos" || protocol == "continuous";
  // USB unplug is seen by the transport; HID scales may report only on change.
  if (protocol == "hid-pos") o.silence = std::chrono::milliseconds{0};
  if (auto* v = opt("stable_readings")) {
    auto n = intOption(*v, 1, 100);
    if (!n) return std::unexpected(n.error());
    o.stability.readings = static_cast<int>(*n);
  }
  if (auto* v = opt("stable_window_ms")) {
    if (opt("stable_readings")) {
      return std::unexpected(optionError(*v, "set either stable_readings or stable_window_ms, not both"));
    }
    auto n = intOption(*v, 1, 60'000);
    if (!n) return std::unexpected(n.error());
    o.stability.window = std::chrono::milliseconds{*n};
  }
  if (auto* v = opt("min_weight_g")) {
    auto n = intOption(*v, 0, 1'000'000);
    if (!n) return std::unexpected(n.error());
    o.stability.minGrams = *n;
  }
  struct Ms {
    const char* key;
    std::chrono::milliseconds* target;
    int64_t min, max;
  };
  for (const Ms& m : {Ms{"timeout_ms", &o.timeout, 100, 600'000}, Ms{"answer_timeout_ms", &o.answerTimeout, 10, 60'000},
                      Ms{"poll_interval_ms", &o.pollInterval, 10, 60'000}, Ms{"silence_ms", &o.silence, 0, 600'000}}) {
    if (auto* v = opt(m.key)) {
      auto n = intOption(*v, m.min, m.max);
      if (!n) return std::unexpected(n.error());
      *m.target = std::chrono::milliseconds{*n};
    }
  }
  if (auto* v = opt("garbage_limit")) {
    auto n = intOption(*v, 1, 1000);
    if (!n) return std::unexpected(n.error());
    o.garbageLimit = static_cast<int>(*n);
  }
  if (auto* v = opt("missed_answers")) {
    auto n = intOption(*v, 1, 1000);
    if (!n) return std::unexpected(n.error());
    o.missedAnswers = static_cast<int>(*n);
  }
  if (!streaming && o.answerTimeout > o.timeout) {
    return fail(ErrorCode::kInvalidArgument,
                device.origin.describe() + ": answer_timeout_ms must not exceed timeout_ms for scale " + device.id);
  }

  std::optional<WeightUnit> unit;
  if (auto* v = opt("unit")) {
    auto u = parseWeightUnit(v->text);
    if (!u) return std::unexpected(optionError(*v, u.error().message));
    unit = *u;
  }

  ScaleSetup setup{&loop, device.id, std::move(transport), device.address.text, o, std::move(logger)};
  if (protocol == "mt-sics") return makeMtSicsScale(std::move(setup));
  if (protocol == "toledo-8217") {
    if (device.address.scheme == config::AddressScheme::kSerial) {
      auto f = device.address.params.find("format");
      if (f != device.address.params.end() && f->second != "7E1") {
        setup.logger.warn(scaleLogFields(device.id),
                          "scale {}: 8217 scales talk 7E1 but the address says format={}", device.id, f->second);
      }
    }
    return makeToledo8217Scale(std::move(setup), unit);
  }
  if (protocol == "nci") return makeNciScale(std::move(setup));
  if (protocol == "hid-pos") {
    HidScaleQuirk quirk = *findHidScaleQuirk("standard");
    if (auto* v = opt("quirk")) {
      const HidScaleQuirk* q = findHidScaleQuirk(v->text);
      if (q == nullptr) {
        std::string names;
        for (const auto& k : hidScaleQuirks()) names += (names.empty() ? "" : ", ") + std::string(k.name);
        return std::unexpected(optionError(*v, "unknown HID scale quirk \"" + v->text + "\"; known: " + names));
      }
      quirk = *q;
    } else if (const HidScaleQuirk* q = findHidScaleQuirk(device.address.vendorId, device.address.productId)) {
      quirk = *q;
    }
    if (auto* v = opt("report_id")) {
      auto n = intOption(*v, 1, 255);
      if (!n) return std::unexpected(n.error());
      quirk.hasReportId = true;
      quirk.reportId = static_cast<uint8_t>(*n);
      quirk.reportSize = 6;
    }
    return makeHidPosScale(std::move(setup), quirk);
  }
  // continuous
  ContinuousFormat format;
  const OptionValue* patternOption = opt("frame_pattern");
  format.pattern = patternOption ? patternOption->text : std::string(kDefaultContinuousPattern);
  format.unit = unit;
  struct ListOpt {
    const char* key;
    std::vector<std::string>* target;
  };
  for (const ListOpt& l : {ListOpt{"stable_status", &format.stable}, ListOpt{"motion_status", &format.motion},
                           ListOpt{"overload_status", &format.overload}, ListOpt{"underload_status", &format.underload}}) {
    if (auto* v = opt(l.key)) {
      *l.target = listOption(*v);
      if (l.target->empty()) return std::unexpected(optionError(*v, "needs at least one status text"));
    }
  }
  auto parser = ContinuousParser::create(format);
  if (!parser) {
    if (patternOption) return std::unexpected(optionError(*patternOption, parser.error().message));
    return fail(ErrorCode::kInvalidArgument, device.origin.describe() + ": " + parser.error().message);
  }
  ContinuousSetup c{std::move(*parser), "\r\n", std::nullopt, std::nullopt};
  if (auto* v = opt("frame_end")) {
    auto b = bytesOption(*v);
    if (!b) return std::unexpected(b.error());
    if (b->empty()) return std::unexpected(optionError(*v, "needs at least one byte, e.g. \"\\r\\n\""));
    c.frameEnd = *b;
  }
  if (auto* v = opt("zero_command")) {
    auto b = bytesOption(*v);
    if (!b) return std::unexpected(b.error());
    c.zeroCommand = *b;
  }
  if (auto* v = opt("tare_command")) {
    auto b = bytesOption(*v);
    if (!b) return std::unexpected(b.error());
    c.tareCommand = *b;
  }
  return makeContinuousScale(std::move(setup), std::move(c));
}

}  // namespace
}  // namespace floorlink::drivers
