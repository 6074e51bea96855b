#include "drivers/scale/protocol_scales.h"

#include <fmt/format.h>

namespace floorlink::drivers {
namespace {

// A protocol whose replies are frames ending in a delimiter: the splitting
// and the per-frame loop, once for all of them.
class FramedScaleDriver : public ScaleDriver {
 protected:
  FramedScaleDriver(ScaleSetup& s, std::string protocol, std::string frameEnd, size_t maxFrame)
      : ScaleDriver(*s.loop, std::move(s.id), std::move(protocol), std::move(s.transport), std::move(s.where),
                    s.options, std::move(s.logger)),
        splitter_(std::move(frameEnd), maxFrame) {}
  // One complete (or overlong) frame.
  virtual void onFrame(FrameSplitter::Frame& f, Request inFlight, std::vector<Event>& out) = 0;

 private:
  void resetFraming() override { splitter_.clear(); }
  void onBytes(std::span<const uint8_t> bytes, Request inFlight, std::vector<Event>& out) override {
    frames_.clear();
    splitter_.feed(bytes, frames_);
    for (auto& f : frames_) onFrame(f, inFlight, out);
  }

  FrameSplitter splitter_;
  std::vector<FrameSplitter::Frame> frames_;
};

// ---------------------------------------------------------------- MT-SICS
class MtSicsScale final : public FramedScaleDriver {
 public:
  explicit MtSicsScale(ScaleSetup s) : FramedScaleDriver(s, "mt-sics", "\r\n", 256) {}

 protected:
  std::optional<std::string> requestBytes(Request r) const override {
    switch (r) {
      case Request::kStartup: return "@\r\n";  // cancels whatever the scale was doing
      case Request::kPoll: return "SI\r\n";    // immediate weight, stable (S S) or dynamic (S D)
      case Request::kZero: return "Z\r\n";
      case Request::kTare: return "T\r\n";
      case Request::kClearTare: return "TAC\r\n";
      case Request::kNone: break;
    }
    return std::nullopt;
  }
  std::string setupHint() const override {
    return "that the scale's interface is set to MT-SICS (host mode) with the same baud rate and format as the "
           "device address";
  }
  void onFrame(FrameSplitter::Frame& f, Request inFlight, std::vector<Event>& out) override {
    Event e;
    if (f.overlong) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = Error{ErrorCode::kParse, "a line longer than 256 bytes: \"" + printable(f.bytes, 32) + "\""};
      out.push_back(std::move(e));
      return;
    }
    auto reply = parseMtSicsLine(f.bytes);
    if (!reply) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = reply.error();
      e.completes = inFlight != Request::kNone;
      out.push_back(std::move(e));
      return;
    }
    interpret(*reply, inFlight, e);
    if (e.completes) inFlight = Request::kNone;
    out.push_back(std::move(e));
  }

 private:
  static bool answers(const std::string& command, Request r) {
    switch (r) {
      case Request::kStartup: return command == "I4" || command == "@";
      case Request::kPoll: return command == "S" || command == "SI";
      case Request::kZero: return command == "Z";
      case Request::kTare: return command == "T";
      case Request::kClearTare: return command == "TAC";
      case Request::kNone: return false;
    }
    return false;
  }

