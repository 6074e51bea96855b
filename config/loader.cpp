#include "config/loader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/gs1.h"

namespace floorlink::config {
namespace {

// Collects every problem so a technician fixes the file in one pass.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void add(const toml::source_region& where, const std::string& key, const std::string& what) {
    std::string line = file_;
    if (where.path && *where.path != file_ && !where.path->empty()) line = *where.path;
    if (where.begin.line > 0) line += ":" + std::to_string(where.begin.line);
    if (!key.empty()) line += ": " + key;
    line += ": " + what;
    items_.push_back(std::move(line));
  }
  bool empty() const { return items_.empty(); }
  std::string join() const {
    std::string out;
    for (const auto& i : items_) {
      if (!out.empty()) out += '\n';
      out += i;
    }
    return out;
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> items_;
};

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(std::string_view key, std::initializer_list<std::string_view> known) {
  std::string best;
  size_t bestDist = 3;  // suggest only close names
  for (auto k : known) {
    size_t d = editDistance(key, k);
    if (d < bestDist) {
      bestDist = d;
      best = std::string(k);
    }
  }
  return best.empty() ? "" : ", did you mean \"" + best + "\"?";
}

std::string listOf(std::initializer_list<std::string_view> known) {
  std::string out;
  for (auto k : known) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

const char* typeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "a value";
}

bool validId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Reads the keys of one table against a fixed list of known names.
class TableReader {
 public:
  TableReader(Problems& problems, const toml::table& table, std::string prefix,
              std::initializer_list<std::string_view> known)
      : p_(problems), t_(table), prefix_(std::move(prefix)), known_(known) {
    for (auto&& [k, v] : t_) {
      std::string_view key = k.str();
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        p_.add(v.source(), path(key),
               "unknown key" + suggestion(key, known) + " (known keys here: " + listOf(known) + ")");
      }
    }
  }

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }
  const toml::node* node(std::string_view key) const { return t_.get(key); }
  const toml::source_region& where() const { return t_.source(); }

  void str(std::string_view key, std::string& out) {
    if (auto* n = t_.get(key)) {
      if (auto v = n->value<std::string>(); v && n->is_string()) {
        out = *v;
      } else {
        p_.add(n->source(), path(key), std::string("expected a string, found ") + typeName(*n));
      }
    }
  }
  void path_(std::string_view key, std::filesystem::path& out) {
    std::string s = out.string();
    str(key, s);
    out = s;
  }
  void boolean(std::string_view key, bool& out) {
    if (auto* n = t_.get(key)) {
      if (n->is_boolean()) {
        out = *n->value<bool>();
      } else {
        p_.add(n->source(), path(key), std::string("expected true or false, found ") + typeName(*n));
      }
    }
  }
  template <class T>
  void integer(std::string_view key, T& out, int64_t min, int64_t max) {
    if (auto* n = t_.get(key)) {
      if (!n->is_integer()) {
        p_.add(n->source(), path(key), std::string("expected an integer, found ") + typeName(*n));
        return;
      }
      int64_t v = *n->value<int64_t>();
      if (v < min || v > max) {
        p_.add(n->source(), path(key),
               "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", found " +
                   std::to_string(v));
        return;
      }
      out = static_cast<T>(v);
    }
  }
  template <class Rep, class Period>
  void duration(std::string_view key, std::chrono::duration<Rep, Period>& out, int64_t min, int64_t max) {
    int64_t v = out.count();
    integer(key, v, min, max);
    out = std::chrono::duration<Rep, Period>(v);
  }
  // A string that must be one of `choices`.
  void choice(std::string_view key, std::string& out, std::initializer_list<std::string_view> choices) {
    std::string v = out;
    str(key, v);
    if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
      p_.add(t_.get(key)->source(), path(key),
             "\"" + v + "\" is not one of " + listOf(choices) + suggestion(v, choices));
      return;
    }
    out = v;
  }
  const toml::table* subtable(std::string_view key) {
    auto* n = t_.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      p_.add(n->source(), path(key), std::string("expected a table, found ") + typeName(*n));
      return nullptr;
    }
    return n->as_table();
  }
  void require(std::string_view key, const std::string& what) {
    if (!t_.get(key)) p_.add(t_.source(), path(key), "missing, " + what);
  }

 private:
  Problems& p_;
  const toml::table& t_;
  std::string prefix_;
  std::vector<std::string_view> known_;
};


