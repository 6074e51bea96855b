#include "agent/control/control_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace floorlink::agent {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/floorlink-ctl-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ / "ctl.sock";
    loop_ = std::move(*EventLoop::create());
    auto server = ControlServer::create(*loop_, {path_, ""}, Logger());
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Runs the loop while a client thread makes one request.
  Result<json> request(const std::string& verb, const json& args = json::object(),
                       std::vector<json>* progress = nullptr) {
    auto fut = std::async(std::launch::async, [&] {
      auto r = controlRequest(path_, verb, args, [&](const json& p) { if (progress) progress->push_back(p); }, 5000);
      loop_->stop();
      return r;
    });
    EXPECT_TRUE(loop_->run());
    return fut.get();
  }

  std::filesystem::path dir_, path_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SimpleVerbAnswers) {
  server_->handle("echo", ControlServer::SimpleHandler([](const json& args) -> Result<json> {
    return json{{"got", args.value("x", 0)}};
  }));
  auto r = request("echo", {{"x", 42}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)["got"], 42);
}

TEST_F(ControlServerTest, ErrorsKeepTheirCodeAndMessage) {
  server_->handle("fails", ControlServer::SimpleHandler([](const json&) -> Result<json> {
    return fail(ErrorCode::kNotFound, "no station \"pack9\"");
  }));
  auto r = request("fails");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no station \"pack9\"");
}

TEST_F(ControlServerTest, UnknownVerbIsExplained) {
  auto r = request("frobnicate");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("does not know the verb \"frobnicate\""), std::string::npos);
}

TEST_F(ControlServerTest, ProgressLinesArriveBeforeTheResult) {
  server_->handle("slow", [this](const json&, std::shared_ptr<ControlReply> reply) {
    reply->progress({{"message", "step 1"}});
    loop_->addTimer(10ms, [reply] {
      reply->progress({{"message", "step 2"}});
      reply->finish(json{{"done", true}});
    });
  });
  std::vector<json> progress;
  auto r = request("slow", json::object(), &progress);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1]["message"], "step 2");
  EXPECT_EQ((*r)["done"], true);
}

TEST_F(ControlServerTest, HandlerExceptionDoesNotTakeTheAgentDown) {
  server_->handle("bug", ControlServer::SimpleHandler([](const json& args) -> Result<json> {
    return json{{"n", args.at("missing").get<int>()}};  // throws
  }));
  auto r = request("bug");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("internal error"), std::string::npos);
  server_->handle("ok", ControlServer::SimpleHandler([](const json&) -> Result<json> { return json{{"fine", 1}}; }));
  EXPECT_TRUE(request("ok").has_value());
}

TEST_F(ControlServerTest, MalformedRequestIsRefused) {
  auto fut = std::async(std::launch::async, [&] {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string junk = "this is not json\n";
    EXPECT_GT(::send(fd, junk.data(), junk.size(), 0), 0);
    char buf[512] = {};
    ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    loop_->stop();
    return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  });
  ASSERT_TRUE(loop_->run());
  auto line = json::parse(fut.get());
  EXPECT_EQ(line["ok"], false);
  EXPECT_EQ(line["error"], "malformed control request");
}

TEST_F(ControlServerTest, ClientHangupIsSeenByLongHandlers) {
  std::shared_ptr<ControlReply> held;
  server_->handle("live", [&](const json&, std::shared_ptr<ControlReply> reply) { held = reply; });
  auto fut = std::async(std::launch::async, [&] {
    auto r = controlRequest(path_, "live", json::object(), {}, 200);  // gives up after 200 ms
    return r;
  });
  ASSERT_TRUE(loop_->runFor(1500ms));
  auto r = fut.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  ASSERT_TRUE(held != nullptr);
  EXPECT_FALSE(held->connected());
  held->progress({{"x", 1}});  // harmless after hang-up
  held->finish(json::object());
}

TEST(ControlServer, StaleSocketFromACrashIsReplaced) {
  char tmpl[] = "/tmp/floorlink-ctl-XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  auto path = dir / "ctl.sock";
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // left behind, nobody listening
  }
  auto loop = std::move(*EventLoop::create());
  auto server = ControlServer::create(*loop, {path, ""}, Logger());
  EXPECT_TRUE(server.has_value());
  server->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace floorlink::agent
