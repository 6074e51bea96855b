#include "printers/zpl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/gs1.h"

namespace floorlink::printers::zpl {
namespace {

bool isPrefix(char c) { return c == '^' || c == '~'; }

int toInt(const std::vector<std::string>& p, size_t i, int fallback) {
  if (i >= p.size() || p[i].empty()) return fallback;
  int v = 0;
  auto s = std::string_view(p[i]);
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{}) return fallback;
  return v;
}

double toDouble(const std::vector<std::string>& p, size_t i, double fallback) {
  if (i >= p.size() || p[i].empty()) return fallback;
  try {
    return std::stod(p[i]);
  } catch (...) {
    return fallback;
  }
}

char toChar(const std::vector<std::string>& p, size_t i, char fallback) {
  if (i >= p.size() || p[i].empty()) return fallback;
  return p[i][0];
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// ZPL ^BC mode N invocation codes: ">;" start C, ">:" start B, ">9" start A,
// ">8" FNC1. Returns the encoded content and whether FNC1 came first (GS1).
Result<std::pair<std::string, bool>> code128Content(std::string_view data) {
  std::string out;
  bool gs1 = false;
  bool sawData = false;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '>' && i + 1 < data.size()) {
      char c = data[i + 1];
      if (c == ';' || c == ':' || c == '9' || c == '5' || c == '6' || c == '7') { ++i; continue; }
      if (c == '8') {
        if (!sawData) gs1 = true;
        else out += '\x1d';
        ++i;
        continue;
      }
      if (c == '0') { out += '>'; ++i; sawData = true; continue; }
    }
    out += data[i];
    sawData = true;
  }
  return std::pair{out, gs1};
}

}  // namespace

std::string_view toString(Symbology s) {
  switch (s) {
    case Symbology::kCode128: return "Code 128";
    case Symbology::kGs1_128: return "GS1-128";
    case Symbology::kCode39: return "Code 39";
    case Symbology::kEan13: return "EAN-13";
    case Symbology::kQrCode: return "QR Code";
    case Symbology::kDataMatrix: return "Data Matrix";
    case Symbology::kGs1DataMatrix: return "GS1 DataMatrix";
  }
  return "?";
}

std::string Barcode::describe() const {
  return fmt::format("barcode {} ({} at {},{})", index, toString(symbology), x, y);
}

std::vector<Command> tokenize(std::string_view text) {
  std::vector<Command> out;
  size_t i = 0;
  while (i < text.size() && !isPrefix(text[i])) ++i;
  while (i < text.size()) {
    Command c;
    c.prefix = text[i];
    c.offset = i;
    size_t j = i + 1;
    // Command letters; CR/LF between them are not expected but tolerated.
    if (c.prefix == '^' && j < text.size() && (text[j] == 'A' || text[j] == 'a') &&
        !(j + 1 < text.size() && text[j + 1] == '@')) {
      c.code = "A";
      j += 1;
    } else {
      size_t take = std::min<size_t>(2, text.size() - j);
      c.code = std::string(text.substr(j, take));
      j += take;
    }
    for (auto& ch : c.code) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    size_t end = j;
    while (end < text.size() && !isPrefix(text[end])) ++end;
    for (size_t k = j; k < end; ++k)
      if (text[k] != '\r' && text[k] != '\n') c.params += text[k];
    c.length = end - i;
    out.push_back(std::move(c));
    i = end;
  }
  return out;
}