void readAgent(Problems& p, const toml::table& t, AgentSection& a) {
  TableReader r(p, t, "agent", {"site", "id", "data_dir"});
  r.require("site", "the warehouse id, e.g. site = \"dc1\"");
  r.require("id", "this PC's id within the site, e.g. id = \"pc7\"");
  r.str("site", a.site);
  r.str("id", a.id);
  r.path_("data_dir", a.dataDir);
  for (auto [key, value] : {std::pair{"site", &a.site}, std::pair{"id", &a.id}}) {
    if (t.get(key) && !value->empty() && !validId(*value)) {
      p.add(t.get(key)->source(), r.path(key),
            "\"" + *value + "\" is not a valid id: use 1 to 64 of A-Z a-z 0-9 _ -");
    }
  }
  if (a.dataDir.empty() || a.dataDir.is_relative()) {
    p.add(t.get("data_dir") ? t.get("data_dir")->source() : t.source(), "agent.data_dir",
          "must be an absolute directory path");
  }
}

void readMqtt(Problems& p, const toml::table& t, MqttSection& m) {
  TableReader r(p, t, "mqtt",
                {"url", "urls", "url_order", "client_id", "username", "password", "ca_file", "cert_file", "key_file", "key_password",
                 "verify_server", "protocol", "keepalive_s", "connect_timeout_s", "backoff_min_ms",
                 "backoff_max_ms", "ack_timeout_s", "state_interval_s", "max_payload_bytes", "inflight"});
  r.str("url", m.url);
  auto checkUrl = [&](const std::string& url, const toml::source_region& where, const std::string& key) {
    if (!(url.starts_with("tcp://") || url.starts_with("ssl://") || url.starts_with("mqtt://") ||
          url.starts_with("mqtts://"))) {
      p.add(where, key, "\"" + url + "\" must start with tcp:// or ssl:// (e.g. ssl://broker.example:8883)");
    } else if (url.find(':', url.find("//") + 2) == std::string::npos) {
      p.add(where, key, "\"" + url + "\" needs a port, e.g. tcp://127.0.0.1:1883");
    }
  };
  if (auto* n = t.get("urls")) {
    // The nodes of a cluster; url is the one-element form, so one or the other.
    auto* arr = n->as_array();
    if (t.get("url")) {
      p.add(n->source(), "mqtt.urls", "set either mqtt.url or mqtt.urls, not both (url is the one-element form)");
    } else if (!arr) {
      p.add(n->source(), "mqtt.urls", std::string("expected an array of URLs, found ") + typeName(*n));
    } else if (arr->empty()) {
      p.add(n->source(), "mqtt.urls", "needs at least one URL, e.g. [\"tcp://mq1:1883\", \"tcp://mq2:1883\"]");
    } else {
      m.urls.clear();
      for (size_t i = 0; i < arr->size(); ++i) {
        const auto& item = *arr->get(i);
        std::string key = "mqtt.urls[" + std::to_string(i) + "]";
        if (!item.is_string()) {
          p.add(item.source(), key, std::string("expected a URL string, found ") + typeName(item));
          continue;
        }
        std::string url = *item.value<std::string>();
        checkUrl(url, item.source(), key);
        if (std::find(m.urls.begin(), m.urls.end(), url) != m.urls.end()) {
          p.add(item.source(), key, "\"" + url + "\" is listed twice");
        }
        m.urls.push_back(std::move(url));
      }
      auto isTls = [](const std::string& u) { return u.starts_with("ssl://") || u.starts_with("mqtts://"); };
      for (size_t i = 1; i < m.urls.size(); ++i) {
        if (isTls(m.urls[i]) != isTls(m.urls[0])) {
          // One set of TLS settings (ca_file, cert_file, key_file) serves every node.
          p.add(arr->get(i)->source(), "mqtt.urls[" + std::to_string(i) + "]",
                "mixes tcp:// and ssl:// with mqtt.urls[0]: use one scheme for every node");
          break;
        }
      }
      if (!m.urls.empty()) m.url = m.urls.front();
    }
  } else {
    checkUrl(m.url, t.get("url") ? t.get("url")->source() : t.source(), "mqtt.url");
    m.urls = {m.url};
  }
  r.choice("url_order", m.urlOrder, {"ordered", "shuffle"});
  r.str("client_id", m.clientId);
  r.str("username", m.username);
  r.str("password", m.password);
  r.str("ca_file", m.caFile);
  r.str("cert_file", m.certFile);
  r.str("key_file", m.keyFile);
  r.str("key_password", m.keyPassword);
  r.boolean("verify_server", m.verifyServer);
  r.choice("protocol", m.protocol, {"auto", "3.1.1", "5"});
  r.duration("keepalive_s", m.keepalive, 1, 3600);
  r.duration("connect_timeout_s", m.connectTimeout, 1, 600);
  r.duration("backoff_min_ms", m.backoffMin, 10, 3'600'000);
  r.duration("backoff_max_ms", m.backoffMax, 10, 3'600'000);
  r.duration("ack_timeout_s", m.ackTimeout, 1, 86400);
  r.duration("state_interval_s", m.stateInterval, 1, 86400);
  r.integer("max_payload_bytes", m.maxPayload, 1024, 256 << 20);
  r.integer("inflight", m.inflight, 1, 65535);
  if (m.backoffMax < m.backoffMin) {
    p.add(t.source(), "mqtt.backoff_max_ms", "must not be smaller than mqtt.backoff_min_ms");
  }
  if ((m.certFile.empty()) != (m.keyFile.empty())) {
    p.add(t.source(), "mqtt.cert_file", "a client certificate needs both cert_file and key_file");
  }
  bool tls = !m.urls.empty() && (m.urls.front().starts_with("ssl://") || m.urls.front().starts_with("mqtts://"));
  for (auto [key, path] : {std::pair{"ca_file", &m.caFile}, {"cert_file", &m.certFile}, {"key_file", &m.keyFile}}) {
    if (path->empty()) continue;
    const auto& where = t.get(key) ? t.get(key)->source() : t.source();
    std::error_code ec;
    if (!tls) {
      p.add(where, r.path(key), "is set but the broker URL is not ssl://: use ssl:// or remove it");
    } else if (!std::filesystem::is_regular_file(*path, ec)) {
      p.add(where, r.path(key), "\"" + *path + "\" does not exist or is not a file");
    }
  }
}

