#pragma once
// Named crash points for crash-recovery tests. In builds with
// FLOORLINK_CRASH_POINTS (test builds only) `crashPoint("pack:weighed:after_commit")`
// kills the process with SIGKILL when the environment says so:
//   FLOORLINK_CRASH_AT=<name>      at the first hit of that point
//   FLOORLINK_CRASH_AT=<name>#N    at its N-th hit
//   FLOORLINK_CRASH_AT=*#N         at the N-th hit of any point (randomised runs)
// Every hit is also counted, so a test can list the points a run passed
// (FLOORLINK_CRASH_TRACE=<file> appends one name per line). Elsewhere it
// compiles to nothing.
#include <string_view>

namespace floorlink {

#ifdef FLOORLINK_CRASH_POINTS
void crashPoint(std::string_view name);
#else
inline void crashPoint(std::string_view) {}
#endif

}  // namespace floorlink
