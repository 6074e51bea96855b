#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace floorlink::testing {

Result<pid_t> spawnChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& logFile, const std::vector<std::string>& dropPrefixes) {
  std::vector<std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string_view var(*e);
    bool dropped = false;
    for (const auto& v : env) dropped = dropped || var.substr(0, var.find('=') + 1) == v.substr(0, v.find('=') + 1);
    for (const auto& prefix : dropPrefixes) dropped = dropped || var.starts_with(prefix);
    if (!dropped) vars.emplace_back(var);
  }
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp, args;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> argvCopy = argv;
  for (auto& a : argvCopy) args.push_back(a.data());
  args.push_back(nullptr);
  // fork+exec rather than posix_spawn: the child asks to be killed when the
  // test process dies (PR_SET_PDEATHSIG), so a crashed test leaves nothing.
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return fail(ErrorCode::kIo, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Its own process group: killChild() ends what it started too (cupsd's
    // backends and filters, ippeveprinter's print command).
    ::setpgid(0, 0);
    // The event loop blocks signals process-wide; the child must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int out = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, 0);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

void killChild(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGCONT);
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
}

bool reapIfExited(pid_t& pid) {
  if (pid <= 0) return true;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return false;
  pid = -1;
  return true;
}

Status waitUntil(pid_t& pid, const std::string& what, const std::string& logFile, std::chrono::milliseconds timeout,
                 const std::function<bool()>& ready) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reapIfExited(pid)) return fail(ErrorCode::kIo, what + " exited at start; its log:\n" + readTextFile(logFile));
    if (ready()) return ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fail(ErrorCode::kTimeout, what + " did not get ready; its log:\n" + readTextFile(logFile));
}

bool acceptsConnections(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string readTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool writeTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace floorlink::testing