void readStorage(Problems& p, const toml::table& t, StorageSection& s) {
  TableReader r(p, t, "storage", {"synchronous", "busy_timeout_ms", "retention_days"});
  std::string sync = s.synchronous == SyncMode::kFull ? "full" : "normal";
  r.choice("synchronous", sync, {"full", "normal"});
  s.synchronous = sync == "normal" ? SyncMode::kNormal : SyncMode::kFull;
  r.duration("busy_timeout_ms", s.busyTimeout, 0, 600'000);
  int64_t days = s.retention.count() / 24;
  r.integer("retention_days", days, 1, 3650);
  s.retention = std::chrono::hours(days * 24);
}

void readControl(Problems& p, const toml::table& t, ControlSection& c) {
  TableReader r(p, t, "control", {"socket", "group"});
  r.path_("socket", c.socket);
  r.str("group", c.group);
  if (c.socket.is_relative()) p.add(t.source(), "control.socket", "must be an absolute path");
}

void readLabels(Problems& p, const toml::table& t, LabelsSection& l) {
  TableReader r(p, t, "labels", {"templates_dir", "gs1_company_prefix", "extension_digit", "job_expiry_hours"});
  r.path_("templates_dir", l.templatesDir);
  r.str("gs1_company_prefix", l.gs1CompanyPrefix);
  r.integer("extension_digit", l.extensionDigit, 0, 9);
  r.duration("job_expiry_hours", l.jobExpiry, 1, 24 * 365);
  const auto& g = l.gs1CompanyPrefix;
  if (!g.empty() && !gs1::validateCompanyPrefix(g)) {
    p.add(t.get("gs1_company_prefix")->source(), "labels.gs1_company_prefix",
          "\"" + g + "\" must be 6 to 12 digits (your GS1 company prefix)");
  }
}

void readHttp(Problems& p, const toml::table& t, HttpSection& h) {
  TableReader r(p, t, "http", {"enabled", "bind", "port", "token"});
  r.boolean("enabled", h.enabled);
  r.str("bind", h.bind);
  r.integer("port", h.port, 1, 65535);
  r.str("token", h.token);
  if (h.enabled && !isLoopbackAddress(h.bind) && h.token.empty()) {
    p.add(t.source(), "http.token", "required when http.bind is not a loopback address (" + h.bind + ")");
  }
}

void readLog(Problems& p, const toml::table& t, LogSection& l) {
  TableReader r(p, t, "log", {"level", "target", "modules"});
  std::string level(toString(l.level));
  r.choice("level", level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
  l.level = parseLogLevel(level).value_or(LogLevel::kInfo);
  std::string target = l.target == LogTarget::kJournal ? "journal" : l.target == LogTarget::kStderr ? "stderr" : "auto";
  r.choice("target", target, {"auto", "stderr", "journal"});
  l.target = target == "journal" ? LogTarget::kJournal : target == "stderr" ? LogTarget::kStderr : LogTarget::kAuto;
  if (auto* mods = r.subtable("modules")) {
    for (auto&& [k, v] : *mods) {
      std::string key = "log.modules." + std::string(k.str());
      auto s = v.value<std::string>();
      if (!v.is_string()) {
        p.add(v.source(), key, std::string("expected a level string, found ") + typeName(v));
        continue;
      }
      auto lv = parseLogLevel(*s);
      if (!lv) {
        p.add(v.source(), key, lv.error().message);
        continue;
      }
      l.modules[std::string(k.str())] = *lv;
    }
  }
}

std::string optionText(const toml::node& v) {
  if (auto s = v.value_exact<std::string>()) return *s;
  std::ostringstream os;
  if (auto* a = v.as_array()) {
    os << *a;
  } else if (v.is_integer()) {
    os << *v.value<int64_t>();
  } else if (v.is_floating_point()) {
    os << *v.value<double>();
  } else if (v.is_boolean()) {
    os << (*v.value<bool>() ? "true" : "false");
  } else {
    os << toml::toml_formatter{v};
  }
  return os.str();
}

template <class Fn>
void forEachTableInArray(Problems& p, const toml::table& root, std::string_view key, Fn fn) {
  auto* n = root.get(key);
  if (!n) return;
  auto* arr = n->as_array();
  if (!arr || !arr->is_array_of_tables()) {
    p.add(n->source(), std::string(key),
          "expected an array of tables ([[" + std::string(key) + "]] sections), found " + typeName(*n));
    return;
  }
  for (size_t i = 0; i < arr->size(); ++i) fn(i, *arr->get(i)->as_table());
}

bool isDocumentScheme(AddressScheme s) {
  return s == AddressScheme::kIpp || s == AddressScheme::kIpps || s == AddressScheme::kCups;
}

// A document printer speaks IPP (to the printer or to the local CUPS); every
// other kind is a byte stream that IPP addresses cannot reach.
void checkSchemeFitsKind(Problems& p, const toml::source_region& where, const std::string& key,
                         const DeviceConfig& d) {
  bool document = isDocumentScheme(d.address.scheme);
  if (d.kind == DeviceKind::kDocPrinter && !document) {
    p.add(where, key,
          "a docprinter is addressed as ipp://host:631/ipp/print, ipps://host:631/ipp/print or cups:QUEUE, not " +
              std::string(toString(d.address.scheme)) + ":");
  } else if (d.kind != DeviceKind::kDocPrinter && document) {
    p.add(where, key,
          std::string(toString(d.address.scheme)) + ": addresses are for kind = \"docprinter\" (documents), not a " +
              std::string(toString(d.kind)));
  }
}

// [devices.options] of a docprinter: typed here, so the printer takes them as valid.
void readDocPrinterOptions(Problems& p, const toml::table& t, const std::string& prefix, DeviceConfig& d) {
  std::string key = prefix + ".options";
  TableReader r(p, t, key,
                {"verify_tls", "ca_file", "server", "poll_ms", "timeout_ms", "busy_retry_max_s", "lost_s"});
  DocPrinterOptions& o = d.docPrinter;
  r.boolean("verify_tls", o.verifyTls);
  r.str("ca_file", o.caFile);
  r.str("server", o.cupsServer);
  r.duration("poll_ms", o.pollInterval, 500, 3'600'000);
  r.duration("timeout_ms", o.requestTimeout, 500, 600'000);
  r.duration("busy_retry_max_s", o.busyRetryMax, 1, 7 * 86400);
  r.duration("lost_s", o.lostTimeout, 1, 86400);
  bool ipps = d.address.scheme == AddressScheme::kIpps;
  for (const char* k : {"verify_tls", "ca_file"}) {
    if (t.get(k) && !ipps) p.add(t.get(k)->source(), r.path(k), "is set but the address is not ipps://: use ipps:// or remove it");
  }
  if (!o.caFile.empty() && ipps) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.caFile, ec)) {
      p.add(t.get("ca_file")->source(), r.path("ca_file"), "\"" + o.caFile + "\" does not exist or is not a file");
    }
  }
  if (t.get("ca_file") && !o.verifyTls) {
    p.add(t.get("ca_file")->source(), r.path("ca_file"), "is set but verify_tls = false: one or the other");
  }
  if (auto* n = t.get("server")) {
    if (d.address.scheme != AddressScheme::kCups) {
      p.add(n->source(), r.path("server"), "is set but the address is not cups:QUEUE: remove it");
    } else if (o.cupsServer.empty()) {
      p.add(n->source(), r.path("server"), "must not be empty: host:port (127.0.0.1:631) or a socket path");
    } else if (o.cupsServer.front() != '/') {
      // The one host:port grammar: that of tcp:// addresses.
      bool hostPort = o.cupsServer.find(':') != std::string::npos && parseAddress("tcp://" + o.cupsServer);
      if (!hostPort) {
        p.add(n->source(), r.path("server"),
              "\"" + o.cupsServer + "\" must be host:port (e.g. 127.0.0.1:631) or an absolute socket path");
      }
    }
  }
}

