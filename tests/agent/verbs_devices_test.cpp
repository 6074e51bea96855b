#include "agent/control/verbs_devices.h"

#include "tests/agent/verb_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class DeviceVerbs : public VerbTest {
 protected:
  void SetUp() override {
    VerbTest::SetUp();
    health_["scanner1"] = DeviceHealth{"scanner", "fault", "answers garbage", 1000};
    registerDeviceVerbs(*control_, DeviceVerbDeps{*loop_, config_, health_, nullptr, scales_, printers_});
  }
  config::Config config_;
  DeviceHealthMap health_;
  std::map<std::string, std::unique_ptr<drivers::Scale>> scales_;
  std::map<std::string, std::unique_ptr<printers::LabelPrinter>> printers_;
};

TEST_F(DeviceVerbs, DevicesListsWhatEachLastReported) {
  auto r = call("devices");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)["devices"].dump(),
            R"([{"detail":"answers garbage","id":"scanner1","kind":"scanner","since_ms":1000,"state":"fault"}])");
}

TEST_F(DeviceVerbs, DeviceNeedsAKnownId) {
  expectError("device", json::object(), ErrorCode::kInvalidArgument, "missing device");
  expectError("device", {{"device", "scale9"}}, ErrorCode::kNotFound, "no device \"scale9\" (configured: scanner1)");
  auto r = call("device", {{"device", "scanner1"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)["state"], "fault");
}

TEST_F(DeviceVerbs, WeighNeedsAConfiguredScale) {
  expectError("weigh", {{"scale", "scale1"}}, ErrorCode::kNotFound, "no scale \"scale1\"");
}

TEST(ReadingJson, AnUnknownWeightIsNull) {
  drivers::Reading r;
  r.weightKnown = false;
  auto j = readingJson(r);
  EXPECT_TRUE(j["grams"].is_null());
  EXPECT_EQ(j["text"], r.describe());
}

}  // namespace
}  // namespace floorlink::agent