std::vector<std::string> splitParams(std::string_view params) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = params.find(',', start);
    out.emplace_back(params.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string hexEscape(std::string_view value, char indicator) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 2);
  for (unsigned char c : value) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '.' || c == ',' || c == ':' || c == '/' || c == '-';
    if (plain && c != static_cast<unsigned char>(indicator)) {
      out += static_cast<char>(c);
    } else {
      out += indicator;
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Result<std::string> hexDecode(std::string_view data, char indicator) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != indicator) {
      out += data[i];
      continue;
    }
    if (i + 2 >= data.size())
      return fail(ErrorCode::kParse, fmt::format("^FH escape '{}' at offset {} is cut short", indicator, i));
    int hi = hexValue(data[i + 1]);
    int lo = hexValue(data[i + 2]);
    if (hi < 0 || lo < 0)
      return fail(ErrorCode::kParse, fmt::format("^FH escape at offset {} is not two hex digits", i));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<Layout> interpret(std::string_view text) {
  Layout layout;
  struct Field {
    int x = 0, y = 0;
    bool typeset = false;  // ^FT: y is the baseline / bottom
    std::optional<char> hex;
    std::optional<std::string> data;
    std::optional<Box> box;
    std::optional<Barcode> barcode;
    std::optional<Text> font;  // ^A for this field
  } field;
  int homeX = 0, homeY = 0;
  Text defaultFont;
  int byModule = 2, byHeight = 10;
  double byRatio = 3.0;
  int barcodeIndex = 0;

  auto finishField = [&]() -> Status {
    int x = field.x + homeX, y = field.y + homeY;
    std::string data;
    if (field.data) {
      if (field.hex) {
        auto decoded = hexDecode(*field.data, *field.hex);
        if (!decoded)
          return fail(ErrorCode::kParse, fmt::format("field at {},{}: {}", x, y, decoded.error().message));
        data = *decoded;
      } else {
        data = *field.data;
      }
    }
    if (field.box) {
      Box b = *field.box;
      b.x = x;
      b.y = field.typeset ? y - b.height : y;
      layout.boxes.push_back(b);
    } else if (field.barcode && field.data) {
      Barcode b = *field.barcode;
      b.x = x;
      b.y = field.typeset ? y - b.height : y;
      b.data = data;
      switch (b.symbology) {
        case Symbology::kGs1_128: {
          auto elements = gs1::parseHri(data);
          if (!elements)
            return fail(ErrorCode::kInvalidArgument, b.describe() + ": " + elements.error().message);
          b.content = elements->toRaw();
          break;
        }
        case Symbology::kCode128: {
          auto c = code128Content(data);
          if (!c) return std::unexpected(c.error());
          b.content = c->first;
          if (c->second) {
            b.symbology = Symbology::kGs1_128;
            auto elements = gs1::parse(b.content);
            if (!elements)
              return fail(ErrorCode::kInvalidArgument, b.describe() + ": " + elements.error().message);
          }
          break;
        }
        case Symbology::kQrCode: {
          // "QA,text": error correction, input mode A(utomatic), comma, data.
          if (data.size() < 3 || data[2] != ',' || (data[1] != 'A' && data[1] != 'a'))
            return fail(ErrorCode::kInvalidArgument,
                        b.describe() + ": QR field data must start with e.g. \"QA,\" (automatic input mode)");
          b.content = data.substr(3);
          break;
        }
        case Symbology::kDataMatrix: {
          char esc = '~';
          if (auto it = field.barcode->data.size(); it > 0) esc = field.barcode->data[0];
          std::string content;
          bool gs1 = false;
          for (size_t i = 0; i < data.size(); ++i) {
            if (data[i] == esc && i + 1 < data.size() && data[i + 1] == esc) {  // doubled: the character itself
              content += esc;
              ++i;
              continue;
            }
            if (data[i] == esc && i + 1 < data.size() && data[i + 1] == '1') {
              if (i == 0) gs1 = true;
              else content += '\x1d';
              ++i;
              continue;
            }
            content += data[i];
          }
          b.content = content;
          if (gs1) {
            b.symbology = Symbology::kGs1DataMatrix;
            auto elements = gs1::parse(content);
            if (!elements)
              return fail(ErrorCode::kInvalidArgument, b.describe() + ": " + elements.error().message);
          }
          break;
        }
        case Symbology::kEan13:
        case Symbology::kCode39:
        case Symbology::kGs1DataMatrix:
          b.content = data;
          break;
      }
      b.data = data;
      layout.barcodes.push_back(std::move(b));
    } else if (field.data) {
      Text t = field.font ? *field.font : defaultFont;
      t.x = x;
      t.y = field.typeset ? std::max(0, y - t.height) : y;
      t.text = data;
      layout.texts.push_back(std::move(t));
    }
    field = Field{};
    return ok();
  };

  for (const auto& c : tokenize(text)) {
    if (c.prefix != '^') continue;
    auto p = splitParams(c.params);
    const std::string& k = c.code;
    if (k == "XA") {
      field = Field{};
    } else if (k == "XZ") {
      if (field.data || field.box) {
        if (auto s = finishField(); !s) return std::unexpected(s.error());
      }
    } else if (k == "FO" || k == "FT") {
      field.x = toInt(p, 0, 0);
      field.y = toInt(p, 1, 0);
      field.typeset = k == "FT";
    } else if (k == "LH") {
      homeX = toInt(p, 0, 0);
      homeY = toInt(p, 1, 0);
    } else if (k == "PW") {
      layout.widthDots = toInt(p, 0, 0);
    } else if (k == "LL") {
      layout.lengthDots = toInt(p, 0, 0);
    } else if (k == "PQ") {
      layout.quantity = std::max(1, toInt(p, 0, 1));
    } else if (k == "CI") {
      layout.utf8 = toInt(p, 0, 0) == 28;
    } else if (k == "CF") {
      defaultFont.font = toChar(p, 0, '0');
      defaultFont.height = toInt(p, 1, defaultFont.height);
      defaultFont.width = toInt(p, 2, defaultFont.height);
    } else if (k == "A") {
      Text t = defaultFont;
      if (!c.params.empty()) t.font = c.params[0];
      auto q = splitParams(c.params.size() > 1 ? std::string_view(c.params).substr(1) : std::string_view());
      if (!q.empty() && !q[0].empty()) t.orientation = q[0][0];
      t.height = toInt(q, 1, t.height);
      t.width = toInt(q, 2, t.height);
      field.font = t;
    } else if (k == "BY") {
      byModule = toInt(p, 0, byModule);
      byRatio = toDouble(p, 1, byRatio);
      byHeight = toInt(p, 2, byHeight);
    } else if (k == "BC" || k == "B3" || k == "BE" || k == "BQ" || k == "BX") {
      Barcode b;
      b.index = ++barcodeIndex;
      b.moduleWidth = byModule;
      b.ratio = byRatio;
      b.orientation = toChar(p, 0, 'N');
      if (k == "BC") {
        b.height = toInt(p, 1, byHeight);
        b.humanReadable = toChar(p, 2, 'Y') == 'Y';
        char mode = toChar(p, 5, 'N');
        b.symbology = mode == 'D' ? Symbology::kGs1_128 : Symbology::kCode128;
      } else if (k == "B3") {
        b.symbology = Symbology::kCode39;
        b.height = toInt(p, 2, byHeight);
        b.humanReadable = toChar(p, 3, 'Y') == 'Y';
      } else if (k == "BE") {
        b.symbology = Symbology::kEan13;
        b.height = toInt(p, 1, byHeight);
        b.humanReadable = toChar(p, 2, 'Y') == 'Y';
      } else if (k == "BQ") {
        b.symbology = Symbology::kQrCode;
        b.moduleWidth = toInt(p, 2, 3);
      } else {  // BX
        b.symbology = Symbology::kDataMatrix;
        b.moduleWidth = toInt(p, 1, byModule);
        // Remember the escape character (param g) for FNC1 (`_1`) in data.
        b.data = std::string(1, toChar(p, 6, '~'));
      }
      field.barcode = b;
    } else if (k.size() == 2 && k[0] == 'B' && k != "BY" && (std::isdigit(static_cast<unsigned char>(k[1])) ||
                                                            std::isupper(static_cast<unsigned char>(k[1])))) {
      layout.unsupportedBarcodes.push_back(fmt::format("^{} at {},{}", k, field.x + homeX, field.y + homeY));
    } else if (k == "GB") {
      Box b;
      b.thickness = std::max(1, toInt(p, 2, 1));
      b.width = std::max(b.thickness, toInt(p, 0, b.thickness));
      b.height = std::max(b.thickness, toInt(p, 1, b.thickness));
      b.black = toChar(p, 3, 'B') != 'W';
      field.box = b;
    } else if (k == "FH") {
      field.hex = c.params.empty() ? '_' : c.params[0];
    } else if (k == "FD" || k == "FV") {
      field.data = c.params;
    } else if (k == "FS") {
      if (auto s = finishField(); !s) return std::unexpected(s.error());
    }
  }
  return layout;
}

FormatCheck checkFormats(std::string_view text) {
  FormatCheck check;
  bool inFormat = false;
  for (const auto& c : tokenize(text)) {
    if (c.prefix != '^') continue;
    if (c.code == "XA") {
      if (inFormat) {
        check.balanced = false;
        check.problem = fmt::format("^XA at byte {} opens a format inside another (missing ^XZ)", c.offset);
        return check;
      }
      inFormat = true;
    } else if (c.code == "XZ") {
      if (!inFormat) {
        check.balanced = false;
        check.problem = fmt::format("^XZ at byte {} closes a format that was never opened", c.offset);
        return check;
      }
      inFormat = false;
      ++check.formats;
    } else if (!inFormat && c.code != "CC" && c.code != "CT" && c.code != "CD") {
      check.balanced = false;
      check.problem = fmt::format("^{} at byte {} is outside ^XA … ^XZ", c.code, c.offset);
      return check;
    }
  }
  if (inFormat) {
    check.balanced = false;
    check.problem = "the last format is not closed with ^XZ";
  }
  if (check.balanced && check.formats == 0) {
    check.balanced = false;
    check.problem = "no format (^XA … ^XZ) found";
  }
  return check;
}

}  // namespace floorlink::printers::zpl
