#pragma once
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "config/config.h"
#include "config/loader.h"
#include "core/event_loop.h"
#include "printers/label_template.h"

namespace floorlink::printers::testing {

// Runs the loop until `done` or the deadline (a deadline hit fails the test by the caller's check).
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    (void)loop.runFor(std::chrono::milliseconds(5));
  }
  return true;
}

inline std::filesystem::path sourceDir() { return FLOORLINK_SOURCE_DIR; }

inline LabelTemplate shippingTemplate() {
  auto t = LabelTemplate::load(sourceDir() / "printers/templates/shipping.zpl");
  EXPECT_TRUE(t) << (t ? "" : t.error().describe());
  return *t;
}

inline LabelValues shippingValues(std::string customer = "ACME Pty") {
  LabelValues v;
  v.fields = {{"customer", std::move(customer)}, {"street", "1 Dock Road"}, {"postal_code", "10115"},
              {"city", "Berlin"}};
  v.values = {{"sscc", "106141411234567897"}, {"order_id", "O-1"}, {"station", "pack1"}, {"date", "2026-11-22"}};
  return v;
}

inline config::DeviceConfig printerConfig(const std::string& address, const std::string& id = "lp1") {
  config::DeviceConfig d;
  d.id = id;
  d.kind = config::DeviceKind::kPrinter;
  d.protocol = "zpl";
  auto a = config::parseAddress(address);
  EXPECT_TRUE(a) << (a ? "" : a.error().describe());
  if (a) d.address = *a;
  return d;
}

inline std::filesystem::path tempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("floorlink-printers-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A loopback port free at this moment, for a fake started after a fork: the
// child must be forked while the test is still single-threaded (a fork of a
// threaded process can leave the child stuck on a lock another thread held).
inline uint16_t freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// Kills and reaps a forked child when the test leaves early, so a failed
// assertion never leaves it running (and ctest waiting on its output).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  // SIGKILLs the child now; the wait status, for the test to check.
  int kill() {
    int status = 0;
    ::kill(pid_, SIGKILL);
    if (::waitpid(pid_, &status, 0) != pid_) status = -1;
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

}  // namespace floorlink::printers::testing
