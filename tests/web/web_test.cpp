// The HTTP server on its own: a real event loop thread and control server
// with fake verbs standing in for the agent, httplib's client on loopback.
#include "agent/web/web_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "agent/control/control_server.h"

namespace floorlink::agent {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecret = "hunter2-broker-password";

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/floorlink-web-XXXXXX";
    dir_ = mkdtemp(tmpl);
    loop_ = std::move(*EventLoop::create());
    auto control = ControlServer::create(*loop_, {dir_ / "ctl.sock", ""}, Logger());
    ASSERT_TRUE(control.has_value()) << control.error().message;
    control_ = std::move(*control);
    registerFakeVerbs();
    loopThread_ = std::thread([this] { (void)loop_->run(); });
  }
  void TearDown() override {
    if (web_) web_->stop();
    onLoop([&] { web_.reset(); });  // the server is bound to the loop thread
    loop_->stop();
    loopThread_.join();
    control_.reset();
    loop_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Loop thread only, like the agent's state.
  void registerFakeVerbs() {
    using H = ControlServer::SimpleHandler;
    control_->handle("station", H([this](const json& args) -> Result<json> {
      std::string id = args.value("station", "");
      if (id != "pick1") return fail(ErrorCode::kNotFound, "no station \"" + id + "\"");
      return json{{"id", "pick1"}, {"kind", "pick"}, {"step", step_}, {"prompt", "Scan the bin"},
                  {"message", ""}, {"message_is_error", false}, {"last_scans", json::array()},
                  {"task", json{{"task_id", "T-1"}, {"bin", "A-01"}, {"qty", 3}, {"qty_done", qtyDone_}}},
                  {"devices", {{"scanner", "scanner1"}, {"scale", ""}, {"printer", ""}}}};
    }));
    control_->handle("status", H([](const json&) -> Result<json> {
      return json{{"agent_version", "9.9.9"},
                  {"broker", {{"connected", false}, {"url", std::string("tcp://user:") + kSecret + "@broker"}}},
                  {"outbox", {{"depth", 5}, {"oldest_unacked_ms", 2000}}},
                  {"stations", json::array({{{"id", "pick1"}, {"kind", "pick"}, {"step", "scan_bin"}}})},
                  {"warnings", json::array()}};
    }));
    control_->handle("devices", H([](const json&) -> Result<json> {
      return json{{"devices", json::array({{{"id", "scanner1"}, {"kind", "scanner"}, {"state", "ok"}, {"detail", ""}}})}};
    }));
    control_->handle("logs", H([](const json&) -> Result<json> {
      return json{{"lines", json::array({{{"level", "warn"}, {"module", "sync"}, {"text", "hello"}}})}};
    }));
    control_->handle("scan", H([this](const json& args) -> Result<json> {
      if (args.value("station", "") != "pick1") return fail(ErrorCode::kNotFound, "no station");
      scans_.push_back(args);
      ++qtyDone_;
      if (web_) web_->notifyChanged();
      return json{{"step", step_}};
    }));
    control_->handle("metrics", H([](const json&) -> Result<json> {
      return json{{"outbox", {{"depth", 5}}}, {"version", "9.9.9"}};
    }));
  }

  void start(WebOptions o = {}) {
    o.port = 0;
    if (o.bind.empty()) o.bind = "127.0.0.1";
    o.secrets.push_back(kSecret);
    if (o.heartbeat == WebOptions{}.heartbeat) o.heartbeat = 200ms;
    Result<std::unique_ptr<WebServer>> w = fail(ErrorCode::kInternal, "not created");
    onLoop([&] { w = WebServer::create(*loop_, *control_, o, Logger()); });
    ASSERT_TRUE(w.has_value()) << w.error().message;
    web_ = std::move(*w);
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", web_->port());
    c.set_read_timeout(5, 0);
    return c;
  }
  // Runs `f` on the loop thread and waits for it.
  template <class F>
  void onLoop(F f) {
    std::promise<void> done;
    loop_->post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  std::vector<json> scansSeen() {
    std::vector<json> out;
    onLoop([&] { out = scans_; });
    return out;
  }

  // Collects an SSE stream on a thread.
  struct Stream {
    std::mutex mutex;
    std::condition_variable cv;
    std::string data;
    std::atomic<bool> stop{false};
    std::thread thread;
    int status = 0;
    ~Stream() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
    bool waitFor(const std::string& needle, std::chrono::milliseconds t) {
      std::unique_lock lock(mutex);
      return cv.wait_for(lock, t, [&] { return data.find(needle) != std::string::npos; });
    }
    std::string text() {
      std::lock_guard lock(mutex);
      return data;
    }
  };
  std::unique_ptr<Stream> openStream(const std::string& path, httplib::Headers headers = {}) {
    auto s = std::make_unique<Stream>();
    auto* raw = s.get();
    uint16_t port = web_->port();
    s->thread = std::thread([raw, port, path, headers] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(5, 0);
      auto res = c.Get(path, headers, [raw](const char* d, size_t n) {
        std::lock_guard lock(raw->mutex);
        raw->data.append(d, n);
        raw->cv.notify_all();
        return !raw->stop.load();
      });
      if (res) raw->status = res->status;
    });
    return s;
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<WebServer> web_;
  std::thread loopThread_;
  // Loop-thread state of the fake agent.
  std::string step_ = "scan_bin";
  int qtyDone_ = 0;
  std::vector<json> scans_;
};

TEST_F(WebTest, PagesAssetsAndApiRoutes) {
  start();
  auto c = client();
  auto tech = c.Get("/");
  ASSERT_TRUE(tech);
  EXPECT_EQ(tech->status, 200);
  EXPECT_NE(tech->body.find("/assets/technician.js"), std::string::npos);
  EXPECT_EQ(tech->get_header_value("Content-Type"), "text/html; charset=utf-8");

  auto station = c.Get("/station/pick1");
  ASSERT_TRUE(station);
  EXPECT_EQ(station->status, 200);
  EXPECT_NE(station->body.find("data-station=\"pick1\""), std::string::npos);
  EXPECT_EQ(station->body.find("{{STATION}}"), std::string::npos);

  for (const char* a : {"/assets/station.js", "/assets/technician.js", "/assets/app.css"}) {
    auto r = c.Get(a);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << a;
    EXPECT_GT(r->body.size(), 500u) << a;
  }
  EXPECT_EQ(c.Get("/assets/nothing.js")->status, 404);
  EXPECT_EQ(c.Get("/no/such/page")->status, 404);

  auto api = c.Get("/api/station/pick1");
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200);
  auto j = json::parse(api->body);
  EXPECT_EQ(j["station"]["task"]["bin"], "A-01");
  EXPECT_EQ(j["agent"]["backlog"], 5);
  EXPECT_EQ(j["agent"]["online"], false);
  EXPECT_EQ(j["scanner"]["state"], "ok");

  auto t = c.Get("/api/technician");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 200);
  auto tj = json::parse(t->body);
  EXPECT_EQ(tj["status"]["agent_version"], "9.9.9");
  EXPECT_EQ(tj["logs"][0]["text"], "hello");
  EXPECT_TRUE(tj["print_jobs"].is_array());  // no printer verb: empty, not an error
}

