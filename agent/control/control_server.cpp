#include "agent/control/control_server.h"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

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

struct ControlServer::Connection : ControlReply, std::enable_shared_from_this<Connection> {
  ControlServer* server = nullptr;
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
    if (out.empty()) close();
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
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        close();
        return;
      }
    }
    if (closed) return;
    uint32_t want = static_cast<uint32_t>(IoEvent::kRead);
    if (!out.empty()) want |= static_cast<uint32_t>(IoEvent::kWrite);
    (void)server->loop_.modifyFd(watch, want);
    if (finished && out.empty()) close();
  }
  void close() {
    if (closed) return;
    closed = true;
    server->loop_.unwatchFd(watch);
    ::close(fd);
    // Drop the server's reference after this callback returns.
    auto self = shared_from_this();
    server->loop_.post([srv = server, f = fd, self] { srv->connections_.erase(f); });
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
  if (::listen(fd, 16) < 0) {
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
  for (auto& [fd, conn] : connections_) {
    if (!conn->closed) {
      loop_.unwatchFd(conn->watch);
      ::close(conn->fd);
      conn->closed = true;
    }
  }
  loop_.unwatchFd(watch_);
  ::close(fd_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void ControlServer::handle(std::string verb, Handler handler) { handlers_[std::move(verb)] = std::move(handler); }

void ControlServer::handle(std::string verb, SimpleHandler handler) {
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
    if (c < 0) return;  // EAGAIN: no more pending
    auto conn = std::make_shared<Connection>();
    conn->server = this;
    conn->fd = c;
    auto watch = loop_.watchFd(c, static_cast<uint32_t>(IoEvent::kRead), [this, weak = std::weak_ptr(conn)](uint32_t ev) {
      auto self = weak.lock();
      if (!self || self->closed) return;
      if (has(ev, IoEvent::kWrite)) self->flush();
      if (self->closed || !(has(ev, IoEvent::kRead) || has(ev, IoEvent::kHangup))) return;
      char buf[4096];
      while (true) {
        ssize_t n = ::recv(self->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
          if (self->gotRequest) continue;  // one request per connection
          self->in.append(buf, static_cast<size_t>(n));
          if (auto nl = self->in.find('\n'); nl != std::string::npos) {
            self->gotRequest = true;
            dispatch(self, self->in.substr(0, nl));
            if (self->closed) return;
          } else if (self->in.size() > kMaxRequest) {
            self->gotRequest = true;
            self->finish(fail(ErrorCode::kInvalidArgument, "request too large"));
            return;
          }
        } else if (n == 0) {
          self->close();  // client went away
          return;
        } else {
          if (errno != EAGAIN && errno != EWOULDBLOCK) self->close();
          return;
        }
      }
    });
    if (!watch) {
      ::close(c);
      continue;
    }
    conn->watch = *watch;
    connections_[c] = conn;
  }
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
    return fail(ErrorCode::kIo, "cannot connect to " + socketPath.string() + ": " + std::strerror(e));
  }
  std::string req = nlohmann::json{{"verb", verb}, {"args", args}}.dump() + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return fail(ErrorCode::kIo, "cannot send the request to the agent");
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
      return fail(ErrorCode::kTimeout, "the agent did not answer within " + std::to_string(timeoutMs / 1000) +
                                           " s (is it stuck? see journalctl -u floorlink -e)");
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[8192];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) {
      ::close(fd);
      return fail(ErrorCode::kDisconnected, "the agent closed the connection without an answer");
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace floorlink::agent
