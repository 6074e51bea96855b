#include "printers/label_template.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "printers/zpl.h"

namespace floorlink::printers {
namespace {

bool validName(std::string_view n) {
  if (n.empty()) return false;
  std::string_view head = n, tail;
  if (auto dot = n.find('.'); dot != std::string_view::npos) {
    head = n.substr(0, dot);
    tail = n.substr(dot + 1);
    if (head != "field" || tail.empty()) return false;
    return std::all_of(tail.begin(), tail.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
  }
  return std::all_of(head.begin(), head.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

int lineOf(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

std::string scaledInt(const std::string& v, double s) {
  if (v.empty()) return v;
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size()) return v;
    return std::to_string(static_cast<int>(std::lround(n * s)));
  } catch (...) {
    return v;
  }
}

std::string join(const std::vector<std::string>& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) out += ',';
    out += p[i];
  }
  return out;
}

// Module widths are whole dots; refuse a rounding that changes the symbol
// size by more than 20% (scanners and GS1 X-dimension limits would suffer).
Result<std::string> scaledModule(const std::string& v, double s, std::string_view what) {
  if (v.empty()) return v;
  int n = 0;
  try {
    n = std::stoi(v);
  } catch (...) {
    return v;
  }
  double exact = n * s;
  int r = std::max(1, static_cast<int>(std::lround(exact)));
  if (std::abs(r - exact) / exact > 0.2)
    return fail(ErrorCode::kUnsupported,
                fmt::format("cannot scale {} of {} dots by {:.3f}: {} dots would change the barcode size by "
                            "{:.0f}%; design the template for this printer's resolution",
                            what, n, s, r, 100.0 * std::abs(r - exact) / exact));
  return std::to_string(r);
}

}  // namespace

const std::vector<std::string>& knownValueNames() {
  static const std::vector<std::string> kNames = {
      "sscc", "date", "time", "station", "task_id", "order_id", "wave_id", "printer",
      "agent", "site", "tracking", "carrier", "job_id", "copy"};
  return kNames;
}

int dpiToDotsPerMm(int dpi) {
  switch (dpi) {
    case 152: return 6;
    case 203: return 8;
    case 300: return 12;
    case 600: return 24;
    default: return 0;
  }
}

int dotsPerMmToDpi(int d) {
  switch (d) {
    case 6: return 152;
    case 8: return 203;
    case 12: return 300;
    case 24: return 600;
    default: return 0;
  }
}

Result<std::string> scaleZpl(std::string_view zpl, int from, int to) {
  if (from <= 0 || to <= 0)
    return fail(ErrorCode::kInvalidArgument, "cannot scale a label: resolution unknown");
  if (from == to) return std::string(zpl);
  double s = static_cast<double>(to) / from;
  auto commands = zpl::tokenize(zpl);
  std::string out(zpl.substr(0, commands.empty() ? zpl.size() : commands.front().offset));
  for (const auto& c : commands) {
    std::string original(zpl.substr(c.offset, c.length));
    if (c.prefix != '^') {
      out += original;
      continue;
    }
    auto p = zpl::splitParams(c.params);
    auto at = [&](size_t i) { if (p.size() <= i) p.resize(i + 1); return &p[i]; };
    const std::string& k = c.code;
    bool changed = true;
    if (k == "FO" || k == "FT" || k == "LH") {
      *at(0) = scaledInt(*at(0), s);
      *at(1) = scaledInt(*at(1), s);
    } else if (k == "GB") {
      for (size_t i = 0; i < 3 && i < p.size(); ++i) p[i] = scaledInt(p[i], s);
    } else if (k == "PW" || k == "LL" || k == "FB" || k == "LT" || k == "LS") {
      if (!p.empty()) p[0] = scaledInt(p[0], s);
    } else if (k == "CF") {
      for (size_t i = 1; i < 3 && i < p.size(); ++i) p[i] = scaledInt(p[i], s);
    } else if (k == "A") {
      if (c.params.size() < 1) { out += original; continue; }
      auto q = zpl::splitParams(std::string_view(c.params).substr(1));
      for (size_t i = 1; i < 3 && i < q.size(); ++i) q[i] = scaledInt(q[i], s);
      out += "^A" + std::string(1, c.params[0]) + join(q);
      continue;
    } else if (k == "BY") {
      auto m = scaledModule(*at(0), s, "^BY module width");
      if (!m) return std::unexpected(m.error());
      p[0] = *m;
      if (p.size() > 2) p[2] = scaledInt(p[2], s);
    } else if (k == "BC" || k == "BE") {
      if (p.size() > 1) p[1] = scaledInt(p[1], s);
    } else if (k == "B3") {
      if (p.size() > 2) p[2] = scaledInt(p[2], s);
    } else if (k == "BQ") {
      if (p.size() > 2) {
        auto m = scaledModule(p[2], s, "^BQ magnification");
        if (!m) return std::unexpected(m.error());
        p[2] = *m;
      }
    } else if (k == "BX") {
      if (p.size() > 1) {
        auto m = scaledModule(p[1], s, "^BX module size");
        if (!m) return std::unexpected(m.error());
        p[1] = *m;
      }
    } else {
      changed = false;
    }
    if (changed) out += "^" + k + join(p);
    else out += original;
  }
  return out;
}

Result<LabelTemplate> LabelTemplate::parse(std::string name, std::string_view text) {
  LabelTemplate t;
  t.name_ = std::move(name);
  auto err = [&](int line, const std::string& what) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("label template '{}' line {}: {}", t.name_, line, what));
  };

  // Header: leading lines starting with '#'.
  size_t pos = 0;
  bool haveDpi = false;
  int line = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view l = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    std::string_view trimmed = l;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    if (trimmed.empty() && !haveDpi) { pos = eol == std::string_view::npos ? text.size() : eol + 1; ++line; continue; }
    if (trimmed.empty() || trimmed.front() != '#') break;
    ++line;
    auto colon = trimmed.find(':');
    if (colon != std::string_view::npos) {
      std::string key(trimmed.substr(1, colon - 1));
      std::erase(key, ' ');
      std::string value(trimmed.substr(colon + 1));
      std::erase(value, ' ');
      std::erase(value, '\r');
      if (key == "dpi") {
        try {
          t.designDpi_ = std::stoi(value);
        } catch (...) {
          t.designDpi_ = 0;
        }
        if (dpiToDotsPerMm(t.designDpi_) == 0)
          return err(line, "dpi must be 152, 203, 300 or 600, got \"" + value + "\"");
        haveDpi = true;
      }
    }
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
  }
  if (!haveDpi)
    return err(1, "missing \"# dpi: 203\" header (the resolution the label was designed for)");
  const size_t bodyStart = pos;
  std::string body(text.substr(bodyStart));
  auto bodyLine = [&](size_t offset) { return lineOf(text, bodyStart + offset); };

  // Placeholders: names and positions.
  struct Found {
    size_t begin, end;
    std::string name;
  };
  std::vector<Found> found;
  for (size_t i = body.find("{{"); i != std::string::npos; i = body.find("{{", i + 2)) {
    size_t close = body.find("}}", i + 2);
    if (close == std::string::npos) return err(bodyLine(i), "'{{' without '}}'");
    std::string n = body.substr(i + 2, close - i - 2);
    std::erase(n, ' ');
    if (!validName(n))
      return err(bodyLine(i), "invalid placeholder {{" + n + "}} (use {{field.NAME}} or an agent value)");
    if (n.find('.') == std::string::npos &&
        std::find(knownValueNames().begin(), knownValueNames().end(), n) == knownValueNames().end())
      return err(bodyLine(i), "unknown placeholder {{" + n + "}}; known: field.NAME, " +
                                  fmt::format("{}", fmt::join(knownValueNames(), ", ")));
    found.push_back({i, close + 2, n});
  }

  // Where may a placeholder sit? Only in ^FD/^FV data; fields holding one get ^FH.
  auto commands = zpl::tokenize(body);
  struct Insert {
    size_t at;
    std::string text;
  };
  std::vector<Insert> inserts;
  std::vector<std::pair<size_t, size_t>> escapeLiteralUnderscores;  // FD ranges needing '_' -> _5F
  std::map<size_t, char> indicatorAt;                               // placeholder begin -> indicator
  std::set<size_t> code128At;                                       // placeholder begins inside ^BC data
  std::map<size_t, char> matrixEscapeAt;                            // ... inside ^BX quality 200 data
  for (size_t ci = 0; ci < commands.size(); ++ci) {
    const auto& c = commands[ci];
    size_t cEnd = c.offset + c.length;
    bool has = false;
    for (const auto& f : found)
      if (f.begin >= c.offset && f.begin < cEnd) has = true;
    if (!has) continue;
    if (c.prefix != '^' || (c.code != "FD" && c.code != "FV"))
      return err(bodyLine(c.offset), fmt::format("placeholder inside {}{}: placeholders may only stand in field "
                                                 "data (^FD … ^FS)", c.prefix, c.code));
    bool code128 = false;
    char matrixEscape = 0;
    for (size_t back = ci; back-- > 0;) {
      const auto& b = commands[back];
      if (b.prefix == '^' && (b.code == "FS" || b.code == "XA")) break;
      if (b.prefix == '^' && b.code == "BC") code128 = true;
      if (b.prefix == '^' && b.code == "BX") {
        // ^BXo,h,s,c,r,f,g: escape sequences (g, default '~') only at quality 200.
        std::vector<std::string> params{""};
        for (char ch : b.params) {
          if (ch == ',') params.emplace_back();
          else params.back() += ch;
        }
        if (params.size() > 2 && params[2] == "200")
          matrixEscape = params.size() > 6 && !params[6].empty() ? params[6][0] : '~';
      }
    }
    std::optional<char> indicator;
    for (size_t back = ci; back-- > 0;) {
      const auto& b = commands[back];
      if (b.prefix == '^' && (b.code == "FS" || b.code == "XA")) break;
      if (b.prefix == '^' && b.code == "FH") {
        indicator = b.params.empty() ? '_' : b.params[0];
        // The indicator must not be a command prefix, a hex digit or a character values may carry plainly.
        if (*indicator == '^' || *indicator == '~' || std::isalnum(static_cast<unsigned char>(*indicator)) ||
            *indicator == ' ' || *indicator == '.' || *indicator == ',' || *indicator == ':' || *indicator == '/' ||
            *indicator == '-' || static_cast<unsigned char>(*indicator) < 0x21 ||
            static_cast<unsigned char>(*indicator) > 0x7e)
          return err(bodyLine(b.offset), fmt::format("^FH indicator '{}' cannot escape values safely; use ^FH "
                                                     "(default '_')", *indicator));
        break;
      }
    }
    if (!indicator) {
      indicator = '_';
      inserts.push_back({c.offset, "^FH_"});
      escapeLiteralUnderscores.emplace_back(c.offset + 3, cEnd);
    }
    for (const auto& f : found)
      if (f.begin >= c.offset && f.begin < cEnd) {
        indicatorAt[f.begin] = *indicator;
        if (code128) code128At.insert(f.begin);
        if (matrixEscape) matrixEscapeAt[f.begin] = matrixEscape;
      }
  }

  // Balanced formats (placeholders do not change structure).
  auto check = zpl::checkFormats(body);
  if (!check.balanced) return err(bodyLine(0), check.problem);
  bool hasCi28 = false;
  for (const auto& c : commands)
    if (c.prefix == '^' && c.code == "CI" && c.params == "28") hasCi28 = true;
  if (!hasCi28)
    for (const auto& c : commands)
      if (c.prefix == '^' && c.code == "XA") inserts.push_back({c.offset + c.length, "^CI28"});

  // Build pieces: walk the body, emitting inserts, escaped literals and placeholders.
  std::sort(inserts.begin(), inserts.end(), [](const Insert& a, const Insert& b) { return a.at < b.at; });
  std::string literal;
  size_t nextInsert = 0, nextFound = 0;
  auto inEscapeRange = [&](size_t i) {
    for (auto [b, e] : escapeLiteralUnderscores)
      if (i >= b && i < e) return true;
    return false;
  };
  for (size_t i = 0; i <= body.size();) {
    while (nextInsert < inserts.size() && inserts[nextInsert].at == i) literal += inserts[nextInsert++].text;
    if (i == body.size()) break;
    if (nextFound < found.size() && found[nextFound].begin == i) {
      t.pieces_.push_back({literal, false, '_'});
      literal.clear();
      t.pieces_.push_back({found[nextFound].name, true, indicatorAt.count(i) ? indicatorAt[i] : '_',
                           code128At.count(i) > 0, matrixEscapeAt.count(i) ? matrixEscapeAt[i] : '\0'});
      t.placeholders_.insert(found[nextFound].name);
      i = found[nextFound].end;
      ++nextFound;
      continue;
    }
    if (body[i] == '_' && inEscapeRange(i)) literal += "_5F";
    else literal += body[i];
    ++i;
  }
  if (!literal.empty()) t.pieces_.push_back({literal, false, '_'});
  return t;
}

