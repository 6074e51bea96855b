#include "agent/control/control_server.h"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace floorlink::agent {
namespace {

constexpr size_t kMaxRequest = 64 * 1024;

std::string errnoText() { return std::strerror(errno); }

Result<sockaddr_un> socketAddress(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = path.string();
  if (s.size() >= sizeof addr.sun_path) {
    return fail(ErrorCode::kInvalidArgument, "control socket path is too long: " + s);
  }
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return addr;
}

}  // namespace

struct ControlServer::Connection : ControlReply {
  ControlServer* server = nullptr;
  uint64_t id = 0;
  int fd = -1;
  EventLoop::WatchId watch = 0;
  std::string in;
  std::string out;  // pending bytes (floorlinkctl reads slowly or not at all)
  bool gotRequest = false;
  bool finished = false;
  bool closed = false;

  void progress(const nlohmann::json& update) override {
    if (finished || closed) return;
    send(nlohmann::json{{"progress", update}});
  }
  void finish(const Result<nlohmann::json>& result) override {
    if (finished || closed) return;
    finished = true;
    if (result) {
      send(nlohmann::json{{"ok", true}, {"result", *result}});
    } else {
      send(nlohmann::json{{"ok", false}, {"error", result.error().message},
                          {"code", std::string(toString(result.error().code))}});
    }
  }
  bool connected() const override { return !closed; }

  void send(const nlohmann::json& line) {
    out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
    flush();
  }
  void flush() {
    while (!out.empty() && !closed) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out.erase(0, static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        close();
        return;
      }
    }
    if (closed) return;
    if (finished && out.empty()) {
      close();
      return;
    }
    // Write interest only while bytes wait: a writable socket would wake the loop for nothing.
    uint32_t want = static_cast<uint32_t>(IoEvent::kRead);
    if (!out.empty()) want |= static_cast<uint32_t>(IoEvent::kWrite);
    (void)server->loop_.modifyFd(watch, want);
  }
  // Reads until EAGAIN. Returns the request once its line is complete,
  // however many reads that took; later bytes are dropped (one request per
  // connection) and the end of the stream closes the connection.
  std::optional<std::string> readRequest() {
    char buf[4096];
    while (!closed) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        if (gotRequest) continue;
        in.append(buf, static_cast<size_t>(n));
        if (auto nl = in.find('\n'); nl != std::string::npos) {
          gotRequest = true;
          std::string request = in.substr(0, nl);
          in.clear();
          return request;
        }
        if (in.size() > kMaxRequest) {
          gotRequest = true;
          finish(fail(ErrorCode::kInvalidArgument, "request too large"));
        }
      } else if (n == 0) {
        close();
      } else if (errno != EINTR) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) close();
        break;
      }
    }
    return std::nullopt;
  }
  void close() {
    if (closed) return;
    closed = true;
    server->loop_.unwatchFd(watch);
    // Forgotten before the fd is closed, so a connection accepted with the
    // same fd number is never mistaken for this one. The caller holds a
    // reference (the reply or the event handler), so *this outlives the call.
    server->connections_.erase(id);
    ::close(fd);
  }
};

