#include "core/log.h"

#include <gtest/gtest.h>

namespace floorlink {
namespace {

struct Captured {
  LogLine line;
  std::string device, station, task;
};

std::unique_ptr<Logging> makeLogging(std::vector<Captured>& out, LogLevel level = LogLevel::kInfo) {
  LoggingOptions options;
  options.target = LogTarget::kStderr;
  options.defaultLevel = level;
  auto logging = Logging::create(options);
  EXPECT_TRUE(logging.has_value());
  (*logging)->addObserver([&out](const LogLine& line, const LogFields& f) {
    out.push_back({line, std::string(f.device), std::string(f.station), std::string(f.taskId)});
  });
  return std::move(*logging);
}

TEST(Logging, StructuredFieldsReachTheSinkAndTheText) {
  std::vector<Captured> out;
  auto logging = makeLogging(out);
  auto log = logging->get("drivers");
  log.warn(LogFields{.device = "scale1", .station = "pack1", .taskId = "T-9"}, "no answer for {} s", 5);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].line.module, "drivers");
  EXPECT_EQ(out[0].line.level, LogLevel::kWarn);
  EXPECT_EQ(out[0].device, "scale1");
  EXPECT_EQ(out[0].station, "pack1");
  EXPECT_EQ(out[0].task, "T-9");
  EXPECT_EQ(out[0].line.text, "no answer for 5 s [device=scale1 station=pack1 task=T-9]");
}

TEST(Logging, FieldsDoNotLeakIntoTheNextLine) {
  std::vector<Captured> out;
  auto logging = makeLogging(out);
  auto log = logging->get("agent");
  log.info(LogFields{.device = "scanner1"}, "first");
  log.info("second");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].device, "");
  EXPECT_EQ(out[1].line.text, "second");
}

TEST(Logging, PerModuleLevelsFromSpec) {
  std::vector<Captured> out;
  auto logging = makeLogging(out);
  ASSERT_TRUE(logging->applySpec("sync=debug,*=warn"));
  auto sync = logging->get("sync");
  auto agent = logging->get("agent");
  sync.debug("sync detail");
  agent.info("agent chatter");
  agent.warn("agent warning");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].line.text, "sync detail");
  EXPECT_EQ(out[1].line.text, "agent warning");
}

TEST(Logging, BadSpecIsRejectedAndChangesNothing) {
  std::vector<Captured> out;
  auto logging = makeLogging(out);
  auto log = logging->get("sync");
  auto s = logging->applySpec("sync=loud");
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("unknown log level \"loud\""), std::string::npos);
  log.info("still info");
  EXPECT_EQ(out.size(), 1u);
}

TEST(Logging, SecretsAreMaskedInEveryLine) {
  std::vector<Captured> out;
  auto logging = makeLogging(out);
  logging->addSecret("hunter2");
  auto log = logging->get("sync");
  log.error("connect failed for user pc7 password hunter2 (hunter2)");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].line.text.find("hunter2"), std::string::npos);
  EXPECT_NE(out[0].line.text.find("password ***"), std::string::npos);
}

TEST(Logging, RecentLinesAreKeptBounded) {
  std::vector<Captured> out;
  LoggingOptions options;
  options.target = LogTarget::kStderr;
  options.recentLines = 3;
  auto logging = Logging::create(options);
  ASSERT_TRUE(logging.has_value());
  auto log = (*logging)->get("core");
  for (int i = 0; i < 5; ++i) log.info("line {}", i);
  auto recent = (*logging)->recent(10);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.front().text, "line 2");
  EXPECT_EQ(recent.back().text, "line 4");
}

TEST(Logging, ParseLogSpecDefaultsBareLevelToStar) {
  auto spec = parseLogSpec("debug");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->at("*"), LogLevel::kDebug);
  EXPECT_FALSE(parseLogSpec("=debug").has_value());
}

TEST(Logging, JournalRecordCarriesStructuredFields) {
  LogLine line;
  line.level = LogLevel::kWarn;
  line.module = "drivers";
  line.text = "no answer [device=scale1]";
  auto rec = journalRecord(line, LogFields{.device = "scale1", .taskId = "T-1"});
  EXPECT_EQ(rec, (std::vector<std::string>{"MESSAGE=no answer [device=scale1]", "PRIORITY=4",
                                           "SYSLOG_IDENTIFIER=floorlink", "FLOORLINK_MODULE=drivers",
                                           "DEVICE=scale1", "TASK_ID=T-1"}));
  line.level = LogLevel::kError;
  EXPECT_EQ(journalRecord(line, {})[1], "PRIORITY=3");
  EXPECT_EQ(journalRecord(line, {}).size(), 4u);  // no empty DEVICE= fields
}

}  // namespace
}  // namespace floorlink
