#pragma once
// Scales in software: given the bytes the host sends, the bytes a real scale
// of that protocol answers (formats from the manuals). Used behind the
// FakeTransport, behind an umockdev pty, and by bench/scales.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace floorlink::testing {

struct ScaleState {
  int64_t grams = 0;       // gross weight on the platter
  int64_t tareGrams = 0;
  bool motion = false;
  bool overload = false;
  bool underload = false;
  bool silent = false;     // answers nothing
  bool garbage = false;    // answers line noise
  bool zeroBlocked = false;  // refuses to zero (outside range / busy)
  bool ramError = false;     // NCI status byte 1 bit 2
  int zeroCount = 0;
};

class ScaleEmulator {
 public:
  virtual ~ScaleEmulator() = default;
  // Bytes from the host in; the scale's answer out (may be empty).
  std::string feed(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
      pending_ += c;
      if (complete(pending_)) {
        std::string command = pending_;
        pending_.clear();
        if (state.silent) continue;
        if (state.garbage) {
          out += std::string("\xfe\x13~~\x80 noise\x07\r\n\x03", 15);
          continue;
        }
        out += answer(command);
      }
    }
    return out;
  }
  ScaleState state;

 protected:
  virtual bool complete(const std::string& pending) const = 0;
  virtual std::string answer(const std::string& command) = 0;
  int64_t net() const { return state.grams - state.tareGrams; }
  std::string pending_;
};

// MT-SICS, grams with two decimals in the 10-character weight field.
class MtSicsEmulator final : public ScaleEmulator {
 protected:
  bool complete(const std::string& p) const override { return p.ends_with("\r\n"); }
  std::string answer(const std::string& command) override {
    std::string c = command.substr(0, command.size() - 2);
    auto weight = [&](const char* id, char status, int64_t grams) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s %c %10.2f g\r\n", id, status, static_cast<double>(grams));
      return std::string(buf);
    };
    if (c == "@") return "I4 A \"B123456789\"\r\n";
    if (c == "S" || c == "SI") {
      if (state.overload) return c + " +\r\n";
      if (state.underload) return c + " -\r\n";
      if (c == "S" && state.motion) return "S I\r\n";
      return weight("S", state.motion ? 'D' : 'S', net());
    }
    if (c == "Z") {
      if (state.motion || state.zeroBlocked) return "Z I\r\n";
      state.grams = 0;
      state.tareGrams = 0;
      ++state.zeroCount;
      return "Z A\r\n";
    }
    if (c == "T") {
      if (state.motion) return "T I\r\n";
      state.tareGrams = state.grams;
      return weight("T", 'S', state.tareGrams);
    }
    if (c == "TAC") {
      state.tareGrams = 0;
      return "TAC A\r\n";
    }
    return "ES\r\n";
  }
};

// Toledo 8217: weight in kg with three decimals ("WW.WWW"), N suffix for net;
// a status record when moving, over or under.
class Toledo8217Emulator final : public ScaleEmulator {
 public:
  static char statusByte(bool motion, bool over, bool under, bool net) {
    uint8_t b = 0x40;
    if (motion) b |= 0x01;
    if (over) b |= 0x02;
    if (under) b |= 0x04;
    if (net) b |= 0x20;
    return static_cast<char>(b);
  }

 protected:
  bool complete(const std::string& p) const override {
    if (p == "T") return false;  // "T<CR>"
    return p == "W" || p == "Z" || p == "C" || p == "T\r" || p.size() > 2;
  }
  std::string status() const {
    return std::string("\x02?") + statusByte(state.motion, state.overload, state.underload, state.tareGrams != 0) + "\r";
  }
  std::string answer(const std::string& command) override {
    if (command == "W") {
      if (state.motion || state.overload || state.underload || net() < 0) return status();
      char buf[32];
      std::snprintf(buf, sizeof buf, "\x02%06.3f%s\r", static_cast<double>(net()) / 1000.0,
                    state.tareGrams != 0 ? "N" : "");
      return buf;
    }
    if (command == "Z") {
      if (!state.motion && !state.zeroBlocked) {
        state.grams = 0;
        ++state.zeroCount;
      }
      return status();
    }
    if (command == "T\r") {
      if (!state.motion) state.tareGrams = state.grams;
      return status();
    }
    if (command == "C") {
      state.tareGrams = 0;
      return status();
    }
    return status();
  }
};

// NCI: "<LF>  1.234kg<CR><LF>hh<CR><ETX>" with both status bytes.
class NciEmulator final : public ScaleEmulator {
 protected:
  bool complete(const std::string& p) const override { return !p.empty() && p.back() == '\r'; }
  std::string status(bool atZero) const {
    char b1 = static_cast<char>(0x30 | (state.motion ? 0x01 : 0) | (atZero ? 0x02 : 0) | (state.ramError ? 0x04 : 0));
    char b2 = static_cast<char>(0x30 | (state.underload ? 0x01 : 0) | (state.overload ? 0x02 : 0));
    return std::string{b1, b2};
  }
  std::string answer(const std::string& command) override {
    if (command == "W\r") {
      if (state.motion || state.overload || state.underload) return "\n" + status(false) + "\r\x03";
      char buf[32];
      std::snprintf(buf, sizeof buf, "%7.3fkg", static_cast<double>(state.grams) / 1000.0);
      return "\n" + std::string(buf) + "\r\n" + status(state.grams == 0) + "\r\x03";
    }
    if (command == "S\r") return "\n" + status(state.grams == 0) + "\r\x03";
    if (command == "Z\r") {
      if (!state.motion && !state.zeroBlocked) {
        state.grams = 0;
        ++state.zeroCount;
      }
      return "\n" + status(state.grams == 0) + "\r\x03";
    }
    return "\n?\r\x03";
  }
};

// A DYMO M25 input report (report id 3): `raw` grams, or tenths of an ounce.
inline std::string dymoReport(uint8_t status, uint16_t raw, bool ounces = false) {
  uint8_t unit = ounces ? 11 : 2;
  uint8_t exponent = ounces ? 0xFF : 0x00;
  return std::string{3, static_cast<char>(status), static_cast<char>(unit), static_cast<char>(exponent),
                     static_cast<char>(raw & 0xFF), static_cast<char>((raw >> 8) & 0xFF)};
}

}  // namespace floorlink::testing