void readDevices(Problems& p, const toml::table& root, std::vector<DeviceConfig>& out) {
  std::set<std::string> seen;
  forEachTableInArray(p, root, "devices", [&](size_t i, const toml::table& t) {
    std::string prefix = "devices[" + std::to_string(i) + "]";
    TableReader r(p, t, prefix, {"id", "kind", "address", "protocol", "options"});
    DeviceConfig d;
    d.origin = Origin{p.file(), static_cast<int>(t.source().begin.line), prefix};
    r.require("id", "a unique device id, e.g. id = \"scanner1\"");
    r.require("kind", "one of scanner, scale, printer, docprinter");
    r.require("address", "e.g. address = \"serial:/dev/serial/by-id/usb-...?baud=9600\"");
    r.str("id", d.id);
    if (t.get("id") && !validId(d.id)) {
      p.add(t.get("id")->source(), prefix + ".id", "\"" + d.id + "\" is not a valid id: use 1 to 64 of A-Z a-z 0-9 _ -");
    } else if (!d.id.empty() && !seen.insert(d.id).second) {
      p.add(t.get("id")->source(), prefix + ".id", "\"" + d.id + "\" is used by an earlier device; ids must be unique");
    }
    if (t.get("kind")) {
      std::string kind = "scanner";
      r.choice("kind", kind, {"scanner", "scale", "printer", "docprinter"});
      d.kind = kind == "scale"        ? DeviceKind::kScale
               : kind == "printer"    ? DeviceKind::kPrinter
               : kind == "docprinter" ? DeviceKind::kDocPrinter
                                      : DeviceKind::kScanner;
    }
    d.protocol = d.kind == DeviceKind::kScale        ? "mt-sics"
                 : d.kind == DeviceKind::kPrinter    ? "zpl"
                 : d.kind == DeviceKind::kDocPrinter ? "ipp"
                                                     : "generic";
    if (d.kind == DeviceKind::kDocPrinter) {
      r.choice("protocol", d.protocol, {"ipp"});
    } else {
      r.str("protocol", d.protocol);
    }
    bool addressOk = false;
    if (auto* a = t.get("address")) {
      std::string text;
      r.str("address", text);
      if (a->is_string()) {
        auto parsed = parseAddress(text);
        if (parsed) {
          d.address = *parsed;
          addressOk = true;
          checkSchemeFitsKind(p, a->source(), prefix + ".address", d);
        } else {
          p.add(a->source(), prefix + ".address", parsed.error().message);
        }
      }
    }
    if (auto* opts = r.subtable("options")) {
      for (auto&& [k, v] : *opts) {
        std::string key = prefix + ".options." + std::string(k.str());
        d.options[std::string(k.str())] =
            OptionValue{optionText(v), Origin{p.file(), static_cast<int>(v.source().begin.line), key}};
      }
      // Which options fit depends on the address; a bad one is reported already.
      if (d.kind == DeviceKind::kDocPrinter && addressOk) readDocPrinterOptions(p, *opts, prefix, d);
    }
    out.push_back(std::move(d));
  });
}

