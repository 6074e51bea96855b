#pragma once
// The station screens (/station/{id}), the technician page (/) and /metrics
// over HTTP. Threading: the HTTP library's worker threads never touch agent
// state. Each request posts its work to the event loop through a LoopPoster,
// the loop answers through the same verbs floorlinkctl uses
// (ControlServer::invoke, views.h), and the worker waits a bounded time for
// that answer (503 when the loop is stuck). Live pages get
// Server-Sent Events: the loop calls notifyChanged(), every open stream wakes,
// fetches a fresh snapshot and sends it when it differs from the last one.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"

namespace floorlink::agent {

class ControlServer;

struct WebOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;              // 0: any free port (tests)
  std::string token;                 // when set, every request needs it
  std::vector<std::string> secrets;  // replaced by *** in every response body
  std::chrono::milliseconds loopTimeout{2000};  // then 503
  std::chrono::milliseconds heartbeat{10000};   // SSE comment on a quiet stream
  std::chrono::milliseconds technicianRefresh{2000};  // log lines change unnoticed
  size_t maxStreams = 16;            // open SSE streams; more get 503
  std::string version;               // shown on the technician page

  static WebOptions from(const config::Config& config);
};

class WebServer {
 public:
  // Binds at once (so a taken port is a start-up error) and serves from its
  // own threads. Off loopback a token is required. Create and destroy on the
  // loop thread (or while the loop is not running).
  static Result<std::unique_ptr<WebServer>> create(EventLoop& loop, ControlServer& control, WebOptions options,
                                                   Logger logger);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  uint16_t port() const;
  // Any thread: something a page shows may have changed.
  void notifyChanged();
  // Ends every stream and request and joins the threads. Idempotent; not
  // from an HTTP worker thread.
  void stop();

  struct Impl;

 private:
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace floorlink::agent
