#pragma once
// A loopback TCP forwarder for tests: clients connect to port(), bytes go to
// the target and back. cut() drops every connection abruptly (RST), which a
// broker sees as a lost client (its will fires) and a client as a lost broker.
#include <cstdint>
#include <memory>

#include "core/error.h"

namespace floorlink::testing {

struct TcpProxyOptions {
  // Plays a broker that only speaks MQTT 3.1.1: a CONNECT with protocol
  // level 5 is answered with a 3.1.1 CONNACK "unacceptable protocol version"
  // (return code 1) and closed, as such brokers do; other connects pass.
  bool refuseMqtt5 = false;
};

class TcpProxy {
 public:
  static Result<std::unique_ptr<TcpProxy>> start(uint16_t targetPort, TcpProxyOptions options = {});
  ~TcpProxy();

  uint16_t port() const;
  std::string url(const std::string& scheme = "tcp") const;
  // Resets every open connection; new ones are still accepted.
  void cut();
  // CONNECTs refused for asking MQTT 5 (refuseMqtt5 only).
  int refusedMqtt5() const;

  struct Impl;

 private:
  explicit TcpProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::testing
