#include "printers/host_status.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace floorlink::printers {
namespace {

constexpr char kStx = '\x02';
constexpr char kEtx = '\x03';

std::vector<std::string_view> frames(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    size_t a = s.find(kStx, i);
    if (a == std::string_view::npos) break;
    size_t b = s.find(kEtx, a + 1);
    if (b == std::string_view::npos) break;
    out.push_back(s.substr(a + 1, b - a - 1));
    i = b + 1;
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start));
    if (c == std::string_view::npos) break;
    start = c + 1;
  }
  return out;
}

Result<int64_t> number(std::string_view f, std::string_view what, size_t maxDigits) {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
  if (f.empty() || f.size() > maxDigits)
    return fail(ErrorCode::kParse, fmt::format("~HS field {} is \"{}\", expected up to {} digits", what, f, maxDigits));
  int64_t v = 0;
  auto r = std::from_chars(f.data(), f.data() + f.size(), v);
  if (r.ec != std::errc{} || r.ptr != f.data() + f.size() || v < 0)
    return fail(ErrorCode::kParse, fmt::format("~HS field {} is \"{}\", not a number", what, f));
  return v;
}

Result<bool> flag(std::string_view f, std::string_view what) {
  if (f == "0") return false;
  if (f == "1") return true;
  return fail(ErrorCode::kParse, fmt::format("~HS flag {} is \"{}\", expected 0 or 1", what, f));
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace

FrameScan scanFrames(std::string_view buffer) {
  FrameScan scan;
  size_t i = 0;
  while (true) {
    size_t a = buffer.find(kStx, i);
    if (a == std::string_view::npos) break;
    size_t b = buffer.find(kEtx, a + 1);
    if (b == std::string_view::npos) break;
    size_t end = b + 1;
    while (end < buffer.size() && (buffer[end] == '\r' || buffer[end] == '\n')) ++end;
    ++scan.frames;
    scan.bytes = end;
    i = end;
  }
  return scan;
}

std::string HostStatus::faults() const {
  std::vector<std::string> f;
  if (paperOut) f.push_back("paper out");
  if (headOpen) f.push_back("head open");
  if (ribbonOut) f.push_back("ribbon out");
  if (paused) f.push_back("paused");
  if (bufferFull) f.push_back("receive buffer full");
  if (corruptRam) f.push_back("configuration lost (corrupt RAM)");
  if (underTemperature) f.push_back("under temperature");
  if (overTemperature) f.push_back("over temperature");
  if (diagnosticMode) f.push_back("in communications diagnostic mode");
  return fmt::format("{}", fmt::join(f, ", "));
}

std::string HostStatus::reply() const {
  return fmt::format(
      "\x02{:03d},{:d},{:d},{:04d},{:03d},{:d},{:d},{:d},000,{:d},{:d},{:d}\x03\r\n"
      "\x02{:03d},0,{:d},{:d},{:d},{:d},{:d},{:d},{:08d},1,{:03d}\x03\r\n"
      "\x02{:04d},{:d}\x03\r\n",
      interfaceSettings, paperOut, paused, labelLengthDots, formatsInBuffer, bufferFull, diagnosticMode,
      partialFormat, corruptRam, underTemperature, overTemperature, functionSettings, headOpen, ribbonOut,
      thermalTransfer, printMode, printWidthMode, labelWaiting, labelsRemaining, graphicsStored, password,
      staticRam);
}

Result<HostStatus> parseHostStatus(std::string_view reply) {
  auto f = frames(reply);
  if (f.size() != 3)
    return fail(ErrorCode::kParse, fmt::format("~HS reply has {} of 3 <STX>…<ETX> strings: \"{}\"", f.size(),
                                               printable(reply)));
  HostStatus s;
  auto a = fields(f[0]);
  if (a.size() != 12)
    return fail(ErrorCode::kParse,
                fmt::format("~HS string 1 has {} of 12 fields: \"{}\"", a.size(), printable(f[0])));
  auto b = fields(f[1]);
  if (b.size() != 11)
    return fail(ErrorCode::kParse,
                fmt::format("~HS string 2 has {} of 11 fields: \"{}\"", b.size(), printable(f[1])));
  auto c = fields(f[2]);
  if (c.size() != 2)
    return fail(ErrorCode::kParse, fmt::format("~HS string 3 has {} of 2 fields: \"{}\"", c.size(), printable(f[2])));

#define FL_NUM(dst, src, what, digits)                       \
  {                                                          \
    auto v = number(src, what, digits);                      \
    if (!v) return std::unexpected(v.error());               \
    dst = static_cast<decltype(dst)>(*v);                    \
  }
#define FL_FLAG(dst, src, what)                              \
  {                                                          \
    auto v = flag(src, what);                                \
    if (!v) return std::unexpected(v.error());               \
    dst = *v;                                                \
  }
  FL_NUM(s.interfaceSettings, a[0], "aaa", 3)
  FL_FLAG(s.paperOut, a[1], "paper out")
  FL_FLAG(s.paused, a[2], "pause")
  FL_NUM(s.labelLengthDots, a[3], "label length", 5)
  FL_NUM(s.formatsInBuffer, a[4], "formats in buffer", 3)
  FL_FLAG(s.bufferFull, a[5], "buffer full")
  FL_FLAG(s.diagnosticMode, a[6], "diagnostic mode")
  FL_FLAG(s.partialFormat, a[7], "partial format")
  {
    int unused = 0;
    FL_NUM(unused, a[8], "iii", 3)
    (void)unused;
  }
  FL_FLAG(s.corruptRam, a[9], "corrupt RAM")
  FL_FLAG(s.underTemperature, a[10], "under temperature")
  FL_FLAG(s.overTemperature, a[11], "over temperature")

  FL_NUM(s.functionSettings, b[0], "mmm", 3)
  FL_FLAG(s.headOpen, b[2], "head up")
  FL_FLAG(s.ribbonOut, b[3], "ribbon out")
  FL_FLAG(s.thermalTransfer, b[4], "thermal transfer")
  FL_NUM(s.printMode, b[5], "print mode", 1)
  FL_NUM(s.printWidthMode, b[6], "print width mode", 1)
  FL_FLAG(s.labelWaiting, b[7], "label waiting")
  FL_NUM(s.labelsRemaining, b[8], "labels remaining", 8)
  {
    int formatWhilePrinting = 0;
    FL_NUM(formatWhilePrinting, b[9], "format while printing", 1)
    (void)formatWhilePrinting;
  }
  FL_NUM(s.graphicsStored, b[10], "graphics stored", 3)

  FL_NUM(s.password, c[0], "password", 4)
  FL_FLAG(s.staticRam, c[1], "static RAM")
#undef FL_NUM
#undef FL_FLAG
  return s;
}

std::string HostIdentification::reply() const {
  std::string s = fmt::format("\x02{},{},{},{}", model, firmware, dotsPerMm, memory);
  if (!options.empty()) s += "," + options;
  return s + "\x03\r\n";
}

Result<HostIdentification> parseHostIdentification(std::string_view reply) {
  auto f = frames(reply);
  if (f.size() != 1)
    return fail(ErrorCode::kParse, fmt::format("~HI reply has {} <STX>…<ETX> strings, expected 1: \"{}\"", f.size(),
                                               printable(reply)));
  auto p = fields(f[0]);
  if (p.size() < 4)
    return fail(ErrorCode::kParse, fmt::format("~HI reply has {} fields, expected model,version,dots/mm,memory: \"{}\"",
                                               p.size(), printable(f[0])));
  HostIdentification id;
  id.model = std::string(p[0]);
  id.firmware = std::string(p[1]);
  auto d = number(p[2], "dots/mm", 2);
  if (!d || (*d != 6 && *d != 8 && *d != 12 && *d != 24))
    return fail(ErrorCode::kParse, fmt::format("~HI dots/mm is \"{}\", expected 6, 8, 12 or 24", p[2]));
  id.dotsPerMm = static_cast<int>(*d);
  id.memory = std::string(p[3]);
  for (size_t i = 4; i < p.size(); ++i) {
    if (i > 4) id.options += ",";
    id.options += std::string(p[i]);
  }
  return id;
}

std::string ExtendedStatus::faults() const {
  std::vector<std::string> f;
  if (errorFlags & 0x1) f.push_back("media out");
  if (errorFlags & 0x2) f.push_back("ribbon out");
  if (errorFlags & 0x4) f.push_back("head open");
  if (errorFlags & 0x8) f.push_back("cutter fault");
  if (errorFlags & 0x100) f.push_back("printhead over temperature");
  if (errorFlags & 0x200) f.push_back("motor over temperature");
  if (errorFlags & 0x400) f.push_back("bad printhead element");
  if (errorFlags & 0x800) f.push_back("printhead detection error");
  if (error && f.empty()) f.push_back(fmt::format("error flags {:08X}", errorFlags));
  return fmt::format("{}", fmt::join(f, ", "));
}

std::string ExtendedStatus::reply() const {
  return fmt::format("\x02\r\n PRINTER STATUS\r\n   ERRORS:         {:d} 00000000 {:08X}\r\n"
                     "   WARNINGS:       {:d} 00000000 {:08X}\r\n\x03\r\n",
                     error, errorFlags, warning, warningFlags);
}

Result<ExtendedStatus> parseExtendedStatus(std::string_view reply) {
  auto f = frames(reply);
  if (f.size() != 1) return fail(ErrorCode::kParse, "~HQES reply is not one <STX>…<ETX> block");
  ExtendedStatus st;
  auto parseLine = [&](std::string_view key, bool& set, uint32_t& flags) -> Status {
    size_t k = f[0].find(key);
    if (k == std::string_view::npos)
      return fail(ErrorCode::kParse, fmt::format("~HQES reply lacks \"{}\"", key));
    std::string_view rest = f[0].substr(k + key.size());
    size_t eol = rest.find_first_of("\r\n");
    rest = rest.substr(0, eol);
    char a = 0;
    char groupTwo[9] = {}, groupOne[9] = {};
    if (std::sscanf(std::string(rest).c_str(), " %c %8s %8s", &a, groupTwo, groupOne) != 3 || (a != '0' && a != '1'))
      return fail(ErrorCode::kParse, fmt::format("~HQES line \"{}\" is not \"N XXXXXXXX XXXXXXXX\"", printable(rest)));
    set = a == '1';
    std::string_view g(groupOne);
    auto r = std::from_chars(g.data(), g.data() + g.size(), flags, 16);
    if (r.ec != std::errc{} || g.size() != 8)
      return fail(ErrorCode::kParse, fmt::format("~HQES flags \"{}\" are not 8 hex digits", g));
    return ok();
  };
  if (auto s = parseLine("ERRORS:", st.error, st.errorFlags); !s) return std::unexpected(s.error());
  if (auto s = parseLine("WARNINGS:", st.warning, st.warningFlags); !s) return std::unexpected(s.error());
  return st;
}

}  // namespace floorlink::printers
