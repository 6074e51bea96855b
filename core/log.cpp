#include "core/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace floorlink {
namespace detail {
namespace {
thread_local const LogFields* tFields = nullptr;
}
const LogFields* currentFields() { return tFields; }
FieldScope::FieldScope(const LogFields* fields) : previous_(tFields) { tFields = fields; }
FieldScope::~FieldScope() { tFields = previous_; }
}  // namespace detail

namespace {

spdlog::level::level_enum toSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kCritical: return spdlog::level::critical;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

LogLevel fromSpd(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return LogLevel::kTrace;
    case spdlog::level::debug: return LogLevel::kDebug;
    case spdlog::level::info: return LogLevel::kInfo;
    case spdlog::level::warn: return LogLevel::kWarn;
    case spdlog::level::err: return LogLevel::kError;
    case spdlog::level::critical: return LogLevel::kCritical;
    case spdlog::level::off:
    case spdlog::level::n_levels: return LogLevel::kOff;
  }
  return LogLevel::kInfo;
}

int journalPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
    case LogLevel::kDebug: return 7;
    case LogLevel::kInfo: return 6;
    case LogLevel::kWarn: return 4;
    case LogLevel::kError: return 3;
    case LogLevel::kCritical: return 2;
    case LogLevel::kOff: return 6;
  }
  return 6;
}

std::string fieldSuffix(const LogFields* f) {
  if (f == nullptr) return {};
  std::string out;
  auto add = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out += out.empty() ? " [" : " ";
    out += key;
    out += '=';
    out += value;
  };
  add("device", f->device);
  add("station", f->station);
  add("task", f->taskId);
  if (!out.empty()) out += ']';
  return out;
}

}  // namespace

struct Logging::Shared {
  mutable std::mutex mutex;
  LoggingOptions options;
  bool journal = false;
  std::vector<std::string> secrets;
  std::deque<LogLine> recent;
  std::vector<std::function<void(const LogLine&, const LogFields&)>> observers;

  std::string mask(std::string text) const {
    for (const auto& s : secrets) {
      if (s.empty()) continue;
      for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) {
        text.replace(pos, s.size(), "***");
      }
    }
    return text;
  }
};

namespace {

// The single sink of every module logger: masks secrets, keeps recent lines,
// then writes to the journal (with fields) or to stderr.
class FloorlinkSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FloorlinkSink(std::shared_ptr<Logging::Shared> shared) : shared_(std::move(shared)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    static const LogFields kNoFields{};
    const LogFields* f = detail::currentFields();
    const LogFields& fields = f ? *f : kNoFields;
    LogLine line;
    line.timeMs = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    line.level = fromSpd(msg.level);
    line.module.assign(msg.logger_name.begin(), msg.logger_name.end());
    std::string message(msg.payload.begin(), msg.payload.end());
    std::lock_guard lock(shared_->mutex);
    message = shared_->mask(std::move(message));
    line.text = message + fieldSuffix(f);
    if (shared_->journal) {
      // Structured fields: journalctl -u floorlink DEVICE=scale1
      LogFields masked{};
      std::string device = shared_->mask(std::string(fields.device));
      std::string station = shared_->mask(std::string(fields.station));
      std::string task = shared_->mask(std::string(fields.taskId));
      masked.device = device;
      masked.station = station;
      masked.taskId = task;
      std::vector<std::string> items = journalRecord(line, masked);
      std::vector<iovec> iov;
      for (auto& item : items) iov.push_back({item.data(), item.size()});
      sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    } else {
      auto t = std::chrono::system_clock::to_time_t(msg.time);
      std::tm tm{};
      localtime_r(&t, &tm);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
      auto ms = line.timeMs % 1000;
      std::string out = fmt::format("{}.{:03d} {:<5} {:<8} {}\n", stamp, ms, toString(line.level),
                                    line.module, line.text);
      [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
    }
    for (auto& o : shared_->observers) o(line, fields);
    shared_->recent.push_back(std::move(line));
    while (shared_->recent.size() > shared_->options.recentLines) shared_->recent.pop_front();
  }
  void flush_() override {}

 private:
  std::shared_ptr<Logging::Shared> shared_;
};

}  // namespace

