// scripts/check-layering on a copy of the tree: clean as it is, and failing,
// with the file named, on each kind of wrong include planted in the copy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/tools/process.h"

namespace floorlink::testing {
namespace {

namespace fs = std::filesystem;

class CheckLayering : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("layering-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    const fs::path src = FLOORLINK_SOURCE_DIR;
    for (const char* d : {"core", "config", "io", "drivers", "printers", "sync", "agent", "tools"}) {
      if (fs::exists(src / d)) fs::copy(src / d, root_ / d, fs::copy_options::recursive);
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  ProcessResult check() {
    return run({"/usr/bin/env", "FLOORLINK_LAYERING_ROOT=" + root_.string(),
                std::string(FLOORLINK_SOURCE_DIR) + "/scripts/check-layering"});
  }
  void plant(const std::string& file, const std::string& include) {
    std::ofstream(root_ / file, std::ios::app) << "\n" << include << "\n";
  }

  fs::path root_;
};

TEST_F(CheckLayering, TheTreeAsItIsPasses) {
  auto r = check();
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("layering: ok"), std::string::npos);
}

TEST_F(CheckLayering, ADriverIncludingTheAgentFails) {
  plant("drivers/scanner.cpp", "#include \"agent/store/task_store.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("drivers/scanner.cpp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("must not include agent/store"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, SyncIncludingADriverFails) {
  plant("sync/sync.cpp", "#include \"drivers/scanner.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("sync/sync.cpp"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, TheStoreIncludingTheWebServerFails) {
  plant("agent/store/task_store.cpp", "#include \"agent/web/web_server.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("agent/store must not include agent/web"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, AWorkflowIncludingItsStationFails) {
  plant("agent/workflows/pick_workflow.cpp", "#include \"agent/stations/station.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("agent/workflows must not include agent/stations"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, TheStoreIncludingTheCommandsFails) {
  plant("agent/store/task_store.cpp", "#include \"agent/commands/commands.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("agent/store must not include agent/commands"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, CommandsReachingIntoTheStoresSqliteFail) {
  // store_impl.h is the store's inside (SQLiteCpp): commands use
  // StoreTransaction, never the connection.
  plant("agent/commands/commands.cpp", "#include \"agent/store/store_impl.h\"");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("agent/store/store_impl.h"), std::string::npos) << r.out;
}

TEST_F(CheckLayering, APahoTypeInAHeaderUsedElsewhereFails) {
  plant("sync/sync.h", "#include <mqtt/async_client.h>");
  auto r = check();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.out.find("sync/sync.h includes a third-party header"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace floorlink::testing
