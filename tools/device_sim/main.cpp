// floorlink-device-sim: simulated devices on loopback for the demo and the
// end-to-end tests. It serves
//   - a fixed-mount TCP scanner: the agent connects; every "scan CODE" on
//     the control port is sent to it as CODE + CR;
//   - an MT-SICS scale over TCP: answers S, SI, Z, T, TA and @ from its state;
//     "weight G [motion]" on the control port puts G grams on the platter.
// Control port: one command per line, answered "ok" or "error: why".
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "core/event_loop.h"

namespace {

using floorlink::EventLoop;
using floorlink::IoEvent;

int listenOn(uint16_t port, uint16_t* actual) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, 4) < 0) {
    perror("bind/listen");
    std::exit(1);
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *actual = ntohs(a.sin_port);
  return fd;
}

// A listening socket whose clients exchange lines.
class LineServer {
 public:
  using OnLine = std::function<void(int client, const std::string& line)>;
  LineServer(EventLoop& loop, uint16_t port, char terminator, OnLine onLine)
      : loop_(loop), terminator_(terminator), onLine_(std::move(onLine)) {
    fd_ = listenOn(port, &port_);
    (void)loop_.watchFd(fd_, static_cast<uint32_t>(IoEvent::kRead), [this](uint32_t) { accept(); });
  }
  uint16_t port() const { return port_; }
  void sendAll(const std::string& bytes) {
    for (auto& [fd, _] : clients_) send(fd, bytes);
  }
  void send(int fd, const std::string& bytes) {
    [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  size_t clients() const { return clients_.size(); }

 private:
  void accept() {
    int c;
    while ((c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
      auto w = loop_.watchFd(c, static_cast<uint32_t>(IoEvent::kRead), [this, c](uint32_t) { read(c); });
      clients_[c] = {w ? *w : 0, {}};
    }
  }
  void read(int c) {
    char buf[1024];
    ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) {
      loop_.unwatchFd(clients_[c].first);
      ::close(c);
      clients_.erase(c);
      return;
    }
    auto& pending = clients_[c].second;
    pending.append(buf, static_cast<size_t>(n));
    size_t pos;
    while ((pos = pending.find(terminator_)) != std::string::npos) {
      std::string line = pending.substr(0, pos);
      pending.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty() && line.front() == '\n') line.erase(0, 1);
      onLine_(c, line);
    }
  }
  EventLoop& loop_;
  char terminator_;
  OnLine onLine_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::map<int, std::pair<EventLoop::WatchId, std::string>> clients_;
};

struct ScaleState {
  int64_t grams = 0;
  int64_t tare = 0;
  bool motion = false;
  bool silent = false;

  // MT-SICS weight value: right-aligned in 10 characters, then the unit.
  std::string weightLine(const char* prefix, bool stable) const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %s %10lld g\r\n", prefix, stable ? "S" : "D",
                  static_cast<long long>(grams - tare));
    return buf;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"floorlink-device-sim: a TCP scanner and an MT-SICS scale on loopback"};
  uint16_t scannerPort = 0, scalePort = 0, controlPort = 0;
  std::string portsFile;
  app.add_option("--scanner-port", scannerPort, "TCP port of the scanner (0: any free)");
  app.add_option("--scale-port", scalePort, "TCP port of the MT-SICS scale (0: any free)");
  app.add_option("--control-port", controlPort, "TCP port of the control interface (0: any free)");
  app.add_option("--ports-file", portsFile, "write 'scanner=P scale=P control=P' here once listening");
  CLI11_PARSE(app, argc, argv);

  auto loop = std::move(*EventLoop::create());
  ScaleState scale;
  std::unique_ptr<LineServer> scanner, scaleServer, control;
  scanner = std::make_unique<LineServer>(*loop, scannerPort, '\r', [](int, const std::string&) {});
  scaleServer = std::make_unique<LineServer>(*loop, scalePort, '\n', [&](int c, const std::string& cmd) {
    if (scale.silent) return;
    std::string reply;
    if (cmd == "S") {
      reply = scale.motion ? "S I\r\n" : scale.weightLine("S", true);
    } else if (cmd == "SI") {
      reply = scale.weightLine("S", !scale.motion);
    } else if (cmd == "Z") {
      scale.tare = scale.grams;
      reply = "Z A\r\n";
    } else if (cmd == "T") {
      scale.tare = scale.grams;
      char buf[64];
      std::snprintf(buf, sizeof buf, "T S %10lld g\r\n", static_cast<long long>(scale.tare));
      reply = buf;
    } else if (cmd == "TA") {
      char buf[64];
      std::snprintf(buf, sizeof buf, "TA A %10lld g\r\n", static_cast<long long>(scale.tare));
      reply = buf;
    } else if (cmd == "@") {
      reply = "I4 A \"SIM0001\"\r\n";
    } else {
      reply = "ES\r\n";
    }
    scaleServer->send(c, reply);
  });
  control = std::make_unique<LineServer>(*loop, controlPort, '\n', [&](int c, const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    std::string answer = "ok\n";
    if (verb == "scan") {
      std::string code;
      std::getline(in >> std::ws, code);
      // "\x1d" in the text stands for the GS separator of GS1 codes.
      for (size_t p; (p = code.find("\\x1d")) != std::string::npos;) code.replace(p, 4, "\x1d");
      if (scanner->clients() == 0) {
        answer = "error: no agent connected to the scanner\n";
      } else {
        scanner->sendAll(code + "\r");
      }
    } else if (verb == "weight") {
      std::string flag;
      in >> scale.grams >> flag;
      scale.motion = flag == "motion";
    } else if (verb == "settle") {
      scale.motion = false;
    } else if (verb == "silent") {
      in >> scale.silent;
    } else if (verb == "status") {
      answer = "scanner_clients=" + std::to_string(scanner->clients()) + " grams=" + std::to_string(scale.grams) +
               " motion=" + std::to_string(scale.motion) + "\n";
    } else {
      answer = "error: unknown command \"" + verb + "\" (scan CODE | weight G [motion] | settle | silent 0|1 | status)\n";
    }
    control->send(c, answer);
  });
  std::string ports = "scanner=" + std::to_string(scanner->port()) + " scale=" + std::to_string(scaleServer->port()) +
                      " control=" + std::to_string(control->port()) + "\n";
  if (!portsFile.empty()) {
    std::string tmp = portsFile + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    std::fputs(ports.c_str(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), portsFile.c_str());
  }
  std::cout << ports << std::flush;
  (void)loop->watchSignal(SIGTERM, [&] { loop->stop(); });
  (void)loop->watchSignal(SIGINT, [&] { loop->stop(); });
  return loop->run() ? 0 : 1;
}
