#pragma once
// Runs the built executables from tests: capture output, wait with a deadline.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace floorlink::testing {

struct ProcessResult {
  int exitCode = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

class Process {
 public:
  explicit Process(std::vector<std::string> argv, std::string stdinText = {}) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (!stdinText.empty()) {
      [[maybe_unused]] auto n = write(in[1], stdinText.data(), stdinText.size());
    }
    close(in[1]);
    out_ = out[0];
    err_ = err[0];
    fcntl(out_, F_SETFL, O_NONBLOCK);
    fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~Process() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }

  // Reads output until `needle` appears in stderr or stdout, or the deadline.
  bool waitForOutput(const std::string& needle, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      pump(50);
      if (result_.err.find(needle) != std::string::npos || result_.out.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::optional<ProcessResult> wait(std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      pump(20);
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        done_ = true;
        pump(0);
        result_.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return result_;
      }
    }
    return std::nullopt;
  }

  const ProcessResult& soFar() const { return result_; }

 private:
  void pump(int timeoutMs) {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    poll(fds, 2, timeoutMs);
    char buf[4096];
    ssize_t n;
    while ((n = read(out_, buf, sizeof buf)) > 0) result_.out.append(buf, static_cast<size_t>(n));
    while ((n = read(err_, buf, sizeof buf)) > 0) result_.err.append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool done_ = false;
  ProcessResult result_;
};

inline ProcessResult run(std::vector<std::string> argv, std::string stdinText = {},
                         std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
  Process p(std::move(argv), std::move(stdinText));
  auto r = p.wait(deadline);
  return r ? *r : ProcessResult{-1, p.soFar().out, p.soFar().err + "\n(timed out)"};
}

}  // namespace floorlink::testing
