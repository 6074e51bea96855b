#pragma once
// A small ZPL II reader shared by the template checker, the resolution
// scaler, barcode verification, the preview renderer and the fake printer.
// It understands the commands our labels use; others pass through untouched.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink::printers::zpl {

struct Command {
  char prefix = '^';    // '^' format command, '~' control command
  std::string code;     // "FO", "GB", "A" (font letter is the first param char), "XA", …
  std::string params;   // text up to the next command (field data for FD/FV)
  size_t offset = 0;    // of the prefix in the input
  size_t length = 0;    // bytes of prefix + code + params
};

// Splits ZPL into commands. Bytes before the first command are skipped.
// Field data (^FD/^FV) runs to the next '^'; other parameters to the next
// '^' or '~'. CR and LF outside field data are ignored, as printers do.
std::vector<Command> tokenize(std::string_view text);

// Comma-separated parameters of a command ("100,50" -> {"100","50"}).
std::vector<std::string> splitParams(std::string_view params);

// Every byte outside [A-Za-z0-9 .,:/-] becomes `<indicator>XX` (^FH). Field
// data escaped this way cannot contain a command prefix, so it cannot inject ZPL.
std::string hexEscape(std::string_view value, char indicator = '_');
// Reverses ^FH escaping. Fails on a malformed escape.
Result<std::string> hexDecode(std::string_view data, char indicator = '_');

enum class Symbology { kCode128, kGs1_128, kCode39, kEan13, kQrCode, kDataMatrix, kGs1DataMatrix };
std::string_view toString(Symbology s);

struct Text {
  int x = 0, y = 0;
  int height = 18, width = 10;  // dots (font 0 and scalable); ^A/^CF
  char font = '0';
  char orientation = 'N';
  std::string text;             // UTF-8, ^FH already decoded
};

struct Box {
  int x = 0, y = 0, width = 1, height = 1, thickness = 1;
  bool black = true;
};

struct Barcode {
  int index = 0;                // 1-based, in label order, for messages
  int x = 0, y = 0;
  Symbology symbology = Symbology::kCode128;
  int moduleWidth = 2;          // dots (^BY w, or ^BQ magnification / ^BX module size)
  double ratio = 3.0;
  int height = 10;              // dots, 1D only
  char orientation = 'N';
  bool humanReadable = true;
  std::string data;             // as written in ^FD after ^FH decoding (with "(00)…" or ">8" syntax)
  std::string content;          // what the symbol encodes: plain text, or GS1 raw element string
  std::string describe() const; // "barcode 2 (GS1-128 at 40,300)"
};

struct Layout {
  int widthDots = 0;    // ^PW, 0 when not given
  int lengthDots = 0;   // ^LL, 0 when not given
  bool utf8 = false;    // ^CI28 seen
  int quantity = 1;     // ^PQ
  std::vector<Text> texts;
  std::vector<Box> boxes;
  std::vector<Barcode> barcodes;
  // Barcode commands this reader does not decode (^B7 PDF417, ^BD MaxiCode, …),
  // as "^B7 at 10,20": verification refuses labels carrying them.
  std::vector<std::string> unsupportedBarcodes;
};

// Interprets one or more formats into what would be printed. Fails with a
// message naming the field when data cannot be decoded.
Result<Layout> interpret(std::string_view text);

// Splits a stream into formats (^XA … ^XZ) and control commands, as a
// printer's parser does; used by the fake printer and for checks.
struct FormatCheck {
  int formats = 0;
  bool balanced = true;
  std::string problem;  // when not balanced
};
FormatCheck checkFormats(std::string_view text);

}  // namespace floorlink::printers::zpl
