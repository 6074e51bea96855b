#include "io/backoff.h"

#include <gtest/gtest.h>

namespace floorlink::io {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromMinToMaxAndStartsOverAfterReset) {
  Backoff b(milliseconds(500), milliseconds(3000));
  EXPECT_EQ(b.next(), milliseconds(500));
  EXPECT_EQ(b.next(), milliseconds(1000));
  EXPECT_EQ(b.next(), milliseconds(2000));
  EXPECT_EQ(b.next(), milliseconds(3000));
  EXPECT_EQ(b.next(), milliseconds(3000));
  b.reset();
  EXPECT_EQ(b.next(), milliseconds(500));
}

TEST(Backoff, DefaultsAreHalfASecondToHalfAMinute) {
  Backoff b;
  EXPECT_EQ(b.next(), milliseconds(500));
  for (int i = 0; i < 20; ++i) b.next();
  EXPECT_EQ(b.next(), milliseconds(30000));
}

}  // namespace
}  // namespace floorlink::io
