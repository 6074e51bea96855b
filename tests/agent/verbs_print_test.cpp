#include "agent/control/verbs_print.h"

#include "tests/agent/verb_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class PrintVerbs : public VerbTest {
 protected:
  std::vector<config::StationConfig> stations_;
};

TEST_F(PrintVerbs, WithoutAPrinterEveryPrintVerbSaysSo) {
  registerPrintVerbs(*control_, PrintVerbDeps{nullptr, StoreRef{&openStore(), ""}, stations_});
  for (const char* verb : {"print.jobs", "print.reprint", "print.confirm", "print.cancel", "print.test", "label.preview"}) {
    expectError(verb, {{"job", "J-1"}, {"task", "T-1"}}, ErrorCode::kUnsupported, "no printer is configured");
  }
}

TEST_F(PrintVerbs, PreviewWithoutADatabaseSaysWhy) {
  registerPrintVerbs(*control_, PrintVerbDeps{nullptr, StoreRef{nullptr, "DATABASE DAMAGED"}, stations_});
  expectError("label.preview", {{"task", "T-1"}}, ErrorCode::kStorage, "DATABASE DAMAGED");
}

TEST(Base64, PadsTheLastGroup) {
  auto of = [](std::string s) { return base64(std::vector<uint8_t>(s.begin(), s.end())); };
  EXPECT_EQ(of(""), "");
  EXPECT_EQ(of("f"), "Zg==");
  EXPECT_EQ(of("fo"), "Zm8=");
  EXPECT_EQ(of("foo"), "Zm9v");
  EXPECT_EQ(of("\x89PNG"), "iVBORw==");
}

}  // namespace
}  // namespace floorlink::agent
