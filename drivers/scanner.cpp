#include "drivers/scanner.h"

#include <charconv>

#include "core/loop_bound.h"
#include "drivers/transport.h"

namespace floorlink::drivers {
namespace {

Result<long> optionInt(const config::OptionValue& v, long min, long max) {
  long n = 0;
  auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
  if (v.text.empty() || ec != std::errc() || end != v.text.data() + v.text.size() || n < min || n > max) {
    return fail(ErrorCode::kInvalidArgument, v.origin.describe() + ": \"" + v.text + "\" is not a whole number from " +
                                                 std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

struct ScannerSettings {
  FramingOptions framing;
  ClassifierOptions classifier;
  std::string goodRead, badRead;
  uint8_t hidReportId = 0x02;
};

Result<ScannerSettings> parseOptions(const config::DeviceConfig& d) {
  ScannerSettings s;
  if (!d.protocol.empty() && d.protocol != "generic") {
    return fail(ErrorCode::kInvalidArgument, d.origin.describe() + ": scanner \"" + d.id + "\": protocol \"" +
                                                 d.protocol + "\" is unknown (scanners use \"generic\")");
  }
  for (auto& [key, v] : d.options) {
    auto bad = [&](const std::string& msg) {
      return fail(ErrorCode::kInvalidArgument, v.origin.describe() + ": " + msg);
    };
    if (key == "suffix") {
      auto suffix = parseFrameSuffix(v.text);
      if (!suffix) return bad(suffix.error().message);
      s.framing.suffix = *suffix;
    } else if (key == "prefix") {
      auto p = unescapeOption(v.text);
      if (!p) return bad(p.error().message);
      s.framing.prefix = *p;
    } else if (key == "length") {
      auto n = optionInt(v, 1, 4096);
      if (!n) return std::unexpected(n.error());
      s.framing.fixedLength = static_cast<size_t>(*n);
    } else if (key == "timeout_ms") {
      auto n = optionInt(v, 1, 10000);
      if (!n) return std::unexpected(n.error());
      s.framing.idleTimeout = std::chrono::milliseconds(*n);
    } else if (key == "max_length") {
      auto n = optionInt(v, 16, 65536);
      if (!n) return std::unexpected(n.error());
      s.framing.maxFrame = static_cast<size_t>(*n);
    } else if (key == "bin_pattern") {
      s.classifier.binLabelPattern = v.text;
    } else if (key == "command_pattern") {
      s.classifier.commandPattern = v.text;
    } else if (key == "good_read" || key == "bad_read") {
      auto p = unescapeOption(v.text);
      if (!p) return bad(p.error().message);
      (key == "good_read" ? s.goodRead : s.badRead) = *p;
    } else if (key == "hid_report_id") {
      auto n = optionInt(v, 0, 255);
      if (!n) return std::unexpected(n.error());
      s.hidReportId = static_cast<uint8_t>(*n);
    } else {
      return bad("unknown scanner option \"" + key +
                 "\" (known: suffix, prefix, length, timeout_ms, max_length, bin_pattern, command_pattern, good_read, "
                 "bad_read, hid_report_id)");
    }
  }
  auto origin = [&](const char* key) {
    auto it = d.options.find(key);
    return it != d.options.end() ? it->second.origin.describe() : d.origin.describe();
  };
  if (s.framing.fixedLength > 0 && d.options.contains("suffix") && s.framing.suffix != FrameSuffix::kNone) {
    return fail(ErrorCode::kInvalidArgument, origin("length") + ": length= frames need suffix = \"none\"");
  }
  if (s.framing.fixedLength > 0 || s.framing.idleTimeout.count() > 0) {
    if (!d.options.contains("suffix")) s.framing.suffix = FrameSuffix::kNone;
  }
  if (s.framing.suffix == FrameSuffix::kNone && s.framing.fixedLength == 0 && s.framing.idleTimeout.count() == 0 &&
      d.address.scheme != config::AddressScheme::kUsb) {
    return fail(ErrorCode::kInvalidArgument,
                origin("suffix") + ": suffix = \"none\" needs length = N or timeout_ms = N to know where a scan ends");
  }
  if (d.address.scheme == config::AddressScheme::kEvdev && (!s.goodRead.empty() || !s.badRead.empty())) {
    return fail(ErrorCode::kInvalidArgument, origin(s.goodRead.empty() ? "bad_read" : "good_read") +
                                                 ": a keyboard-wedge scanner cannot receive feedback commands");
  }
  auto classifier = ScanClassifier::create(s.classifier);
  if (!classifier) {
    return fail(ErrorCode::kInvalidArgument,
                origin(s.classifier.binLabelPattern.empty() ? "command_pattern" : "bin_pattern") + ": " +
                    classifier.error().message);
  }
  return s;
}

// One implementation for every transport: frames come from the suffix /
// length / pause rules, or (USB HID POS) from the reports themselves.
class StreamScanner final : public Scanner {
 public:
  StreamScanner(EventLoop& loop, config::DeviceConfig device, ScannerSettings settings, ScanClassifier classifier,
                Logger logger)
      : loop_(loop), device_(std::move(device)), settings_(std::move(settings)), classifier_(std::move(classifier)),
        framer_(settings_.framing), hid_(settings_.hidReportId), logger_(std::move(logger)),
        usb_(device_.address.scheme == config::AddressScheme::kUsb), bound_(loop) {}
  ~StreamScanner() override {
    if (idleTimer_) loop_.cancelTimer(idleTimer_);
  }

  const std::string& id() const override { return device_.id; }
  void setHandlers(Handlers handlers) override { handlers_ = std::move(handlers); }

  DeviceClient deviceClient() override {
    DeviceClient c;
    c.onData = bound_.bind([this](std::span<const uint8_t> bytes) { onBytes(bytes); });
    c.onConnected = bound_.bind([this](DeviceWriter writer) { writer_ = std::move(writer); });
    c.onDisconnected = bound_.bind([this](const DeviceStatus&) {
      writer_ = nullptr;
      framer_ = ScanFramer(settings_.framing);  // a half frame from before the unplug is lost
      hid_ = HidPosReportDecoder(settings_.hidReportId);
    });
    return c;
  }

  Status feedback(bool good) override {
    bound_.assertLoopThread();
    const std::string& cmd = good ? settings_.goodRead : settings_.badRead;
    if (cmd.empty()) {
      return fail(ErrorCode::kUnsupported, device_.id + ": no " + (good ? "good_read" : "bad_read") +
                                               " command configured");
    }
    if (!writer_) return fail(ErrorCode::kDisconnected, device_.id + " is not connected");
    return writer_(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(cmd.data()), cmd.size()));
  }
  bool supportsFeedback() const override { return !settings_.goodRead.empty() || !settings_.badRead.empty(); }

 private:
  void onBytes(std::span<const uint8_t> bytes) {
    frames_.clear();
    if (usb_) {
      if (auto f = hid_.feed(bytes)) frames_.push_back(std::move(*f));
    } else {
      framer_.feed(bytes, frames_);
    }
    // Copy: a handler may destroy this scanner.
    auto frames = std::move(frames_);
    frames_.clear();
    auto token = bound_.token();
    for (auto& f : frames) {
      deliver(f);
      if (token.expired()) return;
    }
    if (!usb_ && settings_.framing.idleTimeout.count() > 0) armIdleTimer();
  }

  void armIdleTimer() {
    if (idleTimer_) loop_.cancelTimer(idleTimer_);
    idleTimer_ = 0;
    if (!framer_.hasPartial()) return;
    idleTimer_ = loop_.addTimer(settings_.framing.idleTimeout, bound_.bind([this] {
      idleTimer_ = 0;
      if (auto f = framer_.flush()) deliver(*f);
    }));
  }

  void deliver(const Result<std::string>& frame) {
    if (!frame) {
      bad(frame.error(), "");
      return;
    }
    auto scan = classifier_.classify(*frame);
    if (!scan) {
      bad(scan.error(), *frame);
      return;
    }
    logger_.debug(deviceFields(device_.id), "scan {} {}", toString(scan->kind), scan->data);
    if (handlers_.onScan) handlers_.onScan(*scan);
  }

  void bad(const Error& why, const std::string& raw) {
    logger_.warn(deviceFields(device_.id), "bad read on {}: {}", device_.id, why.message);
    if (!settings_.badRead.empty() && writer_) (void)feedback(false);
    if (handlers_.onBadScan) handlers_.onBadScan(why, raw);
  }

  EventLoop& loop_;
  config::DeviceConfig device_;
  ScannerSettings settings_;
  ScanClassifier classifier_;
  ScanFramer framer_;
  HidPosReportDecoder hid_;
  Logger logger_;
  bool usb_;
  Handlers handlers_;
  DeviceWriter writer_;
  EventLoop::TimerId idleTimer_ = 0;
  std::vector<Result<std::string>> frames_;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::string> unescapeOption(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= text.size()) return fail(ErrorCode::kInvalidArgument, "\"" + std::string(text) + "\" ends in a lone \\");
    switch (text[i]) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        unsigned v = 0;
        auto hex = text.substr(i + 1, 2);
        auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
        if (hex.size() != 2 || ec != std::errc() || end != hex.data() + hex.size()) {
          return fail(ErrorCode::kInvalidArgument,
                      "\"" + std::string(text) + "\": \\x needs two hex digits, e.g. \\x1d");
        }
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default:
        return fail(ErrorCode::kInvalidArgument, "\"" + std::string(text) + "\": unknown escape \\" +
                                                     std::string(1, text[i]) + " (use \\r \\n \\t \\\\ or \\xHH)");
    }
  }
  return out;
}

Result<std::unique_ptr<Scanner>> createScanner(EventLoop& loop, const config::DeviceConfig& device, Logger logger) {
  if (device.kind != config::DeviceKind::kScanner) {
    return fail(ErrorCode::kInvalidArgument, device.origin.describe() + ": device \"" + device.id + "\" is a " +
                                                 std::string(config::toString(device.kind)) + ", not a scanner");
  }
  auto settings = parseOptions(device);
  if (!settings) return std::unexpected(settings.error());
  auto classifier = ScanClassifier::create(settings->classifier);
  if (!classifier) return std::unexpected(classifier.error());
  return std::make_unique<StreamScanner>(loop, device, std::move(*settings), std::move(*classifier), std::move(logger));
}

}  // namespace floorlink::drivers