Result<std::unique_ptr<ControlServer>> ControlServer::create(EventLoop& loop, const ControlOptions& options,
                                                             Logger logger) {
  auto addr = socketAddress(options.socketPath);
  if (!addr) return std::unexpected(addr.error());
  std::error_code ec;
  std::filesystem::create_directories(options.socketPath.parent_path(), ec);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kIo, "control socket: " + errnoText());
  // A stale socket from a crashed agent would block bind(); a live agent
  // answers connect(), and then we refuse to start twice.
  if (std::filesystem::exists(options.socketPath, ec)) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool alive = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) == 0;
    if (probe >= 0) ::close(probe);
    if (alive) {
      ::close(fd);
      return fail(ErrorCode::kAlreadyExists, "another floorlink agent is running on " + options.socketPath.string() +
                                                 "; stop it first (systemctl stop floorlink)");
    }
    std::filesystem::remove(options.socketPath, ec);
  }
  mode_t old = ::umask(0117);  // socket file 0660: owner and service group only
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr);
  ::umask(old);
  if (rc < 0) {
    std::string why = errnoText();
    ::close(fd);
    return fail(ErrorCode::kIo, "cannot create control socket " + options.socketPath.string() + ": " + why);
  }
  if (!options.group.empty()) {
    group* g = ::getgrnam(options.group.c_str());
    if (g == nullptr || ::chown(options.socketPath.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      ::close(fd);
      return fail(ErrorCode::kPermission, "cannot give control socket to group \"" + options.group +
                                              "\" (does the group exist?)");
    }
  }
  // A burst (scripts, the pages, requests queued while the agent starts)
  // must not make floorlinkctl wait in connect().
  if (::listen(fd, SOMAXCONN) < 0) {
    std::string why = errnoText();
    ::close(fd);
    return fail(ErrorCode::kIo, "control socket listen: " + why);
  }
  auto server = std::unique_ptr<ControlServer>(new ControlServer(loop, options.socketPath, fd, std::move(logger)));
  auto watch = loop.watchFd(fd, static_cast<uint32_t>(IoEvent::kRead), [s = server.get()](uint32_t) { s->accept(); });
  if (!watch) return std::unexpected(watch.error());
  server->watch_ = *watch;
  return server;
}

ControlServer::ControlServer(EventLoop& loop, std::filesystem::path path, int fd, Logger logger)
    : loop_(loop), path_(std::move(path)), fd_(fd), log_(std::move(logger)) {}

ControlServer::~ControlServer() {
  loop_.assertLoopThread();
  // A handler may still hold a reply (a live weigh): closed makes it a no-op.
  for (auto& [id, conn] : connections_) {
    loop_.unwatchFd(conn->watch);
    ::close(conn->fd);
    conn->closed = true;
  }
  connections_.clear();
  loop_.unwatchFd(watch_);
  ::close(fd_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void ControlServer::handle(std::string verb, Handler handler) {
  loop_.assertLoopThread();
  handlers_[std::move(verb)] = std::move(handler);
}

void ControlServer::handle(std::string verb, SimpleHandler handler) {
  loop_.assertLoopThread();
  handlers_[std::move(verb)] = [h = std::move(handler)](const nlohmann::json& args,
                                                        std::shared_ptr<ControlReply> reply) {
    reply->finish(h(args));
  };
}

namespace {
// The reply of an in-process invoke(): no socket, just the callback.
class InProcessReply final : public ControlReply {
 public:
  explicit InProcessReply(std::function<void(const Result<nlohmann::json>&)> done) : done_(std::move(done)) {}
  void progress(const nlohmann::json&) override {}
  void finish(const Result<nlohmann::json>& result) override {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(result);
  }
  bool connected() const override { return static_cast<bool>(done_); }

 private:
  std::function<void(const Result<nlohmann::json>&)> done_;
};
}  // namespace

void ControlServer::invoke(const std::string& verb, const nlohmann::json& args,
                           std::function<void(const Result<nlohmann::json>&)> done) {
  loop_.assertLoopThread();
  auto reply = std::make_shared<InProcessReply>(std::move(done));
  auto it = handlers_.find(verb);
  if (it == handlers_.end()) {
    reply->finish(fail(ErrorCode::kNotFound, "the agent does not know the verb \"" + verb + "\""));
    return;
  }
  try {
    it->second(args, reply);
  } catch (const std::exception& e) {
    log_.error("verb {} failed: {}", verb, e.what());
    reply->finish(fail(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
  }
}

void ControlServer::accept() {
  while (true) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) log_.warn("control socket accept: {}", errnoText());
      return;
    }
    auto conn = std::make_shared<Connection>();
    conn->server = this;
    conn->id = nextConnectionId_++;
    conn->fd = c;
    auto watch = loop_.watchFd(c, static_cast<uint32_t>(IoEvent::kRead),
                               [this, id = conn->id](uint32_t ev) { onConnectionEvent(id, ev); });
    if (!watch) {
      ::close(c);
      continue;
    }
    conn->watch = *watch;
    connections_[conn->id] = std::move(conn);
  }
}

void ControlServer::onConnectionEvent(uint64_t id, uint32_t events) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  auto conn = it->second;  // keeps it alive while it closes itself
  if (has(events, IoEvent::kWrite)) conn->flush();
  if (conn->closed) return;
  if (!(has(events, IoEvent::kRead) || has(events, IoEvent::kHangup) || has(events, IoEvent::kError))) return;
  // A request's own reply may close the connection before the stream's end is read: level-triggered
  // epoll reports what is left on the next pass.
  if (auto request = conn->readRequest()) dispatch(conn, *request);
}

