// The outbox: seq (C-E1), atomic task+event commits (C-E2), stored bytes
// (C-E3), acknowledgements (C-A1..C-A4), session counter (C-P3).
#include <gtest/gtest.h>

#include "store_test_support.h"
#include "agent/commands/commands.h"

namespace floorlink::agent::testing {
namespace {

using Outbox = StoreTest;

sync::EventDraft deviceStatus(std::string state) {
  sync::EventDraft d;
  d.type = "device.status";
  d.dataJson = nlohmann::json{{"device", "scan1"}, {"kind", "scanner"}, {"state", state}, {"detail", ""}}.dump();
  return d;
}

TEST_F(Outbox, C_E1_SeqStartsAtOneAndGrowsByOneAcrossReopen) {
  {
    auto store = open();
    EXPECT_EQ(*store->appendEvent(deviceStatus("ok")), 1);
    EXPECT_EQ(*store->appendEvent(deviceStatus("offline")), 2);
  }
  auto store = open();
  EXPECT_EQ(*store->appendEvent(deviceStatus("ok")), 3);
  auto evts = events(*store);
  ASSERT_EQ(evts.size(), 3u);
  for (size_t i = 0; i < evts.size(); ++i) {
    EXPECT_EQ(evts[i]["seq"], i + 1);
    EXPECT_EQ(evts[i]["event_id"], "dc1/pc7/" + std::to_string(i + 1));
  }
}

TEST_F(Outbox, C_E1_RolledBackTransactionUsesNoSeq) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  {
    auto tx = store->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kActive));
    ASSERT_TRUE(tx->appendEvent({.type = "task.started", .taskId = "T-1"}));
    // destroyed without commit
  }
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kPending);
  EXPECT_EQ(*store->appendEvent(deviceStatus("ok")), 2);
}

TEST_F(Outbox, C_E2_TaskChangeAndEventsCommitTogether) {
  auto store = open();
  ASSERT_TRUE(Commands(*store).apply(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  std::vector<CommitNotice> notices;
  store->setCommitListener([&](const CommitNotice& n) { notices.push_back(n); });
  auto tx = store->begin();
  ASSERT_TRUE(tx);
  auto active = tx->setTaskState("T-1", TaskState::kActive, {.claimedBy = "cart1", .operatorId = "op-1"});
  ASSERT_TRUE(active);
  EXPECT_EQ(active->startedMs, clock_.nowMs());
  ASSERT_TRUE(tx->appendEvent({.type = "task.started", .station = "cart1", .taskId = "T-1",
                               .dataJson = "{\"operator\":\"op-1\"}"}));
  ASSERT_TRUE(tx->setTaskState("T-1", TaskState::kDone, {.qtyDone = 2}));
  ASSERT_TRUE(tx->appendEvent({.type = "pick.confirmed", .station = "cart1", .taskId = "T-1",
                               .dataJson = "{\"qty\":2}"}));
  EXPECT_TRUE(notices.empty());  // nothing is announced before the commit
  auto committed = tx->commit();
  ASSERT_TRUE(committed);
  EXPECT_EQ(committed->firstSeq, 2);
  EXPECT_EQ(committed->lastSeq, 3);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].lastSeq, 3);
  EXPECT_EQ((*store->findTask("T-1"))->state, TaskState::kDone);
  EXPECT_EQ((*store->findTask("T-1"))->qtyDone, 2);
  // A committed transaction cannot be used again.
  EXPECT_FALSE(tx->appendEvent(deviceStatus("ok")));
}

TEST_F(Outbox, OnlyOneTransactionAtATime) {
  auto store = open();
  auto first = store->begin();
  ASSERT_TRUE(first);
  auto second = store->begin();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_FALSE(store->appendEvent(deviceStatus("ok")));
  ASSERT_TRUE(first->commit());
  EXPECT_TRUE(store->appendEvent(deviceStatus("ok")));
}

