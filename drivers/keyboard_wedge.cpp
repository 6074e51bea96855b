#include "drivers/keyboard_wedge.h"

#include <linux/input-event-codes.h>

#include <array>

namespace floorlink::drivers {
namespace {

struct KeyChars {
  std::string_view plain, shift, altGr;
};

using Table = std::array<KeyChars, 128>;

constexpr uint16_t kKeypadDigit[] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                     KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9};

void fillCommon(Table& t) {
  t[KEY_SPACE] = {" ", " ", " "};
  t[KEY_TAB] = {"\t", "\t", "\t"};
  t[KEY_ENTER] = {"\r", "\r", "\r"};
  t[KEY_KPENTER] = {"\r", "\r", "\r"};
  t[KEY_KPSLASH] = {"/", "/", ""};
  t[KEY_KPASTERISK] = {"*", "*", ""};
  t[KEY_KPMINUS] = {"-", "-", ""};
  t[KEY_KPPLUS] = {"+", "+", ""};
  for (int d = 0; d < 10; ++d) {
    static constexpr std::string_view kDigits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    t[kKeypadDigit[d]] = {kDigits[d], kDigits[d], ""};
  }
}

void fillRow(Table& t, uint16_t first, std::initializer_list<KeyChars> keys) {
  uint16_t code = first;
  for (auto& k : keys) t[code++] = k;
}

Table makeUs() {
  Table t{};
  fillCommon(t);
  fillRow(t, KEY_1, {{"1", "!", ""}, {"2", "@", ""}, {"3", "#", ""}, {"4", "$", ""}, {"5", "%", ""}, {"6", "^", ""},
                     {"7", "&", ""}, {"8", "*", ""}, {"9", "(", ""}, {"0", ")", ""}, {"-", "_", ""}, {"=", "+", ""}});
  fillRow(t, KEY_Q, {{"q", "Q", ""}, {"w", "W", ""}, {"e", "E", ""}, {"r", "R", ""}, {"t", "T", ""}, {"y", "Y", ""},
                     {"u", "U", ""}, {"i", "I", ""}, {"o", "O", ""}, {"p", "P", ""}, {"[", "{", ""}, {"]", "}", ""}});
  fillRow(t, KEY_A, {{"a", "A", ""}, {"s", "S", ""}, {"d", "D", ""}, {"f", "F", ""}, {"g", "G", ""}, {"h", "H", ""},
                     {"j", "J", ""}, {"k", "K", ""}, {"l", "L", ""}, {";", ":", ""}, {"'", "\"", ""}, {"`", "~", ""}});
  t[KEY_BACKSLASH] = {"\\", "|", ""};
  fillRow(t, KEY_Z, {{"z", "Z", ""}, {"x", "X", ""}, {"c", "C", ""}, {"v", "V", ""}, {"b", "B", ""}, {"n", "N", ""},
                     {"m", "M", ""}, {",", "<", ""}, {".", ">", ""}, {"/", "?", ""}});
  t[KEY_102ND] = {"\\", "|", ""};
  t[KEY_KPDOT] = {".", ".", ""};
  return t;
}

Table makeDe() {
  Table t{};
  fillCommon(t);
  fillRow(t, KEY_1, {{"1", "!", "¹"}, {"2", "\"", "²"}, {"3", "§", "³"}, {"4", "$", "¼"}, {"5", "%", "½"},
                     {"6", "&", "¬"}, {"7", "/", "{"}, {"8", "(", "["}, {"9", ")", "]"}, {"0", "=", "}"},
                     {"ß", "?", "\\"}, {"´", "`", ""}});
  fillRow(t, KEY_Q, {{"q", "Q", "@"}, {"w", "W", ""}, {"e", "E", "€"}, {"r", "R", ""}, {"t", "T", ""}, {"z", "Z", ""},
                     {"u", "U", ""}, {"i", "I", ""}, {"o", "O", ""}, {"p", "P", ""}, {"ü", "Ü", ""}, {"+", "*", "~"}});
  fillRow(t, KEY_A, {{"a", "A", ""}, {"s", "S", ""}, {"d", "D", ""}, {"f", "F", ""}, {"g", "G", ""}, {"h", "H", ""},
                     {"j", "J", ""}, {"k", "K", ""}, {"l", "L", ""}, {"ö", "Ö", ""}, {"ä", "Ä", ""}, {"^", "°", ""}});
  t[KEY_BACKSLASH] = {"#", "'", ""};
  fillRow(t, KEY_Z, {{"y", "Y", ""}, {"x", "X", ""}, {"c", "C", ""}, {"v", "V", ""}, {"b", "B", ""}, {"n", "N", ""},
                     {"m", "M", "µ"}, {",", ";", ""}, {".", ":", ""}, {"-", "_", ""}});
  t[KEY_102ND] = {"<", ">", "|"};
  t[KEY_KPDOT] = {",", ",", ""};
  return t;
}

const Table& table(KeyboardLayout layout) {
  static const Table us = makeUs();
  static const Table de = makeDe();
  return layout == KeyboardLayout::kDe ? de : us;
}

int keypadDigit(uint16_t code) {
  for (int d = 0; d < 10; ++d) {
    if (kKeypadDigit[d] == code) return d;
  }
  return -1;
}

bool isLetter(std::string_view c) {
  return c.size() == 1 && ((c[0] >= 'a' && c[0] <= 'z') || (c[0] >= 'A' && c[0] <= 'Z'));
}

void appendCodePoint(int cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {  // Alt codes above 127 are Latin-1 in ALT mode
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

Result<KeyboardLayout> parseKeyboardLayout(std::string_view text) {
  if (text == "us") return KeyboardLayout::kUs;
  if (text == "de") return KeyboardLayout::kDe;
  return fail(ErrorCode::kInvalidArgument, "keyboard layout \"" + std::string(text) + "\" is not one of us, de");
}

std::string_view toString(KeyboardLayout layout) { return layout == KeyboardLayout::kDe ? "de" : "us"; }

KeyboardWedgeDecoder::KeyboardWedgeDecoder(KeyboardLayout layout, std::string gsReplacement)
    : layout_(layout), gsReplacement_(std::move(gsReplacement)) {}

void KeyboardWedgeDecoder::reset() {
  leftShift_ = rightShift_ = ctrl_ = alt_ = altGr_ = capsLock_ = false;
  altCode_ = -1;
}

void KeyboardWedgeDecoder::key(uint16_t code, int32_t value, std::string& out) {
  bool down = value != 0;
  switch (code) {
    case KEY_LEFTSHIFT: leftShift_ = down; return;
    case KEY_RIGHTSHIFT: rightShift_ = down; return;
    case KEY_LEFTCTRL:
    case KEY_RIGHTCTRL: ctrl_ = down; return;
    case KEY_LEFTALT:
      alt_ = down;
      if (down) {
        altCode_ = -1;
      } else if (altCode_ >= 0) {
        if (altCode_ <= 255) appendCodePoint(altCode_, out);
        altCode_ = -1;
      }
      return;
    case KEY_RIGHTALT:
      // AltGr on German layouts; a US layout has no AltGr level.
      altGr_ = down;
      return;
    case KEY_CAPSLOCK:
      if (value == 1) capsLock_ = !capsLock_;
      return;
    default: break;
  }
  if (value != 1) return;  // releases and autorepeat type nothing
  if (code >= table(layout_).size()) return;
  if (alt_) {
    int d = keypadDigit(code);
    if (d >= 0) altCode_ = (altCode_ < 0 ? 0 : altCode_ * 10) + d;
    if (altCode_ > 999) altCode_ = 999;
    return;
  }
  const KeyChars& k = table(layout_)[code];
  bool shift = leftShift_ || rightShift_;
  std::string_view c = altGr_ ? k.altGr : shift ? k.shift : k.plain;
  if (capsLock_ && !altGr_ && isLetter(k.plain)) c = shift ? k.plain : k.shift;
  if (ctrl_) {
    // Ctrl+] is how scanners type GS; the ] key sits where US layouts put it
    // (KEY_RIGHTBRACE), whatever the host layout prints there.
    if (code == KEY_RIGHTBRACE || c == "]") {
      out.push_back('\x1d');
    } else if (isLetter(k.plain)) {
      out.push_back(static_cast<char>(k.plain[0] & 0x1F));
    }
    return;
  }
  if (c.empty()) return;
  if (!gsReplacement_.empty() && c == gsReplacement_) {
    out.push_back('\x1d');
    return;
  }
  out.append(c);
}

}  // namespace floorlink::drivers