void readStations(Problems& p, const toml::table& root, const std::vector<DeviceConfig>& devices,
                  std::vector<StationConfig>& out) {
  std::set<std::string> seen;
  forEachTableInArray(p, root, "stations", [&](size_t i, const toml::table& t) {
    std::string prefix = "stations[" + std::to_string(i) + "]";
    TableReader r(p, t, prefix, {"id", "kind", "scanner", "scale", "printer", "doc_printer"});
    StationConfig s;
    s.origin = Origin{p.file(), static_cast<int>(t.source().begin.line), prefix};
    r.require("id", "a unique station id, e.g. id = \"pack1\"");
    r.require("kind", "one of pick, pack, ship");
    r.str("id", s.id);
    if (t.get("id") && !validId(s.id)) {
      p.add(t.get("id")->source(), prefix + ".id", "\"" + s.id + "\" is not a valid id: use 1 to 64 of A-Z a-z 0-9 _ -");
    } else if (!s.id.empty() && !seen.insert(s.id).second) {
      p.add(t.get("id")->source(), prefix + ".id", "\"" + s.id + "\" is used by an earlier station; ids must be unique");
    }
    if (t.get("kind")) {
      std::string kind = "pick";
      r.choice("kind", kind, {"pick", "pack", "ship"});
      s.kind = kind == "pack" ? StationKind::kPack : kind == "ship" ? StationKind::kShip : StationKind::kPick;
    }
    auto ref = [&](std::string_view key, std::string& field, DeviceKind want) {
      r.str(key, field);
      if (field.empty()) return;
      auto it = std::find_if(devices.begin(), devices.end(), [&](const DeviceConfig& d) { return d.id == field; });
      if (it == devices.end()) {
        std::string hint;
        size_t best = 3;
        for (const auto& d : devices) {
          if (auto dist = editDistance(field, d.id); dist < best) {
            best = dist;
            hint = ", did you mean \"" + d.id + "\"?";
          }
        }
        p.add(t.get(key)->source(), prefix + "." + std::string(key), "no device with id \"" + field + "\"" + hint);
      } else if (it->kind != want) {
        p.add(t.get(key)->source(), prefix + "." + std::string(key),
              "device \"" + field + "\" is a " + std::string(toString(it->kind)) + ", not a " +
                  std::string(toString(want)));
      }
    };
    ref("scanner", s.scanner, DeviceKind::kScanner);
    ref("scale", s.scale, DeviceKind::kScale);
    ref("printer", s.printer, DeviceKind::kPrinter);
    ref("doc_printer", s.docPrinter, DeviceKind::kDocPrinter);
    if (s.kind == StationKind::kPack && t.get("id")) {
      if (s.scale.empty()) p.add(t.source(), prefix + ".scale", "a pack station needs a scale");
      if (s.printer.empty()) p.add(t.source(), prefix + ".printer", "a pack station needs a printer");
    }
    out.push_back(std::move(s));
  });
}