  void interpret(const MtSicsReply& r, Request inFlight, Event& e) {
    if (r.command == "ES" || r.command == "ET" || r.command == "EL") {
      e.completes = inFlight != Request::kNone;
      if (inFlight == Request::kStartup) {
        e.kind = Event::Kind::kAnswer;  // firmware without "@": carry on
        return;
      }
      const char* what = r.command == "ES"   ? "syntax error: the scale does not know the command"
                         : r.command == "ET" ? "transmission error: check baud rate and format"
                                             : "logical error: the scale cannot execute the command now";
      if (inFlight == Request::kZero || inFlight == Request::kTare || inFlight == Request::kClearTare) {
        e.kind = Event::Kind::kAnswer;
        e.result = fail(r.command == "ES" ? ErrorCode::kUnsupported : ErrorCode::kProtocol,
                        fmt::format("the scale answered {} ({})", r.command, what));
        return;
      }
      e.kind = Event::Kind::kGarbage;
      e.garbage = Error{ErrorCode::kProtocol, fmt::format("the scale answered {} ({})", r.command, what)};
      return;
    }
    e.completes = answers(r.command, inFlight);
    if (r.command == "I4") {
      e.kind = Event::Kind::kAnswer;
      logger().info(scaleLogFields(id()), "scale {}: MT-SICS serial number {}", id(), r.value);
      return;
    }
    if (r.command == "S" || r.command == "SI") {
      e.kind = Event::Kind::kReading;
      Reading& rd = e.reading;
      rd.net = net_;
      switch (r.status) {
        case 'S':
        case 'D': {
          if (!r.grams) {
            auto unit = parseWeightUnit(r.unit);
            e.kind = Event::Kind::kGarbage;
            e.garbage = unit ? Error{ErrorCode::kParse, "weight without value"} : unit.error();
            return;
          }
          rd.status = r.status == 'S' ? WeightStatus::kStable : WeightStatus::kMotion;
          rd.grams = *r.grams;
          rd.unit = parseWeightUnit(r.unit).value_or(WeightUnit::kGram);
          rd.displayed = r.value + " " + r.unit;
          return;
        }
        case '+':
          rd.status = WeightStatus::kOverload;
          rd.weightKnown = false;
          return;
        case '-':
          rd.status = WeightStatus::kUnderload;
          rd.weightKnown = false;
          return;
        default:
          // "S I": busy (still executing another command or no stable value yet).
          e.kind = Event::Kind::kAnswer;
          return;
      }
    }
    if (r.command == "Z" || r.command == "T" || r.command == "TAC") {
      e.kind = Event::Kind::kAnswer;
      bool done = (r.command == "T" && r.status == 'S') || (r.command != "T" && r.status == 'A');
      if (done) {
        if (r.command == "T") net_ = r.grams.value_or(1) != 0;
        if (r.command == "TAC") net_ = false;
        e.result = ok();
        return;
      }
      std::string what = r.command == "Z" ? "zero" : r.command == "T" ? "tare" : "clear the tare";
      switch (r.status) {
        case 'I':
          e.result = fail(ErrorCode::kBusy, fmt::format("the scale could not {} now (busy or the weight is not "
                                                        "stable): keep the platter still and try again",
                                                        what));
          return;
        case '+':
          e.result = fail(ErrorCode::kFault, fmt::format("the scale could not {}: upper limit exceeded (too much "
                                                         "on the platter)",
                                                         what));
          return;
        case '-':
          e.result = fail(ErrorCode::kFault, fmt::format("the scale could not {}: lower limit exceeded (is the "
                                                         "weighing pan in place?)",
                                                         what));
          return;
        default:
          e.result = fail(ErrorCode::kProtocol, fmt::format("unexpected answer \"{} {}\" to {}", r.command,
                                                            r.status, what));
          return;
      }
    }
    // Something we did not ask for (TA, I-commands from the keypad, ...).
    e.kind = Event::Kind::kAnswer;
  }

  bool net_ = false;
};

// ---------------------------------------------------------------- Toledo 8217
class Toledo8217Scale final : public FramedScaleDriver {
 public:
  Toledo8217Scale(ScaleSetup s, std::optional<WeightUnit> unit)
      : FramedScaleDriver(s, "toledo-8217", "\r", 64), unit_(unit) {}

