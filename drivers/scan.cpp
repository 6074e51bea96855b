#include "drivers/scan.h"

#include <algorithm>
#include <charconv>

namespace floorlink::drivers {
namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\x1d') out += "<GS>";
    else if (c == '\r') out += "<CR>";
    else if (c == '\n') out += "<LF>";
    else if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "<";
      out += kHex[u >> 4];
      out += kHex[u & 15];
      out += ">";
    } else out += c;
  }
  return out;
}

Result<std::optional<std::regex>> compile(const std::string& pattern, std::string_view what) {
  if (pattern.empty()) return std::optional<std::regex>{};
  try {
    return std::optional<std::regex>(std::regex(pattern, std::regex::ECMAScript | std::regex::optimize));
  } catch (const std::regex_error& e) {
    return fail(ErrorCode::kInvalidArgument,
                std::string(what) + " pattern \"" + pattern + "\" is not a valid regular expression: " + e.what());
  }
}

// Group 1 if the pattern has one, else the whole match.
std::optional<std::string> matchPattern(const std::optional<std::regex>& re, const std::string& data) {
  if (!re) return std::nullopt;
  std::smatch m;
  if (!std::regex_match(data, m, *re)) return std::nullopt;
  if (m.size() > 1 && m[1].matched) return m[1].str();
  return data;
}

Status fillFromGs1(ScanValue& v, gs1::ElementString es) {
  if (const auto* e = es.find("00")) {
    v.kind = ScanKind::kSscc;
    v.sscc = e->value;
  } else if (const auto* g = es.find("01")) {
    v.kind = ScanKind::kGtin;
    v.gtin = g->value;
  } else if (const auto* c = es.find("02")) {
    v.kind = ScanKind::kGtin;
    v.gtin = c->value;
  } else {
    v.kind = ScanKind::kText;
  }
  if (const auto* e = es.find("10")) v.lot = e->value;
  if (const auto* e = es.find("21")) v.serial = e->value;
  if (const auto* e = es.find("17")) v.expiry = gs1::parseDate(e->value).value();
  if (const auto* e = es.find("15")) v.bestBefore = gs1::parseDate(e->value).value();
  const auto* count = es.find("37");
  if (!count) count = es.find("30");
  if (count) {
    int64_t n = 0;
    std::from_chars(count->value.data(), count->value.data() + count->value.size(), n);
    v.count = n;
  }
  v.gs1 = std::move(es);
  return ok();
}

}  // namespace

std::string_view toString(Symbology s) {
  switch (s) {
    case Symbology::kUnknown: return "unknown";
    case Symbology::kCode128: return "code128";
    case Symbology::kGs1_128: return "gs1-128";
    case Symbology::kEan13: return "ean13";
    case Symbology::kEan8: return "ean8";
    case Symbology::kUpcE: return "upc-e";
    case Symbology::kCode39: return "code39";
    case Symbology::kCode93: return "code93";
    case Symbology::kInterleaved2of5: return "itf";
    case Symbology::kCodabar: return "codabar";
    case Symbology::kGs1DataBar: return "gs1-databar";
    case Symbology::kDataMatrix: return "datamatrix";
    case Symbology::kGs1DataMatrix: return "gs1-datamatrix";
    case Symbology::kQrCode: return "qrcode";
    case Symbology::kGs1QrCode: return "gs1-qrcode";
    case Symbology::kPdf417: return "pdf417";
    case Symbology::kAztec: return "aztec";
    case Symbology::kOther: return "other";
  }
  return "unknown";
}

std::string_view toString(ScanKind kind) {
  switch (kind) {
    case ScanKind::kSscc: return "sscc";
    case ScanKind::kGtin: return "gtin";
    case ScanKind::kBinLabel: return "bin";
    case ScanKind::kCommand: return "command";
    case ScanKind::kText: return "text";
  }
  return "text";
}

