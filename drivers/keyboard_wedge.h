#pragma once
// Keyboard-wedge scanners type their data as key presses. This turns Linux
// key events back into the bytes the scanner meant, for a given keyboard
// layout: Ctrl+] (and a configured replacement character) become GS (0x1D),
// Alt+keypad digits (the scanners' "ALT mode") become that character code.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace floorlink::drivers {

enum class KeyboardLayout { kUs, kDe };
Result<KeyboardLayout> parseKeyboardLayout(std::string_view text);  // "us", "de"
std::string_view toString(KeyboardLayout layout);

class KeyboardWedgeDecoder {
 public:
  // gsReplacement: a character (UTF-8) the scanner was configured to send
  // instead of GS; empty for none.
  explicit KeyboardWedgeDecoder(KeyboardLayout layout, std::string gsReplacement = {});

  // One EV_KEY event: Linux key code, value 0 release, 1 press, 2 autorepeat.
  // Appends the bytes the key typed (UTF-8 for non-ASCII) to `out`.
  void key(uint16_t code, int32_t value, std::string& out);
  void reset();

 private:
  KeyboardLayout layout_;
  std::string gsReplacement_;
  bool leftShift_ = false, rightShift_ = false, ctrl_ = false, alt_ = false, altGr_ = false, capsLock_ = false;
  int altCode_ = -1;  // digits typed on the keypad while Alt is held
};

}  // namespace floorlink::drivers
