#pragma once
// A real RabbitMQ cluster for integration tests: N private nodes of the
// Debian rabbitmq-server (3.10, MQTT 3.1.1 through the rabbitmq_mqtt
// plugin) on 127.0.0.1, each with its own node name, ports and data
// directory in one temporary directory, joined with rabbitmqctl
// join_cluster. The test can SIGKILL, freeze (SIGSTOP) and thaw a node.
// Nodes share epmd (4369) with anything else on the machine, harmlessly.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::testing {

struct RabbitMqOptions {
  int nodes = 3;
  // Users and passwords (rabbitmqctl add_user); each gets full permissions on
  // vhost "/" unless topicPermissions restricts its topics.
  std::map<std::string, std::string> users;
  // user -> regex on AMQP routing keys (MQTT "/" becomes "."), for write and
  // read on amq.topic (rabbitmqctl set_topic_permissions); may use {username}.
  std::map<std::string, std::string> topicPermissions;
  bool allowAnonymous = true;  // as guest, allowed on loopback
  // mqtt.durable_queue_type: "quorum" replicates the subscription queue of a
  // persistent MQTT session over the nodes, so it survives the death of one.
  std::string durableQueueType = "quorum";
  // Erlang net_ticktime: how soon the other nodes give up on a frozen one.
  int netTicktimeS = 10;
  std::chrono::seconds startTimeout{180};
};

class RabbitMqCluster {
 public:
  // False when rabbitmq-server is not installed (scripts/deps installs it).
  static bool installed();
  // Starts every node, joins them to the first, and waits until the MQTT
  // listener of each accepts TCP connections.
  static Result<std::unique_ptr<RabbitMqCluster>> start(RabbitMqOptions options = {});
  ~RabbitMqCluster();  // SIGKILL every node, remove the directory
  RabbitMqCluster(const RabbitMqCluster&) = delete;
  RabbitMqCluster& operator=(const RabbitMqCluster&) = delete;

  size_t size() const { return nodes_.size(); }
  std::string mqttUrl(size_t node) const;  // tcp://127.0.0.1:PORT
  std::vector<std::string> mqttUrls() const;
  // The node whose MQTT URL this is, or -1.
  int nodeOf(const std::string& url) const;
  const std::string& nodeName(size_t node) const { return nodes_[node].name; }
  bool running(size_t node) const { return nodes_[node].pid > 0; }

  Status kill(size_t node);    // SIGKILL the node's Erlang VM
  Status freeze(size_t node);  // SIGSTOP: its TCP connections stay up, nothing answers
  Status thaw(size_t node);    // SIGCONT

  // rabbitmqctl against a node; returns its standard output.
  Result<std::string> ctl(size_t node, const std::string& args) const;
  std::string log(size_t node) const;  // the node's log file so far
  const std::string& dir() const { return dir_; }

 private:
  struct Node {
    std::string name;  // flPORT@localhost
    std::string base;  // its directory
    uint16_t amqpPort = 0, distPort = 0, mqttPort = 0;
    pid_t script = -1;  // the rabbitmq-server script (parent of the VM)
    pid_t pid = -1;     // the Erlang VM
    bool frozen = false;
  };

  explicit RabbitMqCluster(RabbitMqOptions options, std::string dir);
  Status spawn(Node& node);
  Status waitStarted(Node& node, std::chrono::steady_clock::time_point deadline);
  std::string env() const;  // environment prefix for CLI tools

  RabbitMqOptions options_;
  std::string dir_;
  std::vector<Node> nodes_;
};

}  // namespace floorlink::testing