AimIdentifier parseAimIdentifier(std::string_view d) {
  AimIdentifier a;
  // ISO/IEC 15424: "]" + code character + modifier character.
  if (d.size() < 3 || d[0] != ']') return a;
  char code = d[1], mod = d[2];
  bool modOk = (mod >= '0' && mod <= '9') || (mod >= 'A' && mod <= 'Z') || (mod >= 'a' && mod <= 'z');
  bool codeOk = (code >= 'A' && code <= 'Z') || (code >= 'a' && code <= 'z');
  if (!modOk || !codeOk) return a;
  a.id = std::string(d.substr(0, 3));
  switch (code) {
    case 'C':
      a.gs1 = mod == '1';
      a.symbology = a.gs1 ? Symbology::kGs1_128 : Symbology::kCode128;
      break;
    case 'E': a.symbology = mod == '4' ? Symbology::kEan8 : Symbology::kEan13; break;
    case 'A': a.symbology = Symbology::kCode39; break;
    case 'G': a.symbology = Symbology::kCode93; break;
    case 'I': a.symbology = Symbology::kInterleaved2of5; break;
    case 'F': a.symbology = Symbology::kCodabar; break;
    case 'e':
      a.gs1 = true;
      a.symbology = Symbology::kGs1DataBar;
      break;
    case 'd':
      a.gs1 = mod == '2' || mod == '5';
      a.symbology = a.gs1 ? Symbology::kGs1DataMatrix : Symbology::kDataMatrix;
      break;
    case 'Q':
      a.gs1 = mod == '3' || mod == '4';
      a.symbology = a.gs1 ? Symbology::kGs1QrCode : Symbology::kQrCode;
      break;
    case 'L': a.symbology = Symbology::kPdf417; break;
    case 'z':
      a.gs1 = mod == '1' || mod == '4' || mod == '7' || mod == 'A' || mod == 'D';
      a.symbology = Symbology::kAztec;
      break;
    default: a.symbology = Symbology::kOther; break;
  }
  return a;
}

Result<ScanClassifier> ScanClassifier::create(const ClassifierOptions& options) {
  ScanClassifier c;
  auto bin = compile(options.binLabelPattern, "bin label");
  if (!bin) return std::unexpected(bin.error());
  auto cmd = compile(options.commandPattern, "command barcode");
  if (!cmd) return std::unexpected(cmd.error());
  c.bin_ = std::move(*bin);
  c.command_ = std::move(*cmd);
  return c;
}

Result<ScanValue> ScanClassifier::classify(std::string_view frame) const {
  ScanValue v;
  v.raw = std::string(frame);
  AimIdentifier aim = parseAimIdentifier(frame);
  v.aimId = aim.id;
  v.symbology = aim.symbology;
  v.data = std::string(frame.substr(aim.id.size()));
  if (v.data.empty()) return fail(ErrorCode::kParse, "empty scan" + (aim.id.empty() ? "" : " after " + aim.id));

  bool gs1 = aim.gs1 || (aim.id.empty() && v.data.front() == gs1::kGroupSeparator);
  if (gs1) {
    auto es = gs1::parse(v.data);
    if (!es) {
      return fail(ErrorCode::kParse, es.error().message + " in scan \"" + printable(v.raw) + "\"");
    }
    (void)fillFromGs1(v, std::move(*es));
    return v;
  }
  if (auto cmd = matchPattern(command_, v.data)) {
    v.kind = ScanKind::kCommand;
    v.command = *cmd;
    return v;
  }
  if (auto bin = matchPattern(bin_, v.data)) {
    v.kind = ScanKind::kBinLabel;
    v.bin = *bin;
    return v;
  }
  bool ean = aim.symbology == Symbology::kEan13 || aim.symbology == Symbology::kEan8 ||
             aim.symbology == Symbology::kUpcE;
  size_t n = v.data.size();
  bool gtinShaped = allDigits(v.data) && (n == 8 || n == 12 || n == 13 || n == 14);
  if ((ean || aim.id.empty() || aim.symbology == Symbology::kInterleaved2of5) && gtinShaped) {
    if (!gs1::hasValidCheckDigit(v.data)) {
      if (ean) {
        return fail(ErrorCode::kParse, "EAN/UPC " + v.data + ": check digit is wrong (expected " +
                                           std::to_string(*gs1::checkDigit(v.data.substr(0, n - 1))) + ")");
      }
    } else {
      v.kind = ScanKind::kGtin;
      v.gtin = std::string(14 - n, '0') + v.data;
      return v;
    }
  }
  if (ean) return fail(ErrorCode::kParse, "EAN/UPC scan \"" + printable(v.data) + "\" is not 8, 12 or 13 digits");
  v.kind = ScanKind::kText;
  return v;
}

Result<FrameSuffix> parseFrameSuffix(std::string_view text) {
  if (text == "cr") return FrameSuffix::kCr;
  if (text == "lf") return FrameSuffix::kLf;
  if (text == "crlf") return FrameSuffix::kCrLf;
  if (text == "none") return FrameSuffix::kNone;
  return fail(ErrorCode::kInvalidArgument, "suffix \"" + std::string(text) + "\" is not one of cr, lf, crlf, none");
}