 protected:
  std::optional<std::string> requestBytes(Request r) const override {
    switch (r) {
      case Request::kPoll: return "W";
      case Request::kZero: return "Z";
      case Request::kTare: return "T\r";
      case Request::kClearTare: return "C";
      case Request::kStartup:
      case Request::kNone: break;
    }
    return std::nullopt;
  }
  std::string setupHint() const override {
    return "that the scale is set to the 8217 protocol and the port to 9600 baud 7E1 (format=7E1 in the address)";
  }
  void onFrame(FrameSplitter::Frame& f, Request inFlight, std::vector<Event>& out) override {
    Event e;
    e.completes = inFlight != Request::kNone;
    size_t stx = f.bytes.rfind('\x02');
    if (f.overlong || stx == std::string::npos) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = Error{ErrorCode::kParse, "\"" + printable(f.bytes, 32) + "\" is not an <STX>...<CR> record"};
      out.push_back(std::move(e));
      inFlight = Request::kNone;
      return;
    }
    auto reply = parseToledo8217Frame(std::string_view(f.bytes).substr(stx + 1));
    if (!reply) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = reply.error();
    } else {
      interpret(*reply, inFlight, e);
    }
    out.push_back(std::move(e));
    inFlight = Request::kNone;
  }

 private:
  void interpret(const Toledo8217Reply& r, Request inFlight, Event& e) {
    if (!r.status) {
      auto grams = toledo8217Grams(r, unit_);
      if (!grams) {
        e.kind = Event::Kind::kGarbage;
        e.garbage = grams.error();
        return;
      }
      e.kind = Event::Kind::kReading;
      // The 8217 sends a weight record only for a valid, stable weight.
      e.reading.status = WeightStatus::kStable;
      e.reading.grams = *grams;
      e.reading.net = r.net;
      e.reading.unit = unit_.value_or(r.decimals == 2 ? WeightUnit::kPound : WeightUnit::kKilogram);
      e.reading.displayed = r.weight + " " + std::string(toString(e.reading.unit)) + (r.net ? " N" : "");
      return;
    }
    const Toledo8217Status& s = *r.status;
    if (inFlight == Request::kPoll || inFlight == Request::kNone) {
      e.kind = Event::Kind::kReading;
      e.reading.weightKnown = false;
      e.reading.net = s.net;
      e.reading.status = s.overCapacity ? WeightStatus::kOverload
                         : s.underZero  ? WeightStatus::kUnderload
                         : s.motion     ? WeightStatus::kMotion
                                        : WeightStatus::kUnknown;
      e.reading.displayed = "status: " + s.describe();
      return;
    }
    e.kind = Event::Kind::kAnswer;
    if (s.motion) {
      e.result = fail(ErrorCode::kBusy, "the weight is moving: keep the platter still and try again");
      return;
    }
    if (s.overCapacity || s.underZero) {
      e.result = fail(ErrorCode::kFault, "the scale is " + std::string(s.overCapacity ? "over capacity" : "under zero") +
                                             ": empty the platter and try again");
      return;
    }
    switch (inFlight) {
      case Request::kZero:
        if (s.outsideZeroRange) {
          e.result = fail(ErrorCode::kFault, "the load is outside the zero capture range: empty the platter first");
          return;
        }
        if (s.net) {
          e.result = fail(ErrorCode::kFault, "the scale has a tare: clear the tare before zeroing");
          return;
        }
        e.result = ok();
        return;
      case Request::kTare:
        e.result = s.net ? ok()
                         : fail(ErrorCode::kFault, "the scale did not take the tare (tare disabled in its setup, or "
                                                   "nothing on the platter)");
        return;
      case Request::kClearTare:
        e.result = s.net ? fail(ErrorCode::kFault, "the scale still shows net weight: the tare was not cleared")
                         : ok();
        return;
      case Request::kPoll:
      case Request::kStartup:
      case Request::kNone: break;
    }
    e.result = ok();
  }

  std::optional<WeightUnit> unit_;
};

// ---------------------------------------------------------------- NCI
class NciScale final : public FramedScaleDriver {
 public:
  explicit NciScale(ScaleSetup s) : FramedScaleDriver(s, "nci", "\x03", 128) {}

