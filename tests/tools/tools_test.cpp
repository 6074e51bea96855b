// The executables as a technician or a script uses them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/tools/process.h"

namespace floorlink {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::run;
namespace fs = std::filesystem;

const std::string kBin = FLOORLINK_BINARY_DIR;
const std::string kSrc = FLOORLINK_SOURCE_DIR;
const std::string kAgent = kBin + "/tools/floorlink/floorlink";
const std::string kCtl = kBin + "/tools/floorlinkctl/floorlinkctl";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/floorlink-tools-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string writeConfig(const TempDir& dir, const std::string& extra = "") {
  auto file = dir.path() / "floorlink.toml";
  std::ofstream(file) << "[agent]\nsite = \"dc1\"\nid = \"pc7\"\ndata_dir = \"" << (dir.path() / "data").string()
                      << "\"\n[mqtt]\nurl = \"tcp://127.0.0.1:1\"\npassword = \"topsecret\"\n"
                      << "[control]\nsocket = \"" << (dir.path() / "ctl.sock").string() << "\"\n"
                      << "[log]\ntarget = \"stderr\"\n"
                      << extra;
  return file.string();
}

TEST(FloorlinkCli, PrintDefaultConfigPassesCheckConfig) {
  TempDir dir;
  auto printed = run({kAgent, "--print-default-config"});
  ASSERT_EQ(printed.exitCode, 0) << printed.err;
  auto file = dir.path() / "default.toml";
  std::ofstream(file) << printed.out;
  auto checked = run({kAgent, "--check-config", file.string()});
  EXPECT_EQ(checked.exitCode, 0) << checked.err;
  EXPECT_NE(checked.out.find(": ok"), std::string::npos);
}

TEST(FloorlinkCli, CheckConfigExplainsErrorsAndExitsOne) {
  TempDir dir;
  auto file = dir.path() / "bad.toml";
  std::ofstream(file) << "[agent]\nsite = \"dc1\"\nid = \"pc7\"\n[[devices]]\nid = \"p1\"\nkind = \"printer\"\n"
                         "address = \"tpc://10.1.2.3:9100\"\n";
  auto r = run({kAgent, "--check-config", file.string()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(file.string() + ":7: devices[0].address: unknown scheme \"tpc\""), std::string::npos) << r.err;
}

TEST(FloorlinkCli, CheckConfigAppliesSetOverrides) {
  TempDir dir;
  auto file = writeConfig(dir);
  auto r = run({kAgent, "--check-config", file, "--set", "mqtt.inflight=0"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("mqtt.inflight: expected an integer from 1 to 65535, found 0"), std::string::npos) << r.err;
}

TEST(FloorlinkCli, AgentRefusesAnInvalidConfig) {
  TempDir dir;
  auto file = writeConfig(dir, "[bogus]\n");
  auto r = run({kAgent, "--config", file});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("bogus: unknown key"), std::string::npos) << r.err;
}

TEST(Floorlinkctl, SaysClearlyWhenTheAgentIsNotRunning) {
  TempDir dir;
  auto r = run({kCtl, "--socket", (dir.path() / "none.sock").string(), "status"});
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_NE(r.err.find("the floorlink agent is not running"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("systemctl start floorlink"), std::string::npos) << r.err;
}

class RunningAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = writeConfig(dir_);
    socket_ = (dir_.path() / "ctl.sock").string();
    agent_ = std::make_unique<Process>(std::vector<std::string>{kAgent, "--config", config_});
    ASSERT_TRUE(agent_->waitForOutput("running as dc1/pc7", 30s)) << agent_->soFar().err;
  }
  void TearDown() override {
    if (agent_) {
      agent_->signal(SIGTERM);
      agent_->wait(20s);
    }
  }
  nlohmann::json ctlJson(std::vector<std::string> args) {
    std::vector<std::string> argv{kCtl, "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  TempDir dir_;
  std::string config_, socket_;
  std::unique_ptr<Process> agent_;
};

TEST_F(RunningAgent, StatusJsonIsMachineReadable) {
  auto s = ctlJson({"status", "--json"});
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["site"], "dc1");
  EXPECT_EQ(s["agent"], "pc7");
  EXPECT_TRUE(s["agent_version"].is_string());
  EXPECT_TRUE(s["uptime_s"].is_number_integer());
}

TEST_F(RunningAgent, StatusForPeople) {
  auto r = run({kCtl, "--socket", socket_, "status"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("floorlink "), std::string::npos);
  EXPECT_NE(r.out.find("dc1/pc7"), std::string::npos);
}

TEST_F(RunningAgent, ControlSocketIsNotWorldAccessible) {
  auto perms = fs::status(socket_).permissions();
  EXPECT_EQ(perms & fs::perms::others_all, fs::perms::none);
}

TEST_F(RunningAgent, SecondAgentOnTheSameSocketRefusesToStart) {
  auto r = run({kAgent, "--config", config_});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("another floorlink agent is running"), std::string::npos) << r.err;
}

TEST_F(RunningAgent, SighupReloadsLogLevelsAndKeepsRunning) {
  {
    std::ofstream(config_, std::ios::app) << "[log.modules]\nagent = \"debug\"\n";
  }
  agent_->signal(SIGHUP);
  ASSERT_TRUE(agent_->waitForOutput("reload: log levels applied", 10s)) << agent_->soFar().err;
  EXPECT_TRUE(ctlJson({"status", "--json"}).is_object());
}

TEST_F(RunningAgent, SighupWithABrokenFileKeepsTheRunningConfig) {
  {
    std::ofstream(config_, std::ios::app) << "[oops\n";
  }
  agent_->signal(SIGHUP);
  ASSERT_TRUE(agent_->waitForOutput("configuration not applied", 10s)) << agent_->soFar().err;
  EXPECT_TRUE(ctlJson({"status", "--json"}).is_object());
}

TEST_F(RunningAgent, SigtermStopsCleanlyAndRemovesTheSocket) {
  agent_->signal(SIGTERM);
  auto r = agent_->wait(20s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exitCode, 0) << r->err;
  EXPECT_FALSE(fs::exists(socket_));
  // C-S3: the MQTT password never reached a log line.
  EXPECT_EQ(r->err.find("topsecret"), std::string::npos);
  agent_.reset();
}

TEST(SystemdUnit, VerifiesWithSystemdAnalyze) {
  TempDir dir;
  std::ifstream in(kSrc + "/systemd/floorlink.service");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string unit = buf.str();
  // Point ExecStart at the binary we just built; verify checks it exists.
  auto pos = unit.find("/usr/local/bin/floorlink");
  ASSERT_NE(pos, std::string::npos);
  unit.replace(pos, std::string("/usr/local/bin/floorlink").size(), kAgent);
  auto file = dir.path() / "floorlink.service";
  std::ofstream(file) << unit;
  auto r = run({"/usr/bin/systemd-analyze", "verify", file.string()});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("Unknown"), std::string::npos) << r.err;
  for (const char* must : {"Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=", "ProtectSystem=strict",
                           "NoNewPrivileges=yes", "PrivateTmp=yes", "DevicePolicy=closed"}) {
    EXPECT_NE(unit.find(must), std::string::npos) << must;
  }
}

TEST(Layering, DependenciesPointOneWay) {
  auto r = run({kSrc + "/scripts/check-layering"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
}

}  // namespace
}  // namespace floorlink