Result<std::string> ScanFramer::finish(std::string frame) {
  if (!options_.prefix.empty()) {
    if (!frame.starts_with(options_.prefix)) {
      return fail(ErrorCode::kParse, "scan \"" + printable(frame) + "\" does not start with the configured prefix \"" +
                                         printable(options_.prefix) + "\" (check the scanner's prefix setting)");
    }
    frame.erase(0, options_.prefix.size());
  }
  return frame;
}

void ScanFramer::feed(std::span<const uint8_t> bytes, std::vector<Result<std::string>>& out) {
  for (uint8_t b : bytes) {
    char c = static_cast<char>(b);
    if (options_.fixedLength > 0) {
      buffer_.push_back(c);
      if (buffer_.size() == options_.fixedLength) {
        out.push_back(finish(std::move(buffer_)));
        buffer_.clear();
      }
      continue;
    }
    bool end = false;
    switch (options_.suffix) {
      case FrameSuffix::kCr:
        end = c == '\r';
        if (c == '\n' && buffer_.empty()) continue;  // CRLF from a scanner set to CR: drop the LF
        break;
      case FrameSuffix::kLf:
        end = c == '\n';
        break;
      case FrameSuffix::kCrLf:
        // CR LF ends a frame; a lone CR or LF ends it too, since neither can
        // be part of barcode data sent by a scanner in this mode.
        if (c == '\n' && buffer_.empty() && lastWasCr_) {
          lastWasCr_ = false;
          continue;
        }
        lastWasCr_ = c == '\r';
        end = c == '\r' || c == '\n';
        break;
      case FrameSuffix::kNone: break;
    }
    if (end) {
      if (options_.suffix == FrameSuffix::kLf && !buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
      if (overflow_) {
        overflow_ = false;
        buffer_.clear();
        continue;
      }
      if (buffer_.empty()) continue;  // blank line
      out.push_back(finish(std::move(buffer_)));
      buffer_.clear();
      continue;
    }
    if (overflow_) continue;
    buffer_.push_back(c);
    if (buffer_.size() > options_.maxFrame) {
      out.push_back(fail(ErrorCode::kParse, "scan longer than " + std::to_string(options_.maxFrame) +
                                                " bytes without the configured suffix (check the scanner's suffix "
                                                "setting); dropped"));
      buffer_.clear();
      overflow_ = options_.suffix != FrameSuffix::kNone;
    }
  }
}

std::optional<Result<std::string>> ScanFramer::flush() {
  overflow_ = false;
  if (buffer_.empty()) return std::nullopt;
  std::string frame = std::move(buffer_);
  buffer_.clear();
  if (options_.suffix != FrameSuffix::kNone || options_.fixedLength > 0) {
    return fail(ErrorCode::kParse, "incomplete scan \"" + printable(frame) +
                                       "\": the configured suffix or length never arrived (check the scanner's "
                                       "suffix setting)");
  }
  return finish(std::move(frame));
}

std::optional<Result<std::string>> HidPosReportDecoder::feed(std::span<const uint8_t> report) {
  // Devices without report ids (reportId_ 0) send the same layout without
  // the id byte.
  std::span<const uint8_t> r = report;
  if (reportId_ != 0) {
    if (r.empty() || r[0] != reportId_) return std::nullopt;  // status or other reports: not scan data
    r = r.subspan(1);
  }
  if (r.size() < 5) {
    return fail(ErrorCode::kParse, "HID POS report of " + std::to_string(report.size()) + " bytes is too short");
  }
  size_t len = r[0];
  size_t avail = r.size() - 5;  // length, 3 symbology bytes, continuation flag
  if (len > avail) {
    pending_.clear();
    return fail(ErrorCode::kParse, "HID POS report says " + std::to_string(len) + " data bytes, carries at most " +
                                       std::to_string(avail));
  }
  if (pending_.empty()) {
    if (r[1] == ']') {
      pending_.assign(reinterpret_cast<const char*>(&r[1]), 3);
    } else if (r[1] != 0) {
      pending_ = "]";
      pending_.push_back(static_cast<char>(r[1]));
      if (r[2] != 0) pending_.push_back(static_cast<char>(r[2]));
    }
  }
  pending_.append(reinterpret_cast<const char*>(&r[4]), len);
  if (pending_.size() > 8192) {
    pending_.clear();
    return fail(ErrorCode::kParse, "HID POS scan longer than 8192 bytes; dropped");
  }
  if (r.back() & 0x01) return std::nullopt;  // more reports follow
  std::string frame = std::move(pending_);
  pending_.clear();
  return Result<std::string>(std::move(frame));
}

}  // namespace floorlink::drivers