 protected:
  std::optional<std::string> requestBytes(Request r) const override {
    switch (r) {
      case Request::kPoll: return "W\r";
      case Request::kZero: return "Z\r";
      case Request::kTare:
      case Request::kClearTare:
      case Request::kStartup:
      case Request::kNone: break;
    }
    return std::nullopt;
  }
  std::string unsupportedHint(Request r) const override {
    return r == Request::kZero ? ScaleDriver::unsupportedHint(r)
                               : "the NCI protocol has no tare command: use the TARE key on the scale";
  }
  std::string setupHint() const override {
    return "that the scale is set to the NCI protocol with the same baud rate and format as the device address "
           "(often 9600 7E1)";
  }
  void onFrame(FrameSplitter::Frame& f, Request inFlight, std::vector<Event>& out) override {
    Event e;
    e.completes = inFlight != Request::kNone;
    auto reply = f.overlong ? fail(ErrorCode::kParse, "a reply longer than 128 bytes") : parseNciFrame(f.bytes);
    if (!reply) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = reply.error();
    } else if (reply->unrecognised) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = Error{ErrorCode::kProtocol, fmt::format("the scale did not understand the {} command (\"?\")",
                                                          requestName(inFlight))};
    } else {
      interpret(*reply, inFlight, e);
    }
    out.push_back(std::move(e));
    inFlight = Request::kNone;
  }

 private:
  static std::optional<std::string> faultOf(const NciStatus& s) {
    if (!s.anyError()) return std::nullopt;
    std::string what;
    auto add = [&](bool on, const char* text) {
      if (!on) return;
      if (!what.empty()) what += ", ";
      what += text;
    };
    add(s.ramError, "RAM error");
    add(s.eepromError, "EEPROM error");
    add(s.romError, "ROM error");
    add(s.calibrationError, "faulty calibration");
    return "the scale reports " + what + ": have it serviced";
  }

  void interpret(const NciReply& r, Request inFlight, Event& e) {
    const NciStatus& s = *r.status;
    e.deviceFault = faultOf(s);
    if (inFlight == Request::kZero) {
      e.kind = Event::Kind::kAnswer;
      if (s.motion) e.result = fail(ErrorCode::kBusy, "the weight is moving: keep the platter still and try again");
      else if (!s.atZero) e.result = fail(ErrorCode::kFault, "the scale did not zero (load outside the zero range?): "
                                                             "empty the platter and try again");
      else e.result = ok();
      return;
    }
    e.kind = Event::Kind::kReading;
    Reading& rd = e.reading;
    rd.status = s.overCapacity    ? WeightStatus::kOverload
                : s.underCapacity ? WeightStatus::kUnderload
                : s.motion        ? WeightStatus::kMotion
                                  : WeightStatus::kStable;
    if (r.grams) {
      rd.grams = *r.grams;
      rd.unit = parseWeightUnit(r.unit).value_or(WeightUnit::kOunce);  // "lb-oz" counts in ounces
      rd.displayed = r.weight + (r.unit == "lb-oz" ? "" : " " + r.unit);
    } else {
      rd.weightKnown = false;
      if (rd.status == WeightStatus::kStable) rd.status = WeightStatus::kUnknown;
      rd.displayed = "status: " + s.describe();
    }
  }

};

// ---------------------------------------------------------------- HID POS
// 455 and -1 -> "45.5"; 12 and 2 -> "1200".
std::string scaledText(uint16_t value, int exponent) {
  std::string digits = std::to_string(value);
  if (exponent >= 0) return digits + std::string(static_cast<size_t>(exponent), '0');
  auto places = static_cast<size_t>(-exponent);
  if (digits.size() <= places) digits.insert(0, places - digits.size() + 1, '0');
  digits.insert(digits.size() - places, ".");
  return digits;
}

class HidPosScale final : public ScaleDriver {
 public:
  HidPosScale(ScaleSetup s, HidScaleQuirk quirk)
      : ScaleDriver(*s.loop, std::move(s.id), "hid-pos", std::move(s.transport), std::move(s.where), s.options, std::move(s.logger)),
        quirk_(quirk) {}

 protected:
  std::optional<std::string> requestBytes(Request) const override { return std::nullopt; }
  bool expectsAnswer(Request) const override { return false; }
  std::string unsupportedHint(Request r) const override {
    return fmt::format("USB HID scales take {} on their own key: press {} on the scale",
                       r == Request::kZero ? "zero" : "tare", r == Request::kZero ? "ZERO" : "TARE");
  }
  std::string setupHint() const override {
    return fmt::format("that it is a HID POS scale (quirk {}: {})", quirk_.name, quirk_.note);
  }
  void resetFraming() override {}

