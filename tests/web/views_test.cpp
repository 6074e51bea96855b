#include "agent/web/views.h"

#include <gtest/gtest.h>

namespace floorlink::agent {
namespace {

using nlohmann::json;

TEST(StationView, TakesTheStationsOwnDevicesAndTheAgentsHealth) {
  auto calls = stationViewCalls("pack1");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].verb, "station");
  EXPECT_EQ(calls[0].args, (json{{"station", "pack1"}}));
  VerbAnswers answers{
      json{{"id", "pack1"}, {"devices", {{"scanner", "scanner1"}, {"scale", "scale1"}, {"printer", ""}}}},
      json{{"agent_version", "1.2.3"}, {"broker", {{"connected", true}}}, {"outbox", {{"depth", 4}}},
           {"database", {{"state", "ok"}}}},
      json{{"devices", json::array({{{"id", "scale1"}, {"state", "ok"}, {"reading", {{"grams", 5}}}},
                                    {{"id", "printer9"}, {"state", "fault"}}})}}};
  auto v = stationView(answers);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ((*v)["agent"], (json{{"version", "1.2.3"}, {"online", true}, {"backlog", 4}, {"oldest_unacked_ms", 0},
                                 {"database", "ok"}, {"warnings", json::array()}}));
  EXPECT_EQ((*v)["scale"], (json{{"id", "scale1"}, {"state", "ok"}, {"detail", ""}, {"reading", {{"grams", 5}}}}));
  EXPECT_FALSE(v->contains("scanner"));  // configured but not reported
  EXPECT_FALSE(v->contains("printer"));
}

TEST(StationView, AFailedVerbIsTheViewsError) {
  VerbAnswers answers{fail(ErrorCode::kNotFound, "no station \"x\""), json::object(), json::object()};
  auto v = stationView(answers);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(stationView({}).has_value());
}

TEST(TechnicianView, PrintJobsAreOptional) {
  ASSERT_EQ(technicianViewCalls().size(), 4u);
  VerbAnswers answers{json{{"agent_version", "1"}}, json{{"devices", json::array()}},
                      json{{"lines", json::array({{{"text", "hi"}}})}}, fail(ErrorCode::kUnsupported, "no printer")};
  auto v = technicianView(answers);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ((*v)["print_jobs"], json::array());
  EXPECT_EQ((*v)["logs"][0]["text"], "hi");
  answers[1] = fail(ErrorCode::kTimeout, "busy");
  EXPECT_FALSE(technicianView(answers).has_value());
}

}  // namespace
}  // namespace floorlink::agent
