#include "agent/control/verbs_sync.h"

#include "tests/agent/verb_test_support.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using testing::VerbTest;

class SyncVerbs : public VerbTest {};

TEST_F(SyncVerbs, WithoutADatabaseTheOutboxSaysWhy) {
  registerSyncVerbs(*control_, {StoreRef{nullptr, "DATABASE DAMAGED"}, nullptr});
  expectError("outbox", json::object(), ErrorCode::kStorage, "DATABASE DAMAGED");
}

TEST_F(SyncVerbs, WithoutSyncOnlyTheStoreFiguresAreShown) {
  registerSyncVerbs(*control_, {StoreRef{&openStore(), ""}, nullptr});
  auto r = call("outbox");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (json{{"depth", 0}, {"oldest_unacked_ms", 0}, {"acked_through", 0}, {"last_seq", 0}}));
}

TEST(OutboxJson, NamesEveryFigure) {
  sync::OutboxStats o;
  o.depth = 3;
  o.oldestUnackedMs = 1200;
  o.ackedThrough = 7;
  o.lastSeq = 10;
  EXPECT_EQ(outboxJson(o).dump(), R"({"acked_through":7,"depth":3,"last_seq":10,"oldest_unacked_ms":1200})");
}

}  // namespace
}  // namespace floorlink::agent
