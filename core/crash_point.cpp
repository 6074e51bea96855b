#include "core/crash_point.h"

#ifdef FLOORLINK_CRASH_POINTS
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace floorlink {
namespace {

struct CrashSpec {
  std::string name;  // "*": any point
  long hit = 1;
  long seen = 0;
  int traceFd = -1;
  bool armed = false;
};

CrashSpec& spec() {
  static CrashSpec s = [] {
    CrashSpec c;
    if (const char* at = std::getenv("FLOORLINK_CRASH_AT"); at != nullptr && *at != '\0') {
      std::string v = at;
      auto hash = v.find('#');
      c.name = v.substr(0, hash);
      if (hash != std::string::npos) c.hit = std::max(1L, std::strtol(v.c_str() + hash + 1, nullptr, 10));
      c.armed = true;
    }
    if (const char* trace = std::getenv("FLOORLINK_CRASH_TRACE"); trace != nullptr && *trace != '\0') {
      c.traceFd = ::open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    return c;
  }();
  return s;
}

}  // namespace

void crashPoint(std::string_view name) {
  CrashSpec& s = spec();
  if (s.traceFd >= 0) {
    std::string line = std::string(name) + "\n";
    (void)!::write(s.traceFd, line.data(), line.size());
  }
  if (!s.armed || (s.name != "*" && s.name != name)) return;
  if (++s.seen < s.hit) return;
  std::string msg = "floorlink: crash point " + std::string(name) + " reached: SIGKILL\n";
  (void)!::write(STDERR_FILENO, msg.data(), msg.size());
  ::raise(SIGKILL);
}

}  // namespace floorlink
#endif