  // The USB transport hands over one interrupt transfer (one report) per call.
  void onBytes(std::span<const uint8_t> bytes, Request, std::vector<Event>& out) override {
    Event e;
    auto report = parseHidScaleReport(bytes, quirk_);
    if (!report) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = report.error();
      out.push_back(std::move(e));
      return;
    }
    e.kind = Event::Kind::kReading;
    Reading& rd = e.reading;
    rd.grams = report->grams;
    switch (report->unitCode) {
      case 1: rd.unit = WeightUnit::kMilligram; break;
      case 3: rd.unit = WeightUnit::kKilogram; break;
      case 11: rd.unit = WeightUnit::kOunce; break;
      case 12: rd.unit = WeightUnit::kPound; break;
      default: rd.unit = WeightUnit::kGram; break;
    }
    rd.displayed = scaledText(report->rawWeight, report->exponent) + " " + std::string(toString(rd.unit));
    switch (report->status) {
      case HidScaleStatus::kStableAtZero:
      case HidScaleStatus::kWeightStable: rd.status = WeightStatus::kStable; break;
      case HidScaleStatus::kInMotion: rd.status = WeightStatus::kMotion; break;
      case HidScaleStatus::kUnderZero: rd.status = WeightStatus::kUnderload; break;
      case HidScaleStatus::kOverWeightLimit: rd.status = WeightStatus::kOverload; break;
      case HidScaleStatus::kFault:
        rd.status = WeightStatus::kUnknown;
        rd.weightKnown = false;
        e.deviceFault = "the scale reports a fault: switch it off and on; if it stays, have it serviced";
        break;
      case HidScaleStatus::kRequiresCalibration:
        rd.status = WeightStatus::kUnknown;
        rd.weightKnown = false;
        e.deviceFault = "the scale needs calibration: have it calibrated";
        break;
      case HidScaleStatus::kRequiresRezeroing:
        rd.status = WeightStatus::kUnknown;
        rd.weightKnown = false;
        e.deviceFault = "the scale needs re-zeroing: empty the platter and press ZERO";
        break;
    }
    out.push_back(std::move(e));
  }

 private:
  HidScaleQuirk quirk_;
};

// ---------------------------------------------------------------- continuous
class ContinuousScale final : public FramedScaleDriver {
 public:
  ContinuousScale(ScaleSetup s, ContinuousSetup c)
      : FramedScaleDriver(s, "continuous", c.frameEnd, 256), setup_(std::move(c)) {}

 protected:
  std::optional<std::string> requestBytes(Request r) const override {
    if (r == Request::kZero) return setup_.zeroCommand;
    if (r == Request::kTare) return setup_.tareCommand;
    return std::nullopt;
  }
  bool expectsAnswer(Request) const override { return false; }
  std::string unsupportedHint(Request r) const override {
    return ScaleDriver::unsupportedHint(r) + fmt::format(" (or set the device option {}_command)",
                                                         r == Request::kZero ? "zero" : "tare");
  }
  std::string setupHint() const override {
    return "that continuous output is switched on in the scale's setup and frame_pattern matches its frames";
  }
  void onFrame(FrameSplitter::Frame& f, Request, std::vector<Event>& out) override {
    Event e;
    auto reading = f.overlong ? fail(ErrorCode::kParse, "a frame longer than 256 bytes") : setup_.parser.parse(f.bytes);
    if (!reading) {
      e.kind = Event::Kind::kGarbage;
      e.garbage = reading.error();
    } else {
      e.kind = Event::Kind::kReading;
      e.reading = std::move(*reading);
    }
    out.push_back(std::move(e));
  }

 private:
  ContinuousSetup setup_;
};

}  // namespace

std::unique_ptr<Scale> makeMtSicsScale(ScaleSetup setup) { return std::make_unique<MtSicsScale>(std::move(setup)); }
std::unique_ptr<Scale> makeToledo8217Scale(ScaleSetup setup, std::optional<WeightUnit> unit) {
  return std::make_unique<Toledo8217Scale>(std::move(setup), unit);
}
std::unique_ptr<Scale> makeNciScale(ScaleSetup setup) { return std::make_unique<NciScale>(std::move(setup)); }
std::unique_ptr<Scale> makeHidPosScale(ScaleSetup setup, HidScaleQuirk quirk) {
  return std::make_unique<HidPosScale>(std::move(setup), quirk);
}
std::unique_ptr<Scale> makeContinuousScale(ScaleSetup setup, ContinuousSetup continuous) {
  return std::make_unique<ContinuousScale>(std::move(setup), std::move(continuous));
}

}  // namespace floorlink::drivers
