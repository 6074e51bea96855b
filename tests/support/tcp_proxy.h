#pragma once
// A loopback TCP forwarder for tests: clients connect to port(), bytes go to
// the target and back. cut() drops every connection abruptly (RST), which a
// broker sees as a lost client (its will fires) and a client as a lost broker.
#include <cstdint>
#include <memory>

#include "core/error.h"

namespace floorlink::testing {

class TcpProxy {
 public:
  static Result<std::unique_ptr<TcpProxy>> start(uint16_t targetPort);
  ~TcpProxy();

  uint16_t port() const;
  std::string url(const std::string& scheme = "tcp") const;
  // Resets every open connection; new ones are still accepted.
  void cut();

  struct Impl;

 private:
  explicit TcpProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::testing
