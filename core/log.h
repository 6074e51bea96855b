#pragma once
// Logging: one named logger per module, levels per module, structured fields
// (DEVICE, STATION, TASK_ID) that reach the journal as journal fields.
#include <spdlog/logger.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace floorlink {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

Result<LogLevel> parseLogLevel(std::string_view text);
std::string_view toString(LogLevel level);

// Context attached to one log line. Empty fields are omitted.
struct LogFields {
  std::string_view device;
  std::string_view station;
  std::string_view taskId;
};

// The fields of a device's line (designated initializers would warn about
// the fields left out).
inline LogFields deviceFields(std::string_view device) {
  LogFields f;
  f.device = device;
  return f;
}

namespace detail {
// The fields of the line being logged on this thread; sinks read them.
const LogFields* currentFields();
class FieldScope {
 public:
  explicit FieldScope(const LogFields* fields);
  ~FieldScope();

 private:
  const LogFields* previous_;
};
}  // namespace detail

struct LogLine;
// The journal fields of one line: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
// FLOORLINK_MODULE and DEVICE/STATION/TASK_ID when known.
std::vector<std::string> journalRecord(const LogLine& line, const LogFields& fields);

// A cheap, copyable handle to a module's logger. A default-constructed Logger
// writes warnings and above to stderr (handy in tests and tools).
class Logger {
 public:
  Logger();
  explicit Logger(std::shared_ptr<spdlog::logger> impl) : impl_(std::move(impl)) {}

  const std::string& module() const { return impl_->name(); }
  bool enabled(LogLevel level) const;

#define FLOORLINK_LOG_METHOD(name, level)                                          \
  template <class... Args>                                                         \
  void name(fmt::format_string<Args...> format, Args&&... args) const {            \
    impl_->log(level, format, std::forward<Args>(args)...);                        \
  }                                                                                \
  template <class... Args>                                                         \
  void name(const LogFields& fields, fmt::format_string<Args...> format,           \
            Args&&... args) const {                                                \
    detail::FieldScope scope(&fields);                                             \
    impl_->log(level, format, std::forward<Args>(args)...);                        \
  }
  FLOORLINK_LOG_METHOD(trace, spdlog::level::trace)
  FLOORLINK_LOG_METHOD(debug, spdlog::level::debug)
  FLOORLINK_LOG_METHOD(info, spdlog::level::info)
  FLOORLINK_LOG_METHOD(warn, spdlog::level::warn)
  FLOORLINK_LOG_METHOD(error, spdlog::level::err)
#undef FLOORLINK_LOG_METHOD

 private:
  std::shared_ptr<spdlog::logger> impl_;
};

// One recent log line, kept in memory for floorlinkctl and the technician page.
struct LogLine {
  int64_t timeMs = 0;
  LogLevel level = LogLevel::kInfo;
  std::string module;
  std::string text;  // message with its fields, secrets masked
};

enum class LogTarget { kAuto, kStderr, kJournal };

struct LoggingOptions {
  LogTarget target = LogTarget::kAuto;  // auto: journal when JOURNAL_STREAM is set
  LogLevel defaultLevel = LogLevel::kInfo;
  std::map<std::string, LogLevel> moduleLevels;
  size_t recentLines = 500;
};

// Owns the sinks and the module loggers of one process. Created by main and
// handed (as Logger handles) to every component; not a global registry.
class Logging {
 public:
  static Result<std::unique_ptr<Logging>> create(const LoggingOptions& options);
  ~Logging();

  Logger get(std::string_view module);

  // "sync=debug,*=info" (the FLOORLINK_LOG syntax). Applies to existing and
  // future loggers; an invalid spec changes nothing.
  Status applySpec(std::string_view spec);
  void setLevel(std::string_view module, LogLevel level);

  // Any line containing a registered secret has it replaced by "***".
  void addSecret(std::string secret);

  std::vector<LogLine> recent(size_t max) const;

  // Extra sink for tests: receives every formatted line (after masking).
  void addObserver(std::function<void(const LogLine&, const LogFields&)> observer);

  struct Shared;  // state shared with the sinks

 private:
  explicit Logging(std::shared_ptr<Shared> shared);
  LogLevel levelFor(std::string_view module) const;

  std::shared_ptr<Shared> shared_;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers_;
};

// Parses "sync=debug,*=info" into per-module levels ("*" is the default).
Result<std::map<std::string, LogLevel>> parseLogSpec(std::string_view spec);

}  // namespace floorlink