// --set key.path=value: walks/creates tables ("devices[1].options.baud") and
// stores the value parsed as TOML, or as a string when it is not TOML.
Status applyOverride(toml::table& root, const std::string& item) {
  size_t eq = item.find('=');
  if (eq == std::string::npos || eq == 0) {
    return fail(ErrorCode::kInvalidArgument, "--set " + item + ": expected key.path=value");
  }
  std::string path = item.substr(0, eq);
  std::string valueText = item.substr(eq + 1);
  // Split the path.
  std::vector<std::pair<std::string, int>> parts;  // key, index (-1: none)
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '.')) {
    int index = -1;
    if (auto b = seg.find('['); b != std::string::npos && seg.back() == ']') {
      std::string num = seg.substr(b + 1, seg.size() - b - 2);
      int v = 0;
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec != std::errc() || end != num.data() + num.size() || v < 0) {
        return fail(ErrorCode::kInvalidArgument, "--set " + path + ": bad index in \"" + seg + "\"");
      }
      index = v;
      seg = seg.substr(0, b);
    }
    if (seg.empty()) return fail(ErrorCode::kInvalidArgument, "--set " + path + ": empty key segment");
    parts.emplace_back(seg, index);
  }
  toml::table* cur = &root;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto& [key, index] = parts[i];
    bool last = i + 1 == parts.size();
    if (index >= 0) {
      auto* arr = cur->get_as<toml::array>(key);
      if (!arr || static_cast<size_t>(index) >= arr->size() || !arr->get(index)->is_table()) {
        return fail(ErrorCode::kInvalidArgument,
                    "--set " + path + ": there is no " + key + "[" + std::to_string(index) + "] table");
      }
      if (last) return fail(ErrorCode::kInvalidArgument, "--set " + path + ": cannot replace a whole table");
      cur = arr->get(index)->as_table();
      continue;
    }
    if (last) {
      toml::table parsed;
      auto* existing = cur->get(key);
      bool quoted = !valueText.empty() && (valueText.front() == '"' || valueText.front() == '\'');
      if (existing && existing->is_string() && !quoted) {
        // A string key stays a string: --set agent.id=123 means "123".
        cur->insert_or_assign(key, valueText);
        return ok();
      }
      try {
        parsed = toml::parse(std::string_view("v = " + valueText), std::string_view("--set"));
      } catch (const toml::parse_error&) {
        parsed = toml::table{};
        parsed.insert("v", valueText);  // plain text: a string
      }
      cur->insert_or_assign(key, *parsed.get("v"));
      return ok();
    }
    auto* next = cur->get(key);
    if (!next) {
      cur->insert(key, toml::table{});
      next = cur->get(key);
    }
    if (!next->is_table()) {
      return fail(ErrorCode::kInvalidArgument, "--set " + path + ": \"" + key + "\" is not a table");
    }
    cur = next->as_table();
  }
  return ok();
}