std::vector<std::string> journalRecord(const LogLine& line, const LogFields& fields) {
  std::vector<std::string> items;
  items.push_back("MESSAGE=" + line.text);
  items.push_back("PRIORITY=" + std::to_string(journalPriority(line.level)));
  items.push_back("SYSLOG_IDENTIFIER=floorlink");
  items.push_back("FLOORLINK_MODULE=" + line.module);
  if (!fields.device.empty()) items.push_back("DEVICE=" + std::string(fields.device));
  if (!fields.station.empty()) items.push_back("STATION=" + std::string(fields.station));
  if (!fields.taskId.empty()) items.push_back("TASK_ID=" + std::string(fields.taskId));
  return items;
}

Result<LogLevel> parseLogLevel(std::string_view text) {
  if (text == "trace") return LogLevel::kTrace;
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  if (text == "critical") return LogLevel::kCritical;
  if (text == "off") return LogLevel::kOff;
  return fail(ErrorCode::kInvalidArgument,
              "unknown log level \"" + std::string(text) +
                  "\", expected trace, debug, info, warn, error, critical or off");
}

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kCritical: return "critical";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

Result<std::map<std::string, LogLevel>> parseLogSpec(std::string_view spec) {
  std::map<std::string, LogLevel> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string_view item = spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string module = eq == std::string_view::npos ? "*" : std::string(item.substr(0, eq));
    std::string_view level = eq == std::string_view::npos ? item : item.substr(eq + 1);
    if (module.empty()) {
      return fail(ErrorCode::kInvalidArgument, "log spec item \"" + std::string(item) + "\" has no module name before '='");
    }
    auto parsed = parseLogLevel(level);
    if (!parsed) {
      return fail(ErrorCode::kInvalidArgument, "log spec item \"" + std::string(item) + "\": " + parsed.error().message);
    }
    out[module] = *parsed;
  }
  return out;
}

Logger::Logger() {
  // Shared fallback for components built without a Logging (tests, tools).
  static std::shared_ptr<spdlog::logger> fallback = [] {
    auto l = std::make_shared<spdlog::logger>("floorlink", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_level(spdlog::level::warn);
    return l;
  }();
  impl_ = fallback;
}

bool Logger::enabled(LogLevel level) const { return impl_->should_log(toSpd(level)); }

Result<std::unique_ptr<Logging>> Logging::create(const LoggingOptions& options) {
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  switch (options.target) {
    case LogTarget::kJournal: shared->journal = true; break;
    case LogTarget::kStderr: shared->journal = false; break;
    case LogTarget::kAuto: shared->journal = std::getenv("JOURNAL_STREAM") != nullptr; break;
  }
  return std::unique_ptr<Logging>(new Logging(std::move(shared)));
}

Logging::Logging(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
Logging::~Logging() = default;

LogLevel Logging::levelFor(std::string_view module) const {
  auto it = shared_->options.moduleLevels.find(std::string(module));
  if (it != shared_->options.moduleLevels.end()) return it->second;
  auto star = shared_->options.moduleLevels.find("*");
  if (star != shared_->options.moduleLevels.end()) return star->second;
  return shared_->options.defaultLevel;
}

Logger Logging::get(std::string_view module) {
  auto it = loggers_.find(module);
  if (it != loggers_.end()) return Logger(it->second);
  auto logger = std::make_shared<spdlog::logger>(std::string(module), std::make_shared<FloorlinkSink>(shared_));
  logger->set_level(toSpd(levelFor(module)));
  loggers_.emplace(std::string(module), logger);
  return Logger(logger);
}

Status Logging::applySpec(std::string_view spec) {
  auto parsed = parseLogSpec(spec);
  if (!parsed) return std::unexpected(parsed.error());
  for (auto& [module, level] : *parsed) shared_->options.moduleLevels[module] = level;
  for (auto& [name, logger] : loggers_) logger->set_level(toSpd(levelFor(name)));
  return ok();
}

void Logging::setLevel(std::string_view module, LogLevel level) {
  shared_->options.moduleLevels[std::string(module)] = level;
  for (auto& [name, logger] : loggers_) logger->set_level(toSpd(levelFor(name)));
}

void Logging::addSecret(std::string secret) {
  if (secret.empty()) return;
  std::lock_guard lock(shared_->mutex);
  shared_->secrets.push_back(std::move(secret));
}

std::vector<LogLine> Logging::recent(size_t max) const {
  std::lock_guard lock(shared_->mutex);
  size_t n = std::min(max, shared_->recent.size());
  return {shared_->recent.end() - static_cast<std::ptrdiff_t>(n), shared_->recent.end()};
}

void Logging::addObserver(std::function<void(const LogLine&, const LogFields&)> observer) {
  std::lock_guard lock(shared_->mutex);
  shared_->observers.push_back(std::move(observer));
}

}  // namespace floorlink
