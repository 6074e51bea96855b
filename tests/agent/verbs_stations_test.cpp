#include "agent/control/verbs_stations.h"

#include "tests/agent/verb_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class StationVerbs : public VerbTest {
 protected:
  void SetUp() override {
    VerbTest::SetUp();
    registerStationVerbs(*control_, StationVerbDeps{stations_});
  }
  std::map<std::string, std::unique_ptr<Station>> stations_;
};

TEST_F(StationVerbs, ScanNeedsAStationAndACode) {
  expectError("scan", {{"code", "O-1"}}, ErrorCode::kInvalidArgument, "missing station");
  expectError("scan", {{"station", "pack1"}}, ErrorCode::kInvalidArgument, "missing code");
  expectError("scan", {{"station", "pack1"}, {"code", ""}}, ErrorCode::kInvalidArgument, "missing code");
  expectError("scan", {{"station", "pack1"}, {"code", "O-1"}}, ErrorCode::kNotFound, "no station \"pack1\"");
}

TEST_F(StationVerbs, AnUnknownStationListsTheConfiguredOnes) {
  expectError("station", {{"station", 7}}, ErrorCode::kInvalidArgument, "missing station");
  expectError("station", {{"station", "pack9"}}, ErrorCode::kNotFound, "no station \"pack9\" (configured: none)");
}

}  // namespace
}  // namespace floorlink::agent
