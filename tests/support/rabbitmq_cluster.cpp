#include "tests/support/rabbitmq_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/mosquitto_broker.h"

namespace floorlink::testing {
namespace {

const char* kServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const char* kCtl = "/usr/lib/rabbitmq/bin/rabbitmqctl";

// Runs a shell command and returns its exit status and standard output.
std::pair<int, std::string> capture(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

}  // namespace

bool RabbitMqCluster::installed() { return ::access(kServer, X_OK) == 0 && ::access(kCtl, X_OK) == 0; }

RabbitMqCluster::RabbitMqCluster(RabbitMqOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

std::string RabbitMqCluster::env() const { return "HOME=" + quote(dir_) + " "; }

Result<std::unique_ptr<RabbitMqCluster>> RabbitMqCluster::start(RabbitMqOptions options) {
  if (!installed()) return fail(ErrorCode::kNotFound, "rabbitmq-server is not installed (run scripts/deps)");
  auto dir = makeTempDir("floorlink-rabbitmq");
  if (!dir) return std::unexpected(dir.error());
  std::unique_ptr<RabbitMqCluster> c(new RabbitMqCluster(std::move(options), *dir));
  // One Erlang cookie for the nodes and the CLI (both read $HOME/.erlang.cookie).
  std::string cookie = c->dir_ + "/.erlang.cookie";
  if (!writeTextFile(cookie, "floorlink-test-" + std::to_string(::getpid()))) {
    return fail(ErrorCode::kIo, "cannot write " + cookie);
  }
  ::chmod(cookie.c_str(), 0400);
  for (int i = 0; i < c->options_.nodes; ++i) {
    Node n;
    for (auto* port : {&n.amqpPort, &n.distPort, &n.mqttPort}) {
      auto p = freeLocalPort();
      if (!p) return std::unexpected(p.error());
      *port = *p;
    }
    // Unique per fixture: tests may run in parallel against one epmd.
    n.name = "fl" + std::to_string(n.mqttPort) + "@localhost";
    n.base = c->dir_ + "/node" + std::to_string(i + 1);
    std::filesystem::create_directories(n.base);
    std::ostringstream conf;
    conf << "listeners.tcp.default = 127.0.0.1:" << n.amqpPort << "\n"
         << "mqtt.listeners.tcp.default = 127.0.0.1:" << n.mqttPort << "\n"
         << "mqtt.allow_anonymous = " << (c->options_.allowAnonymous ? "true" : "false") << "\n"
         << "loopback_users = none\n"
         // A frozen node is declared down after about this many seconds (the
         // default 60 blocks the cluster's client-id registry for a minute).
         << "net_ticktime = " << c->options_.netTicktimeS << "\n"
         << "log.file.level = info\n";
    if (!c->options_.durableQueueType.empty()) conf << "mqtt.durable_queue_type = " << c->options_.durableQueueType << "\n";
    if (!writeTextFile(n.base + "/rabbitmq.conf", conf.str()) ||
        !writeTextFile(n.base + "/enabled_plugins", "[rabbitmq_mqtt].\n")) {
      return fail(ErrorCode::kIo, "cannot write the config of " + n.name);
    }
    c->nodes_.push_back(std::move(n));
  }
  // Boot every node at once (each takes seconds), then join them to the first.
  for (auto& n : c->nodes_) {
    if (auto s = c->spawn(n); !s) return std::unexpected(s.error());
  }
  auto deadline = std::chrono::steady_clock::now() + c->options_.startTimeout;
  for (auto& n : c->nodes_) {
    if (auto s = c->waitStarted(n, deadline); !s) return std::unexpected(s.error());
  }
  for (size_t i = 1; i < c->nodes_.size(); ++i) {
    for (const std::string& step : {std::string("stop_app"), "join_cluster " + c->nodes_[0].name,
                                    std::string("start_app")}) {
      if (auto r = c->ctl(i, step); !r) return std::unexpected(r.error());
    }
  }
  for (size_t i = 0; i < c->nodes_.size(); ++i) {
    while (!acceptsConnections(c->nodes_[i].mqttPort)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return fail(ErrorCode::kTimeout, c->nodes_[i].name + ": no MQTT listener; its log:\n" + c->log(i));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (const auto& [user, password] : c->options_.users) {
    if (auto r = c->ctl(0, "add_user " + quote(user) + " " + quote(password)); !r) return std::unexpected(r.error());
    if (auto r = c->ctl(0, "set_permissions -p / " + quote(user) + " '.*' '.*' '.*'"); !r) {
      return std::unexpected(r.error());
    }
    if (auto t = c->options_.topicPermissions.find(user); t != c->options_.topicPermissions.end()) {
      if (auto r = c->ctl(0, "set_topic_permissions -p / " + quote(user) + " amq.topic " + quote(t->second) + " " +
                                 quote(t->second));
          !r) {
        return std::unexpected(r.error());
      }
    }
  }
  return c;
}

Status RabbitMqCluster::spawn(Node& n) {
  std::vector<std::string> vars;
  vars.push_back("HOME=" + dir_);
  vars.push_back("RABBITMQ_NODENAME=" + n.name);
  vars.push_back("RABBITMQ_NODE_IP_ADDRESS=127.0.0.1");
  vars.push_back("RABBITMQ_NODE_PORT=" + std::to_string(n.amqpPort));
  vars.push_back("RABBITMQ_DIST_PORT=" + std::to_string(n.distPort));
  vars.push_back("RABBITMQ_MNESIA_BASE=" + n.base + "/mnesia");
  vars.push_back("RABBITMQ_LOG_BASE=" + n.base + "/log");
  vars.push_back("RABBITMQ_CONFIG_FILE=" + n.base + "/rabbitmq.conf");
  vars.push_back("RABBITMQ_ADVANCED_CONFIG_FILE=" + n.base + "/advanced.config");
  vars.push_back("RABBITMQ_ENABLED_PLUGINS_FILE=" + n.base + "/enabled_plugins");
  vars.push_back("RABBITMQ_PID_FILE=" + n.base + "/pid");
  // Inter-node traffic on loopback only.
  vars.push_back("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}");
  std::filesystem::remove(n.base + "/pid");
  // No RABBITMQ_ setting of the caller's may reach the private nodes.
  auto pid = spawnChild({kServer}, vars, n.base + "/stdout", {"HOME=", "RABBITMQ_"});
  if (!pid) return std::unexpected(pid.error());
  n.script = *pid;
  n.pid = -1;
  n.frozen = false;
  return ok();
}

Status RabbitMqCluster::waitStarted(Node& n, std::chrono::steady_clock::time_point deadline) {
  std::string cmd = env() + kCtl + " -n " + n.name + " -q await_startup --timeout 30 >/dev/null 2>&1";
  while (capture(cmd).first != 0) {
    int status = 0;
    if (::waitpid(n.script, &status, WNOHANG) == n.script) {
      n.script = -1;
      return fail(ErrorCode::kIo, n.name + " exited at start:\n" + readTextFile(n.base + "/stdout"));
    }
    if (std::chrono::steady_clock::now() > deadline) return fail(ErrorCode::kTimeout, n.name + " did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::ifstream pidFile(n.base + "/pid");
  pidFile >> n.pid;
  if (n.pid <= 0) return fail(ErrorCode::kIo, n.name + ": no pid file");
  return ok();
}

RabbitMqCluster::~RabbitMqCluster() {
  for (auto& n : nodes_) {
    if (n.pid > 0) {
      if (n.frozen) ::kill(n.pid, SIGCONT);
      ::kill(n.pid, SIGKILL);
    }
    if (n.script > 0) {
      ::kill(n.script, SIGKILL);
      int status = 0;
      ::waitpid(n.script, &status, 0);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RabbitMqCluster::mqttUrl(size_t node) const {
  return "tcp://127.0.0.1:" + std::to_string(nodes_[node].mqttPort);
}

std::vector<std::string> RabbitMqCluster::mqttUrls() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes_.size(); ++i) out.push_back(mqttUrl(i));
  return out;
}

int RabbitMqCluster::nodeOf(const std::string& url) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (mqttUrl(i) == url) return static_cast<int>(i);
  }
  return -1;
}

Status RabbitMqCluster::kill(size_t node) {
  auto& n = nodes_[node];
  if (n.pid <= 0) return fail(ErrorCode::kNotFound, n.name + " is not running");
  if (n.frozen) ::kill(n.pid, SIGCONT);
  ::kill(n.pid, SIGKILL);
  n.pid = -1;
  n.frozen = false;
  // The script that ran the VM exits once it is gone.
  for (int i = 0; i < 100 && n.script > 0; ++i) {
    int status = 0;
    if (::waitpid(n.script, &status, WNOHANG) == n.script) n.script = -1;
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (n.script > 0) {
    ::kill(n.script, SIGKILL);
    int status = 0;
    ::waitpid(n.script, &status, 0);
    n.script = -1;
  }
  return ok();
}

Status RabbitMqCluster::freeze(size_t node) {
  auto& n = nodes_[node];
  if (n.pid <= 0) return fail(ErrorCode::kNotFound, n.name + " is not running");
  if (::kill(n.pid, SIGSTOP) != 0) return fail(ErrorCode::kIo, std::string("SIGSTOP: ") + std::strerror(errno));
  n.frozen = true;
  return ok();
}

Status RabbitMqCluster::thaw(size_t node) {
  auto& n = nodes_[node];
  if (n.pid <= 0) return fail(ErrorCode::kNotFound, n.name + " is not running");
  if (::kill(n.pid, SIGCONT) != 0) return fail(ErrorCode::kIo, std::string("SIGCONT: ") + std::strerror(errno));
  n.frozen = false;
  return ok();
}

Result<std::string> RabbitMqCluster::ctl(size_t node, const std::string& args) const {
  auto [rc, out] = capture(env() + kCtl + " -n " + nodes_[node].name + " -q " + args + " 2>&1");
  if (rc != 0) return fail(ErrorCode::kIo, "rabbitmqctl " + args + " on " + nodes_[node].name + " failed: " + out);
  return out;
}

std::string RabbitMqCluster::log(size_t node) const {
  std::ifstream in(nodes_[node].base + "/log/" + nodes_[node].name + ".log");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace floorlink::testing
