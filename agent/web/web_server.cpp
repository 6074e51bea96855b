#include "agent/web/web_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include <fmt/format.h>

#include "agent/control/control_server.h"
#include "agent/web/assets.h"
#include "agent/web/metrics.h"
#include "agent/web/views.h"
#include "core/loop_bound.h"

namespace floorlink::agent {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSessionCookie = "floorlink_session";
constexpr const char* kStationId = "([A-Za-z0-9._-]{1,64})";

std::string randomHex(size_t bytes) {
  std::string out;
  std::vector<unsigned char> buf(bytes);
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    [[maybe_unused]] auto n = ::read(fd, buf.data(), buf.size());
    ::close(fd);
  }
  for (auto b : buf) out += fmt::format("{:02x}", b);
  return out;
}

// Compares without an early exit, so timing does not leak the token.
bool sameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

int httpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kParse: return 400;
    case ErrorCode::kTimeout:
    case ErrorCode::kCancelled:
    case ErrorCode::kBusy: return 503;
    case ErrorCode::kUnsupported:
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kPermission: return 403;
    case ErrorCode::kIo:
    case ErrorCode::kDisconnected:
    case ErrorCode::kProtocol:
    case ErrorCode::kStorage:
    case ErrorCode::kDiskFull:
    case ErrorCode::kCorrupt:
    case ErrorCode::kFault:
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string dumpJson(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

WebOptions WebOptions::from(const config::Config& config) {
  WebOptions o;
  o.bind = config.http.bind;
  o.port = config.http.port;
  o.token = config.http.token;
  o.secrets = config.secrets();
  return o;
}

// What the HTTP threads wait on: answers from the loop, page changes, stop.
struct WebShared {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t generation = 0;
  bool stopping = false;
};

struct WebServer::Impl {
  ControlServer& control;
  WebOptions options;
  Logger log;
  WebShared shared;
  httplib::Server server;
  std::thread thread;
  std::string sessionKey = randomHex(24);
  bool requireToken = false;
  uint16_t port = 0;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> loopTimeouts{0};
  std::atomic<uint64_t> streams{0};
  bool stopped = false;
  // Last members: the HTTP threads reach the loop only through the poster,
  // and nothing they posted runs once the server is gone.
  LoopBound bound;
  LoopPoster poster = bound.poster();

  Impl(EventLoop& l, ControlServer& c, WebOptions o, Logger lg)
      : control(c), options(std::move(o)), log(std::move(lg)), bound(l) {}

  using Call = VerbCall;
  using Answers = VerbAnswers;

  // HTTP thread: runs the verbs on the loop, in one pass, and waits for all
  // answers or the timeout.
  Result<Answers> onLoop(std::vector<Call> calls) {
    struct Pending {
      Answers answers;
      size_t left = 0;
      bool done = false;
    };
    auto pending = std::make_shared<Pending>();
    pending->answers.assign(calls.size(), fail(ErrorCode::kInternal, "no answer"));
    pending->left = calls.size();
    {
      std::lock_guard lock(shared.mutex);
      if (shared.stopping) return fail(ErrorCode::kCancelled, "the agent is stopping");
    }
    poster.post([this, pending, calls = std::move(calls)] {
      for (size_t i = 0; i < calls.size(); ++i) {
        // An asynchronous verb may answer after the server is gone: dropped then.
        control.invoke(calls[i].verb, calls[i].args, bound.bind([this, pending, i](const Result<json>& r) {
          std::lock_guard lock(shared.mutex);
          pending->answers[i] = r;
          if (--pending->left == 0) {
            pending->done = true;
            shared.changed.notify_all();
          }
        }));
      }
    });
    std::unique_lock lock(shared.mutex);
    shared.changed.wait_for(lock, options.loopTimeout, [&] { return pending->done || shared.stopping; });
    if (pending->done) return std::move(pending->answers);
    if (shared.stopping) return fail(ErrorCode::kCancelled, "the agent is stopping");
    ++loopTimeouts;
    return fail(ErrorCode::kTimeout, fmt::format("the agent did not answer within {} ms (busy or stuck); try again",
                                                 options.loopTimeout.count()));
  }

  Result<json> one(std::string verb, json args) {
    auto a = onLoop({{std::move(verb), std::move(args)}});
    if (!a) return std::unexpected(a.error());
    return std::move((*a)[0]);
  }

  Result<json> stationPage(const std::string& id) {
    auto a = onLoop(stationViewCalls(id));
    if (!a) return std::unexpected(a.error());
    return stationView(*a);
  }

  Result<json> technicianPage() {
    auto a = onLoop(technicianViewCalls());
    if (!a) return std::unexpected(a.error());
    return technicianView(*a);
  }

  std::string scrub(std::string body) const {
    for (const auto& s : options.secrets) {
      if (s.size() < 3) continue;  // a one-letter "secret" would mangle every page
      for (size_t p; (p = body.find(s)) != std::string::npos;) body.replace(p, s.size(), "***");
    }
    return body;
  }

  void send(httplib::Response& res, int status, const std::string& body, const char* type) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(scrub(body), type);
  }
  void sendJson(httplib::Response& res, int status, const json& j) {
    send(res, status, dumpJson(j), "application/json; charset=utf-8");
  }
  void sendError(httplib::Response& res, const Error& e) {
    sendJson(res, httpStatusOf(e.code), json{{"error", e.message}, {"code", std::string(toString(e.code))}});
  }
  void sendResult(httplib::Response& res, const Result<json>& r) {
    if (r) {
      sendJson(res, 200, *r);
    } else {
      sendError(res, r.error());
    }
  }

  bool authorized(const httplib::Request& req) const {
    if (!requireToken) return true;
    auto auth = req.get_header_value("Authorization");
    if (auth.starts_with("Bearer ") && sameSecret(auth.substr(7), options.token)) return true;
    if (req.has_param("token") && sameSecret(req.get_param_value("token"), options.token)) return true;
    // The cookie holds a per-run session key, never the token itself.
    const std::string header = req.get_header_value("Cookie");
    std::string_view cookies = header;
    while (!cookies.empty()) {
      auto semi = cookies.find(';');
      auto item = cookies.substr(0, semi);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      std::string prefix = std::string(kSessionCookie) + "=";
      if (item.starts_with(prefix) && sameSecret(item.substr(prefix.size()), sessionKey)) return true;
      if (semi == std::string_view::npos) break;
      cookies.remove_prefix(semi + 1);
    }
    return false;
  }

  httplib::Server::HandlerResponse preRoute(const httplib::Request& req, httplib::Response& res) {
    ++requests;
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                   "connect-src 'self'; frame-ancestors 'none'");
    if (!authorized(req)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"floorlink\"");
      send(res, 401,
           "This floorlink agent needs its access token (http.token in /etc/floorlink/floorlink.toml). "
           "Open the page once as /?token=TOKEN or send \"Authorization: Bearer TOKEN\".\n",
           "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (requireToken && req.has_param("token")) {
      res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + sessionKey + "; Path=/; HttpOnly; SameSite=Strict");
      // A page opened with ?token= is shown again without it, so the token
      // does not stay in the address bar or the browser history.
      if (req.method == "GET" && !req.path.starts_with("/api/") && !req.path.starts_with("/events/") &&
          req.path != "/metrics") {
        res.set_redirect(req.path, 303);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.method == "POST") {
      // Actions change work on the floor: only our own pages may send them.
      // A cross-site form cannot send application/json without a CORS
      // preflight, which this server never grants.
      if (!req.get_header_value("Content-Type").starts_with("application/json")) {
        sendJson(res, 415, json{{"error", "send application/json"}});
        return httplib::Server::HandlerResponse::Handled;
      }
      auto origin = req.get_header_value("Origin");
      if (!origin.empty() && origin != "http://" + req.get_header_value("Host")) {
        sendJson(res, 403, json{{"error", "cross-origin request refused"}});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void page(httplib::Response& res, std::string_view assetName, const std::string& stationId) {
    auto a = webAsset(assetName);
    if (!a) return send(res, 500, "asset missing", "text/plain");
    std::string html(a->body);
    for (size_t p; (p = html.find("{{STATION}}")) != std::string::npos;) html.replace(p, 11, stationId);
    send(res, 200, html, "text/html; charset=utf-8");
  }

  // Server-Sent Events: a fresh snapshot after every change, a comment as
  // heartbeat, the end when the agent stops.
  void stream(httplib::Response& res, std::function<Result<json>()> fetch, std::chrono::milliseconds refresh) {
    if (streams.fetch_add(1) >= options.maxStreams) {
      --streams;
      return sendJson(res, 503, json{{"error", "too many live pages open"}});
    }
    struct State {
      bool first = true;
      uint64_t seen = 0;
      std::string last;
      Clock::time_point nextHeartbeat, nextRefresh;
    };
    auto st = std::make_shared<State>();
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, st, fetch = std::move(fetch), refresh](size_t, httplib::DataSink& sink) {
          bool fetchNow = st->first;
          auto now = Clock::now();
          if (st->first) {
            st->first = false;
            st->nextHeartbeat = now + options.heartbeat;
            st->nextRefresh = refresh.count() > 0 ? now + refresh : Clock::time_point::max();
            std::lock_guard lock(shared.mutex);
            st->seen = shared.generation;
            if (!sink.write("retry: 1000\n\n", 13)) return false;
          } else {
            std::unique_lock lock(shared.mutex);
            shared.changed.wait_until(lock, std::min(st->nextHeartbeat, st->nextRefresh),
                                       [&] { return shared.stopping || shared.generation != st->seen; });
            if (shared.stopping) return false;
            now = Clock::now();
            if (shared.generation != st->seen || now >= st->nextRefresh) fetchNow = true;
            st->seen = shared.generation;
          }
          if (fetchNow) {
            if (refresh.count() > 0) st->nextRefresh = now + refresh;
            auto snap = fetch();
            std::string text;
            if (snap) {
              std::string body = scrub(dumpJson(*snap));
              if (body != st->last) {
                text = fmt::format("id: {}\nevent: snapshot\ndata: {}\n\n", st->seen, body);
                st->last = std::move(body);
              }
            } else {
              text = "event: problem\ndata: " + scrub(dumpJson(json{{"error", snap.error().message}})) + "\n\n";
              st->last.clear();  // resend the state once the loop answers again
            }
            if (!text.empty()) {
              st->nextHeartbeat = Clock::now() + options.heartbeat;
              return sink.write(text.data(), text.size());
            }
          }
          if (Clock::now() >= st->nextHeartbeat) {
            st->nextHeartbeat = Clock::now() + options.heartbeat;
            return sink.write(": keepalive\n\n", 13);
          }
          return true;
        },
        [this](bool) { --streams; });
  }

  // The station buttons are the command barcodes the bench has on paper.
  static Result<std::string> actionCode(const json& body) {
    std::string action = body.value("action", "");
    if (action == "short") return std::string("CMD:SHORT");
    if (action == "reweigh") return std::string("CMD:REWEIGH");
    if (action == "reprint") return std::string("CMD:REPRINT");
    if (action == "override") {
      std::string who = body.value("supervisor", "");
      if (who.empty()) return fail(ErrorCode::kInvalidArgument, "a supervisor override needs the supervisor's id");
      return "CMD:OVERRIDE:" + who;
    }
    return fail(ErrorCode::kInvalidArgument, "unknown action \"" + action + "\" (short, reweigh, reprint, override)");
  }

  void routes() {
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return preRoute(req, res); });
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) { page(res, "technician.html", ""); });
    server.Get(std::string("/station/") + kStationId, [this](const httplib::Request& req, httplib::Response& res) {
      std::string id = req.matches[1];
      auto v = one("station", {{"station", id}});
      if (!v) {
        if (v.error().code == ErrorCode::kNotFound) {
          return send(res, 404, "No station \"" + id + "\" here. The technician page (/) lists every station.\n",
                      "text/plain; charset=utf-8");
        }
        return sendError(res, v.error());
      }
      page(res, "station.html", id);
    });
    server.Get("/assets/([a-z_]+\\.(css|js))", [this](const httplib::Request& req, httplib::Response& res) {
      auto a = webAsset(std::string(req.matches[1]));
      if (!a) return send(res, 404, "no such asset\n", "text/plain");
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(a->body), std::string(a->contentType));
    });
    server.Get(std::string("/api/station/") + kStationId, [this](const httplib::Request& req, httplib::Response& res) {
      sendResult(res, stationPage(req.matches[1]));
    });
    server.Get("/api/technician", [this](const httplib::Request&, httplib::Response& res) {
      sendResult(res, technicianPage());
    });
    server.Get(std::string("/events/station/") + kStationId, [this](const httplib::Request& req, httplib::Response& res) {
      std::string id = req.matches[1];
      auto first = one("station", {{"station", id}});
      if (!first) return sendError(res, first.error());
      stream(res, [this, id] { return stationPage(id); }, std::chrono::milliseconds{0});
    });
    server.Get("/events/technician", [this](const httplib::Request&, httplib::Response& res) {
      stream(res, [this] { return technicianPage(); }, options.technicianRefresh);
    });
    server.Post(std::string("/api/station/") + kStationId + "/code",
                [this](const httplib::Request& req, httplib::Response& res) {
                  auto body = json::parse(req.body, nullptr, false);
                  if (!body.is_object() || !body.contains("code") || !body["code"].is_string() ||
                      body["code"].get<std::string>().empty()) {
                    return sendJson(res, 400, json{{"error", "send {\"code\": \"...\"}"}});
                  }
                  sendResult(res, one("scan", {{"station", std::string(req.matches[1])},
                                               {"code", body["code"]},
                                               {"source", "keyboard"}}));
                });
    server.Post(std::string("/api/station/") + kStationId + "/action",
                [this](const httplib::Request& req, httplib::Response& res) {
                  auto body = json::parse(req.body, nullptr, false);
                  if (!body.is_object()) return sendJson(res, 400, json{{"error", "send a JSON object"}});
                  auto code = actionCode(body);
                  if (!code) return sendError(res, code.error());
                  sendResult(res, one("scan", {{"station", std::string(req.matches[1])},
                                               {"code", *code},
                                               {"source", "keyboard"}}));
                });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      auto m = one("metrics", json::object());
      if (!m) return sendError(res, m.error());
      HttpCounters h{requests.load(), loopTimeouts.load(), streams.load()};
      send(res, 200, prometheusText(*m, h), "text/plain; version=0.0.4; charset=utf-8");
    });
    server.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (res.status == 404 && res.body.empty()) send(res, 404, "Not found. The technician page is at /.\n", "text/plain");
    });
    server.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      log.error("http handler failed: {}", what);
      sendJson(res, 500, json{{"error", "internal error"}});
    });
  }
};