Result<LabelTemplate> LabelTemplate::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return fail(ErrorCode::kIo, "cannot read label template " + file.string() + ": check labels.templates_dir");
  std::stringstream ss;
  ss << in.rdbuf();
  auto t = parse(file.stem().string(), ss.str());
  if (!t) return fail(t.error().code, file.string() + ": " + t.error().message);
  return t;
}

Result<std::string> LabelTemplate::fill(const LabelValues& values, int printerDotsPerMm) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    const std::string* v = nullptr;
    if (p.text.starts_with("field.")) {
      auto it = values.fields.find(p.text.substr(6));
      if (it != values.fields.end()) v = &it->second;
      if (!v)
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("label template '{}' needs label field '{}' ({{{{{}}}}}), which the task does not "
                                "carry; add it to the task's label.fields or change the template",
                                name_, p.text.substr(6), p.text));
    } else {
      auto it = values.values.find(p.text);
      if (it != values.values.end()) v = &it->second;
      if (!v)
        return fail(ErrorCode::kInvalidArgument,
                    fmt::format("label template '{}' needs value '{}' ({{{{{}}}}}), which is not available for "
                                "this label", name_, p.text, p.text));
    }
    // ^FH decodes before the barcode reads its own escapes, so those must be
    // neutralised too: in Code 128 a '>' from order data would start an
    // invocation code (">8" makes a GS1 barcode), so it becomes ">0" (a
    // literal '>'); in Data Matrix quality 200 the escape character (e.g.
    // "~1" is FNC1) is doubled, which encodes it literally.
    std::string literal;
    for (char ch : *v) {
      if (p.code128 && ch == '>') literal += ">0";
      else if (p.matrixEscape && ch == p.matrixEscape) literal += std::string(2, ch);
      else literal += ch;
    }
    out += zpl::hexEscape(literal, p.indicator);
  }
  if (printerDotsPerMm <= 0)
    return fail(ErrorCode::kUnsupported,
                fmt::format("printer resolution is unknown (it did not answer ~HI) and template '{}' is designed "
                            "for {} dpi; set the printer's options.dpi in floorlink.toml",
                            name_, designDpi_));
  if (dotsPerMmToDpi(printerDotsPerMm) == 0)
    return fail(ErrorCode::kUnsupported,
                fmt::format("printer reports {} dots/mm, which is not a known printhead resolution", printerDotsPerMm));
  return scaleZpl(out, designDotsPerMm(), printerDotsPerMm);
}

Result<TemplateLibrary> TemplateLibrary::loadDirectory(const std::filesystem::path& dir, Logger logger) {
  TemplateLibrary lib;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound, "label templates directory " + dir.string() +
                                          " does not exist: create it or set labels.templates_dir");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".zpl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto t = LabelTemplate::load(f);
    if (!t) return std::unexpected(t.error());
    logger.info("label template {} loaded ({} dpi, {} placeholders)", t->name(), t->designDpi(),
                t->placeholders().size());
    lib.add(std::move(*t));
  }
  return lib;
}

void TemplateLibrary::add(LabelTemplate t) {
  std::string n = t.name();
  templates_.insert_or_assign(n, std::move(t));
}

const LabelTemplate* TemplateLibrary::find(std::string_view name) const {
  auto it = templates_.find(name);
  return it == templates_.end() ? nullptr : &it->second;
}

std::vector<std::string> TemplateLibrary::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : templates_) out.push_back(n);
  return out;
}

}  // namespace floorlink::printers