TEST_F(Outbox, C_E3_StoredBytesAreTheEncodedEventAndStayTheSame) {
  std::string first;
  {
    auto store = open();
    clock_.advance(std::chrono::milliseconds(5));
    sync::EventDraft d = deviceStatus("fault");
    d.station = "pack1";
    ASSERT_TRUE(store->appendEvent(d));
    d.occurredAt = clock_.nowMs();
    EXPECT_EQ(store->eventsAfter(0, 1)->front().payload, sync::encodeEvent("dc1", "pc7", 1, d));
    first = store->eventsAfter(0, 1)->front().payload;
  }
  clock_.advance(std::chrono::hours(1));
  auto store = open();
  EXPECT_EQ(store->eventsAfter(0, 1)->front().payload, first);
}

TEST_F(Outbox, EventsAfterPagesInSeqOrder) {
  auto store = open();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
  auto page = store->eventsAfter(3, 4);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 4u);
  EXPECT_EQ(page->front().seq, 4);
  EXPECT_EQ(page->back().seq, 7);
  EXPECT_TRUE(store->eventsAfter(10, 5)->empty());
}

TEST_F(Outbox, C_A3_AcknowledgeRules) {
  auto store = open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
  EXPECT_EQ(*store->acknowledge(3), true);
  EXPECT_EQ(*store->acknowledge(2), false);   // lower than the last ack
  EXPECT_EQ(*store->acknowledge(3), false);   // same
  EXPECT_EQ(*store->acknowledge(99), false);  // never sent
  auto stats = store->outboxStats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->ackedThrough, 3);
  EXPECT_EQ(stats->lastSeq, 5);
  EXPECT_EQ(stats->depth, 2);
  EXPECT_EQ(*store->acknowledge(5), true);
  EXPECT_EQ(store->outboxStats()->depth, 0);
  EXPECT_EQ(store->outboxStats()->oldestUnackedMs, 0);
}

TEST_F(Outbox, OldestUnackedAge) {
  auto store = open();
  ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
  clock_.advance(std::chrono::milliseconds(4200));
  ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
  EXPECT_EQ(store->outboxStats()->oldestUnackedMs, 4200);
  ASSERT_TRUE(store->acknowledge(1));
  EXPECT_EQ(store->outboxStats()->oldestUnackedMs, 0);
}

TEST_F(Outbox, C_A2_UnacknowledgedEventsSurviveReopen) {
  {
    auto store = open();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
    ASSERT_TRUE(store->acknowledge(2));
  }
  auto store = open();
  auto stats = store->outboxStats();
  EXPECT_EQ(stats->ackedThrough, 2);
  auto resend = store->eventsAfter(stats->ackedThrough, 100);
  ASSERT_EQ(resend->size(), 2u);
  EXPECT_EQ(resend->front().seq, 3);
}

TEST_F(Outbox, C_A4_AcknowledgedEventsArePrunedAfterRetentionOnly) {
  auto o = options();
  o.retention = std::chrono::hours(24);
  auto store = open(o);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(store->appendEvent(deviceStatus("ok")));
  ASSERT_TRUE(store->acknowledge(2));
  clock_.advance(std::chrono::hours(12));
  ASSERT_TRUE(store->acknowledge(4));
  EXPECT_EQ(store->pruneAcked()->eventsPruned, 0);
  clock_.advance(std::chrono::hours(13));  // 25 h after the first ack, 13 h after the second
  EXPECT_EQ(store->pruneAcked()->eventsPruned, 2);
  auto left = store->eventsAfter(0, 100);
  ASSERT_EQ(left->size(), 4u);
  EXPECT_EQ(left->front().seq, 3);
  clock_.advance(std::chrono::hours(100));
  EXPECT_EQ(store->pruneAcked()->eventsPruned, 2);  // unacknowledged 5 and 6 stay
  EXPECT_EQ(store->eventsAfter(0, 100)->size(), 2u);
  // seq keeps growing after pruning, even across a reopen.
  store.reset();
  store = open(o);
  EXPECT_EQ(*store->appendEvent(deviceStatus("ok")), 7);
}

TEST_F(Outbox, C_P3_SessionCounterIsPersisted) {
  {
    auto store = open();
    EXPECT_EQ(*store->nextSession(), 1u);
    EXPECT_EQ(*store->nextSession(), 2u);
  }
  auto store = open();
  EXPECT_EQ(*store->nextSession(), 3u);
}

}  // namespace
}  // namespace floorlink::agent::testing