Result<Config> build(toml::table& root, std::string_view sourceName, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    if (auto s = applyOverride(root, o); !s) return std::unexpected(s.error());
  }
  Problems p{std::string(sourceName)};
  Config c;
  c.sourceFile = std::string(sourceName);
  TableReader top(p, root, "", {"agent", "mqtt", "storage", "control", "labels", "http", "log", "devices", "stations"});
  auto section = [&](std::string_view key) -> const toml::table* { return top.subtable(key); };
  if (auto* t = section("agent")) {
    readAgent(p, *t, c.agent);
  } else if (!root.get("agent")) {
    p.add(root.source(), "agent", "missing [agent] section with site and id");
  }
  if (auto* t = section("mqtt")) readMqtt(p, *t, c.mqtt);
  if (c.mqtt.urls.empty()) c.mqtt.urls = {c.mqtt.url};
  if (auto* t = section("storage")) readStorage(p, *t, c.storage);
  if (auto* t = section("control")) readControl(p, *t, c.control);
  if (auto* t = section("labels")) readLabels(p, *t, c.labels);
  if (auto* t = section("http")) readHttp(p, *t, c.http);
  if (auto* t = section("log")) readLog(p, *t, c.log);
  readDevices(p, root, c.devices);
  readStations(p, root, c.devices, c.stations);
  if (c.mqtt.clientId.empty() && !c.agent.site.empty()) c.mqtt.clientId = c.agent.site + "-" + c.agent.id;
  if (!p.empty()) return fail(ErrorCode::kInvalidArgument, p.join());
  return c;
}

}  // namespace

Result<Config> loadString(std::string_view text, std::string_view sourceName,
                          const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, sourceName);
  } catch (const toml::parse_error& e) {
    std::string msg = std::string(sourceName);
    if (e.source().begin.line > 0) msg += ":" + std::to_string(e.source().begin.line);
    msg += ": not valid TOML: " + std::string(e.description());
    return fail(ErrorCode::kInvalidArgument, msg);
  }
  return build(root, sourceName, overrides);
}

Result<Config> loadFile(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    return fail(exists ? ErrorCode::kPermission : ErrorCode::kNotFound,
                path.string() + ": cannot read the configuration file (" +
                    (exists ? "permission denied?" : "no such file") + ")");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return loadString(buf.str(), path.string(), overrides);
}

}  // namespace floorlink::config
