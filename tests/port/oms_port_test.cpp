// OmsPort: sync's view of the agent hands commands to agent/commands, the
// outbox to the store, and joins the store's health with the devices'.
#include "agent/port/oms_port.h"

#include <gtest/gtest.h>

#include "tests/store/store_test_support.h"

namespace floorlink::agent::testing {
namespace {

using Port = StoreTest;

TEST_F(Port, CommandsThroughThePortLandInTheStoreWithTheirResult) {
  auto store = open();
  OmsPort port(*store);
  auto outcome = port.applyCommand(waveAssign("c-1", "W-1", 1, {pickTask("T-1")}));
  ASSERT_TRUE(outcome) << outcome.error().describe();
  EXPECT_EQ(outcome->status, "accepted");
  ASSERT_TRUE(*store->findTask("T-1"));
  auto events = port.eventsAfter(0, 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(parse(events->front().payload)["type"], "cmd.result");
  EXPECT_EQ((*events)[0].seq, outcome->resultSeq);
  // A repeat through the port is the same C-C1 repeat.
  auto again = port.applyCommand(waveAssign("c-1", "W-1", 1, {pickTask("T-1")}));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
}

TEST_F(Port, ABigWaveIsStagedInStepsAndASmallOneInOne) {
  auto store = open();
  OmsPort port(*store);
  auto small = port.startCommand(waveAssign("c-s", "W-s", 1, pickTasks("S-", 3)));
  auto first = small->step();
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->status, "accepted");

  auto big = port.startCommand(waveAssign("c-b", "W-b", 1, pickTasks("B-", 2500)));
  int steps = 0;
  std::optional<sync::CommandOutcome> done;
  while (!done && steps < 100) {
    auto r = big->step();
    ASSERT_TRUE(r) << r.error().describe();
    ++steps;
    if (*r) done = **r;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, "accepted");
  EXPECT_GT(steps, 3);  // check, three slices, final
  EXPECT_TRUE(*store->findTask("B-2499"));
}

TEST_F(Port, HealthIsTheStoresJoinedWithTheDevices) {
  auto store = open();
  OmsPort port(*store);
  EXPECT_TRUE(port.health().acceptingWork);
  EXPECT_TRUE(port.health().devices.empty());
  port.setDeviceHealthSource([] {
    return std::vector<sync::ComponentHealth>{sync::ComponentHealth{"scan1", "scanner", "offline", "unplugged"}};
  });
  auto h = port.health();
  ASSERT_EQ(h.devices.size(), 1u);
  EXPECT_EQ(h.devices[0].id, "scan1");
  EXPECT_EQ(h.devices[0].detail, "unplugged");
  // The store alone knows nothing of devices.
  EXPECT_TRUE(store->health().devices.empty());
}

TEST_F(Port, AcksAndSessionsGoToTheStore) {
  auto store = open();
  OmsPort port(*store);
  ASSERT_TRUE(port.applyCommand(waveAssign("c-1", "W-1", 1, {pickTask("T-1")})));
  auto s1 = port.nextSession();
  auto s2 = port.nextSession();
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ(*s2, *s1 + 1);
  EXPECT_TRUE(*port.acknowledge(1));
  EXPECT_FALSE(*port.acknowledge(1));  // C-A3: not above the last
  EXPECT_EQ(port.outboxStats()->ackedThrough, 1);
  EXPECT_EQ(store->outboxStats()->ackedThrough, 1);
}

}  // namespace
}  // namespace floorlink::agent::testing
