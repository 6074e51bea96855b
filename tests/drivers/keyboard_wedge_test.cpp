#include "drivers/keyboard_wedge.h"

#include <gtest/gtest.h>
#include <linux/input-event-codes.h>

namespace floorlink::drivers {
namespace {

struct Typist {
  KeyboardWedgeDecoder decoder;
  std::string out;
  void tap(uint16_t code, std::initializer_list<uint16_t> mods = {}) {
    for (auto m : mods) decoder.key(m, 1, out);
    decoder.key(code, 1, out);
    decoder.key(code, 0, out);
    for (auto m : mods) decoder.key(m, 0, out);
  }
};

TEST(KeyboardWedge, UsLayoutDigitsLettersAndGs) {
  Typist t{KeyboardWedgeDecoder(KeyboardLayout::kUs), {}};
  t.tap(KEY_0);
  t.tap(KEY_1);
  t.tap(KEY_RIGHTBRACE, {KEY_LEFTCTRL});
  t.tap(KEY_A, {KEY_LEFTSHIFT});
  t.tap(KEY_B);
  t.tap(KEY_MINUS);
  t.tap(KEY_ENTER);
  EXPECT_EQ(t.out, "01\x1d" "Ab-\r");
}

TEST(KeyboardWedge, GermanLayoutSwapsYZAndSymbols) {
  Typist t{KeyboardWedgeDecoder(KeyboardLayout::kDe), {}};
  t.tap(KEY_Y);
  t.tap(KEY_Z);
  t.tap(KEY_SLASH);                    // '-' on German keyboards
  t.tap(KEY_7, {KEY_LEFTSHIFT});       // '/'
  t.tap(KEY_Q, {KEY_RIGHTALT});        // AltGr+Q = '@'
  t.tap(KEY_RIGHTBRACE, {KEY_LEFTCTRL});  // Ctrl + the key in US ']' position = GS
  t.tap(KEY_9, {KEY_LEFTCTRL, KEY_RIGHTALT});  // Ctrl+AltGr+9 = Ctrl+] = GS
  t.tap(KEY_SEMICOLON);                // 'ö'
  EXPECT_EQ(t.out, "zy-/@\x1d\x1d" "ö");
}

TEST(KeyboardWedge, ConfiguredGsReplacementAndAltCodes) {
  Typist t{KeyboardWedgeDecoder(KeyboardLayout::kUs, "~"), {}};
  t.tap(KEY_1);
  t.tap(KEY_GRAVE, {KEY_LEFTSHIFT});  // '~' -> GS
  t.decoder.key(KEY_LEFTALT, 1, t.out);
  t.tap(KEY_KP0);
  t.tap(KEY_KP2);
  t.tap(KEY_KP9);
  t.decoder.key(KEY_LEFTALT, 0, t.out);  // Alt+029 = GS
  t.tap(KEY_2);
  EXPECT_EQ(t.out, "1\x1d\x1d" "2");
}

TEST(KeyboardWedge, CapsLockAndRepeat) {
  Typist t{KeyboardWedgeDecoder(KeyboardLayout::kUs), {}};
  t.tap(KEY_CAPSLOCK);
  t.tap(KEY_A);
  t.tap(KEY_A, {KEY_LEFTSHIFT});
  t.decoder.key(KEY_B, 2, t.out);  // autorepeat types nothing
  EXPECT_EQ(t.out, "Aa");
}

TEST(KeyboardWedge, LayoutNames) {
  EXPECT_EQ(parseKeyboardLayout("de").value(), KeyboardLayout::kDe);
  EXPECT_FALSE(parseKeyboardLayout("fr"));
}

}  // namespace
}  // namespace floorlink::drivers
