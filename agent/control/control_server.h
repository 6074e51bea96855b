#pragma once
// The agent's control socket: floorlinkctl sends one JSON request per
// connection ({"verb":"status","args":{...}}) and reads newline-delimited
// JSON lines back: zero or more {"progress":...} then one final
// {"ok":true,"result":...} or {"ok":false,"error":"..."}.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"

namespace floorlink::agent {

// One in-flight request. Handlers may answer at once or later (on the loop).
class ControlReply {
 public:
  virtual ~ControlReply() = default;
  virtual void progress(const nlohmann::json& update) = 0;
  virtual void finish(const Result<nlohmann::json>& result) = 0;
  // False once floorlinkctl hung up (e.g. Ctrl+C on a live reading).
  virtual bool connected() const = 0;
};

struct ControlOptions {
  std::filesystem::path socketPath;
  std::string group;  // socket owner group; empty: keep the process's group
};

class ControlServer {
 public:
  using Handler = std::function<void(const nlohmann::json& args, std::shared_ptr<ControlReply> reply)>;
  using SimpleHandler = std::function<Result<nlohmann::json>(const nlohmann::json& args)>;

  static Result<std::unique_ptr<ControlServer>> create(EventLoop& loop, const ControlOptions& options,
                                                       Logger logger);
  ~ControlServer();

  // Loop thread only (asserted), like every method below but socketPath().
  void handle(std::string verb, Handler handler);
  void handle(std::string verb, SimpleHandler handler);

  // In-process call of a verb (the web pages share the verbs with
  // floorlinkctl). Loop thread only; `done` runs once, on the loop, possibly
  // later for verbs that answer asynchronously. Progress lines are dropped.
  void invoke(const std::string& verb, const nlohmann::json& args,
              std::function<void(const Result<nlohmann::json>&)> done);

  const std::filesystem::path& socketPath() const { return path_; }

  struct Connection;

 private:
  ControlServer(EventLoop& loop, std::filesystem::path path, int fd, Logger logger);
  void accept();
  void onConnectionEvent(uint64_t id, uint32_t events);
  void dispatch(const std::shared_ptr<Connection>& conn, const std::string& request);

  EventLoop& loop_;
  std::filesystem::path path_;
  int fd_;
  EventLoop::WatchId watch_ = 0;
  Logger log_;
  std::map<std::string, Handler, std::less<>> handlers_;
  // Keyed by a serial number, not the fd: the kernel hands a closed fd's
  // number to the next accept() at once.
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t nextConnectionId_ = 1;
};

// Client side, used by floorlinkctl: sends a request and calls onLine for
// every progress line; returns the final result.
Result<nlohmann::json> controlRequest(const std::filesystem::path& socketPath, const std::string& verb,
                                      const nlohmann::json& args,
                                      const std::function<void(const nlohmann::json&)>& onProgress = {},
                                      int timeoutMs = 30000);

}  // namespace floorlink::agent