void ControlServer::dispatch(const std::shared_ptr<Connection>& conn, const std::string& request) {
  nlohmann::json req = nlohmann::json::parse(request, nullptr, false);
  if (req.is_discarded() || !req.is_object() || !req.contains("verb") || !req["verb"].is_string()) {
    conn->finish(fail(ErrorCode::kInvalidArgument, "malformed control request"));
    return;
  }
  std::string verb = req["verb"].get<std::string>();
  nlohmann::json args = req.value("args", nlohmann::json::object());
  auto it = handlers_.find(verb);
  if (it == handlers_.end()) {
    conn->finish(fail(ErrorCode::kNotFound, "the agent does not know the verb \"" + verb +
                                                "\" (is floorlinkctl newer than the agent?)"));
    return;
  }
  log_.debug("control request: {}", verb);
  try {
    it->second(args, conn);
  } catch (const std::exception& e) {
    // A handler bug must not take the agent down with it.
    log_.error("control verb {} failed: {}", verb, e.what());
    conn->finish(fail(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
  }
}

Result<nlohmann::json> controlRequest(const std::filesystem::path& socketPath, const std::string& verb,
                                      const nlohmann::json& args,
                                      const std::function<void(const nlohmann::json&)>& onProgress, int timeoutMs) {
  auto addr = socketAddress(socketPath);
  if (!addr) return std::unexpected(addr.error());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kIo, "socket: " + errnoText());
  auto timedOut = [timeoutMs] {
    return fail(ErrorCode::kTimeout, "the agent did not answer within " + std::to_string(timeoutMs / 1000) +
                                         " s (is it stuck? see journalctl -u floorlink -e)");
  };
  // Bounds connect() (an agent whose backlog is full) and send() like the answer.
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) < 0) {
    int e = errno;
    ::close(fd);
    if (e == ENOENT || e == ECONNREFUSED) {
      return fail(ErrorCode::kDisconnected,
                  "the floorlink agent is not running (no answer on " + socketPath.string() +
                      "). Start it with: systemctl start floorlink; see why it stopped with: journalctl -u floorlink -e");
    }
    if (e == EACCES) {
      return fail(ErrorCode::kPermission, "permission denied on " + socketPath.string() +
                                              ": run as root or as a member of the floorlink group");
    }
    if (e == EAGAIN || e == EWOULDBLOCK) return timedOut();
    return fail(ErrorCode::kIo, "cannot connect to " + socketPath.string() + ": " + std::strerror(e));
  }
  std::string req = nlohmann::json{{"verb", verb}, {"args", args}}.dump() + "\n";
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(ErrorCode::kIo, "cannot send the request to the agent");
    }
    sent += static_cast<size_t>(n);
  }
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (true) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      auto line = nlohmann::json::parse(buf.substr(0, nl), nullptr, false);
      buf.erase(0, nl + 1);
      if (line.is_discarded() || !line.is_object()) continue;
      if (line.contains("progress")) {
        if (onProgress) onProgress(line["progress"]);
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        continue;
      }
      ::close(fd);
      if (line.value("ok", false)) return line.value("result", nlohmann::json());
      return fail(parseErrorCode(line.value("code", std::string("internal"))),
                  line.value("error", std::string("the agent reported an error")));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::close(fd);
      return timedOut();
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[8192];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(ErrorCode::kDisconnected, "the agent closed the connection without an answer");
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace floorlink::agent