Result<std::unique_ptr<WebServer>> WebServer::create(EventLoop& loop, ControlServer& control, WebOptions options,
                                                     Logger logger) {
  auto impl = std::make_unique<Impl>(loop, control, std::move(options), std::move(logger));
  auto& d = *impl;
  bool loopback = config::isLoopbackAddress(d.options.bind);
  if (!loopback && d.options.token.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "http.bind " + d.options.bind + " is not loopback: set http.token so only the floor's screens get in");
  }
  d.requireToken = !d.options.token.empty();
  // A thread per open page (SSE holds its worker) plus some for requests.
  size_t workers = d.options.maxStreams + 6;
  d.server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  // Idle keep-alive connections hold a worker and delay stop(): keep it short.
  d.server.set_keep_alive_timeout(1);
  d.server.set_read_timeout(5);
  d.server.set_write_timeout(5);
  d.server.set_payload_max_length(64 * 1024);
  d.server.set_tcp_nodelay(true);
  d.routes();
  std::string host = d.options.bind == "localhost" ? "127.0.0.1" : d.options.bind;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (d.options.port == 0) {
    int p = d.server.bind_to_any_port(host);
    if (p <= 0) return fail(ErrorCode::kIo, "http: cannot listen on " + host);
    d.port = static_cast<uint16_t>(p);
  } else {
    if (!d.server.bind_to_port(host, d.options.port)) {
      return fail(ErrorCode::kIo, fmt::format("http: cannot listen on {}:{} (port taken by another program, or "
                                              "not an address of this machine); change [http] bind/port",
                                              host, d.options.port));
    }
    d.port = d.options.port;
  }
  d.thread = std::thread([&d] {
    // SIGTERM and friends belong to the loop's signalfd: this thread and the
    // workers it starts (they inherit the mask) must never take them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    d.server.listen_after_bind();
  });
  // stop() before the listener runs would be lost (httplib checks is_running).
  for (int i = 0; i < 2000 && !d.server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  d.log.info("station screens and technician page on http://{}:{}/{}", d.options.bind, d.port,
             d.requireToken ? " (token required)" : "");
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebServer::~WebServer() { stop(); }

uint16_t WebServer::port() const { return impl_->port; }

void WebServer::notifyChanged() {
  std::lock_guard lock(impl_->shared.mutex);
  ++impl_->shared.generation;
  impl_->shared.changed.notify_all();
}

void WebServer::stop() {
  auto& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  {
    std::lock_guard lock(d.shared.mutex);
    d.shared.stopping = true;
    d.shared.changed.notify_all();
  }
  d.server.stop();
  if (d.thread.joinable()) d.thread.join();
}

}  // namespace floorlink::agent
