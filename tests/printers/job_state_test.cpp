// The print journal's state machine (printers::isLegalTransition), pair by
// pair: the SQLite journal and the test fake both enforce exactly this.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <utility>

#include "printers/job_store.h"

namespace floorlink::printers {
namespace {

constexpr std::array kStates{JobState::kQueued,    JobState::kSent,      JobState::kConfirmed, JobState::kFailed,
                             JobState::kUncertain, JobState::kCancelled, JobState::kExpired};

TEST(JobState, TransitionTable) {
  using S = JobState;
  const std::set<std::pair<S, S>> legal = {
      {S::kQueued, S::kQueued},       {S::kQueued, S::kSent},           {S::kQueued, S::kFailed},
      {S::kQueued, S::kCancelled},    {S::kQueued, S::kExpired},        {S::kSent, S::kSent},
      {S::kSent, S::kConfirmed},      {S::kSent, S::kFailed},           {S::kSent, S::kUncertain},
      {S::kUncertain, S::kUncertain}, {S::kUncertain, S::kConfirmed},   {S::kUncertain, S::kQueued},
      {S::kUncertain, S::kExpired},
  };
  for (S from : kStates) {
    for (S to : kStates) {
      EXPECT_EQ(isLegalTransition(from, to), legal.contains({from, to}))
          << toString(from) << " -> " << toString(to);
    }
  }
}

TEST(JobState, FinalStatesLeadNowhere) {
  for (JobState s : kStates) {
    bool leaves = false;
    for (JobState to : kStates) leaves |= isLegalTransition(s, to);
    EXPECT_EQ(isFinal(s), !leaves) << toString(s);
  }
}

}  // namespace
}  // namespace floorlink::printers