TEST_F(WebTest, UnknownStationIs404Everywhere) {
  start();
  auto c = client();
  EXPECT_EQ(c.Get("/station/pack9")->status, 404);
  EXPECT_EQ(c.Get("/api/station/pack9")->status, 404);
  EXPECT_EQ(c.Get("/events/station/pack9")->status, 404);
  EXPECT_EQ(c.Post("/api/station/pack9/code", R"({"code":"X"})", "application/json")->status, 404);
  EXPECT_EQ(c.Get("/station/..%2Fetc")->status, 404);
}

TEST_F(WebTest, KeyboardCodesAndButtonsGoThroughTheScanVerb) {
  start();
  auto c = client();
  auto r = c.Post("/api/station/pick1/code", R"({"code":"A-01"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Post("/api/station/pick1/action", R"({"action":"short"})", "application/json");
  EXPECT_EQ(r->status, 200);
  r = c.Post("/api/station/pick1/action", R"({"action":"override","supervisor":"sup7"})", "application/json");
  EXPECT_EQ(r->status, 200);
  r = c.Post("/api/station/pick1/action", R"({"action":"override"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("supervisor"), std::string::npos);
  r = c.Post("/api/station/pick1/action", R"({"action":"format-disk"})", "application/json");
  EXPECT_EQ(r->status, 400);
  // A cross-site form post (no JSON) or another origin is refused.
  r = c.Post("/api/station/pick1/code", "code=A-01", "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 415);
  httplib::Headers evil{{"Origin", "http://evil.example"}};
  r = c.Post("/api/station/pick1/code", evil, R"({"code":"A-01"})", "application/json");
  EXPECT_EQ(r->status, 403);

  auto scans = scansSeen();
  ASSERT_EQ(scans.size(), 3u);
  EXPECT_EQ(scans[0]["code"], "A-01");
  EXPECT_EQ(scans[0]["source"], "keyboard");
  EXPECT_EQ(scans[1]["code"], "CMD:SHORT");
  EXPECT_EQ(scans[2]["code"], "CMD:OVERRIDE:sup7");
}

TEST_F(WebTest, TokenRequiredWhenSetAndOffLoopback) {
  EXPECT_TRUE(config::isLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(config::isLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(config::isLoopbackAddress("::1"));
  EXPECT_TRUE(config::isLoopbackAddress("localhost"));
  EXPECT_FALSE(config::isLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(config::isLoopbackAddress("10.1.2.3"));
  EXPECT_FALSE(config::isLoopbackAddress("::"));
  // Off loopback without a token the server refuses to start (before binding).
  WebOptions open;
  open.bind = "0.0.0.0";
  open.port = 0;
  Result<std::unique_ptr<WebServer>> refused = fail(ErrorCode::kInternal, "not created");
  onLoop([&] { refused = WebServer::create(*loop_, *control_, open, Logger()); });
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("http.token"), std::string::npos);

  const std::string token = "tok-3f9a7c1e55";
  WebOptions o;
  o.token = token;
  o.secrets = {token};
  start(o);
  auto c = client();
  for (const char* path : {"/", "/station/pick1", "/api/station/pick1", "/metrics", "/events/technician",
                           "/assets/station.js"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(r->body.find(token), std::string::npos);
  }
  EXPECT_EQ(c.Post("/api/station/pick1/code", R"({"code":"A-01"})", "application/json")->status, 401);
  EXPECT_EQ(c.Get("/?token=wrong")->status, 401);
  EXPECT_EQ(c.Get("/", {{"Authorization", "Bearer wrong"}})->status, 401);

  auto bearer = c.Get("/metrics", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(bearer->status, 200);

  // ?token= once: a session cookie (never the token) and the page again without it.
  auto first = c.Get("/station/pick1?token=" + token);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 303);
  EXPECT_EQ(first->get_header_value("Location"), "/station/pick1");
  auto cookie = first->get_header_value("Set-Cookie");
  EXPECT_EQ(cookie.find(token), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  auto session = cookie.substr(0, cookie.find(';'));
  auto page = c.Get("/station/pick1", {{"Cookie", "other=1; " + session}});
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find(token), std::string::npos);
  EXPECT_EQ(c.Get("/", {{"Cookie", "floorlink_session=forged"}})->status, 401);
}

TEST_F(WebTest, MetricsInPrometheusFormat) {
  start();
  auto r = client().Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE floorlink_outbox_depth gauge\nfloorlink_outbox_depth 5\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("floorlink_http_requests_total "), std::string::npos);
}

TEST_F(WebTest, SecretsNeverLeaveTheServer) {
  start();
  auto c = client();
  for (const char* path : {"/api/technician", "/api/station/pick1", "/metrics"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.find(kSecret), std::string::npos) << path;
  }
  EXPECT_NE(c.Get("/api/technician")->body.find("tcp://user:***@broker"), std::string::npos);
  auto s = openStream("/events/technician");
  ASSERT_TRUE(s->waitFor("event: snapshot", 3s));
  EXPECT_EQ(s->text().find(kSecret), std::string::npos);
}

TEST_F(WebTest, SseDeliversAChangeWithin200ms) {
  start();
  auto s = openStream("/events/station/pick1");
  ASSERT_TRUE(s->waitFor("\"qty_done\":0,", 3s)) << s->text();
  EXPECT_NE(s->text().find("retry: 1000"), std::string::npos);
  std::vector<double> ms;
  for (int i = 1; i <= 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    loop_->post([this] {
      ++qtyDone_;
      web_->notifyChanged();
    });
    ASSERT_TRUE(s->waitFor("\"qty_done\":" + std::to_string(i) + ",", 2s)) << s->text();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "SSE change to client: p50 " << ms[ms.size() / 2] << " ms, max " << ms.back() << " ms\n";
  EXPECT_LT(ms.back(), 200.0);
  // Nothing changed: no snapshot, only heartbeats.
  auto before = s->text();
  std::this_thread::sleep_for(500ms);
  auto after = s->text().substr(before.size());
  EXPECT_EQ(after.find("event: snapshot"), std::string::npos) << after;
  EXPECT_NE(after.find(": keepalive"), std::string::npos);
}

TEST_F(WebTest, SseReconnectResumesWithTheCurrentState) {
  start();
  {
    auto s = openStream("/events/station/pick1");
    ASSERT_TRUE(s->waitFor("\"qty_done\":0,", 3s));
  }  // the page goes away (network blip, reload)
  onLoop([this] { qtyDone_ = 7; });  // changes while nobody watches
  web_->notifyChanged();
  auto again = openStream("/events/station/pick1", {{"Last-Event-ID", "3"}});
  EXPECT_TRUE(again->waitFor("\"qty_done\":7,", 3s)) << again->text();
}

TEST_F(WebTest, StuckLoopAnswers503) {
  WebOptions o;
  o.loopTimeout = 300ms;
  start(o);
  std::promise<void> release;
  auto released = release.get_future().share();
  loop_->post([released] { released.wait_for(5s); });  // the loop is busy
  auto c = client();
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.Get("/api/station/pick1");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("did not answer"), std::string::npos);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(c.Get("/station/pick1")->status, 503);
  release.set_value();
  // The loop is back: so are the pages, and the timeouts were counted.
  auto ok = c.Get("/api/station/pick1");
  EXPECT_EQ(ok->status, 200);
  auto m = c.Get("/metrics");
  EXPECT_NE(m->body.find("floorlink_http_loop_timeouts_total 2"), std::string::npos) << m->body;
}

TEST_F(WebTest, StopEndsOpenStreamsPromptly) {
  start();
  auto a = openStream("/events/station/pick1");
  auto b = openStream("/events/technician");
  ASSERT_TRUE(a->waitFor("event: snapshot", 3s));
  ASSERT_TRUE(b->waitFor("event: snapshot", 3s));
  auto t0 = std::chrono::steady_clock::now();
  web_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  a->thread.join();
  b->thread.join();
}

TEST_F(WebTest, TooManyStreamsGet503) {
  WebOptions o;
  o.maxStreams = 2;
  start(o);
  auto a = openStream("/events/technician");
  auto b = openStream("/events/technician");
  ASSERT_TRUE(a->waitFor("event: snapshot", 3s));
  ASSERT_TRUE(b->waitFor("event: snapshot", 3s));
  EXPECT_EQ(client().Get("/events/technician")->status, 503);
  EXPECT_EQ(client().Get("/api/technician")->status, 200);  // requests still served
}

TEST_F(WebTest, InvokeRunsVerbsInProcess) {
  std::promise<Result<json>> got, missing;
  loop_->post([&] {
    control_->invoke("station", {{"station", "pick1"}}, [&](const Result<json>& r) { got.set_value(r); });
    control_->invoke("no.such.verb", json::object(), [&](const Result<json>& r) { missing.set_value(r); });
  });
  auto r = got.get_future().get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)["id"], "pick1");
  auto m = missing.get_future().get();
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace floorlink::agent
