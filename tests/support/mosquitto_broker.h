#pragma once
// A real mosquitto broker for integration tests: /usr/sbin/mosquitto on
// 127.0.0.1, a free port, a temporary directory for its config, persistence
// and log. The test can kill, freeze, thaw and restart it on the same port.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/error.h"

namespace floorlink::testing {

struct MosquittoOptions {
  // TLS listener (url() then starts with ssl://). Paths to PEM files.
  bool tls = false;
  std::string caFile;     // CA that signed client certificates (and the server's)
  std::string certFile;   // server certificate
  std::string keyFile;    // server key
  bool requireClientCert = false;
  // Users and plain passwords; written with mosquitto_passwd. Empty: none.
  std::map<std::string, std::string> users;
  bool allowAnonymous = true;
  // Text of an acl_file (e.g. "pattern readwrite wh/v1/dc1/%u/#"). Empty: no ACL.
  std::string acl;
  bool persistence = true;
  std::string extraConfig;  // appended to mosquitto.conf as is
  std::chrono::milliseconds startTimeout{5000};
};

class MosquittoBroker {
 public:
  // Starts the broker and waits until it accepts TCP connections.
  static Result<std::unique_ptr<MosquittoBroker>> start(MosquittoOptions options = {});
  ~MosquittoBroker();  // SIGKILL if running, removes the directory
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;            // tcp://127.0.0.1:PORT or ssl://127.0.0.1:PORT
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  Status kill();       // SIGKILL and reap
  Status terminate();  // SIGTERM and reap (a clean broker shutdown)
  Status freeze();     // SIGSTOP: the TCP connection stays up, nothing answers
  Status thaw();       // SIGCONT
  // Starts again on the same port with the same config (after kill/terminate).
  Status restart();

  // The broker's log file so far (log_type all).
  std::string log() const;

 private:
  MosquittoBroker(MosquittoOptions options, std::string dir, uint16_t port);
  Status spawn();
  Status waitReady();
  void reap();

  MosquittoOptions options_;
  std::string dir_;
  uint16_t port_;
  pid_t pid_ = -1;
  bool frozen_ = false;
};

// A free TCP port on 127.0.0.1 (bound, read, released).
Result<uint16_t> freeLocalPort();

// Runs a shell command, returns its exit status (test setup: openssl, mosquitto_passwd).
int runCommand(const std::string& command);

// A CA, a server certificate for 127.0.0.1/localhost and a client
// certificate, made with the openssl CLI in `dir`.
struct TestPki {
  std::string caFile, caKey;
  std::string serverCert, serverKey;
  std::string clientCert, clientKey;
  std::string clientKeyEncrypted;  // clientKey encrypted with `keyPassword`
  std::string keyPassword;
};
Result<TestPki> makeTestPki(const std::string& dir, const std::string& keyPassword = "k3y-s3cret");

// A fresh temporary directory (removed by the caller).
Result<std::string> makeTempDir(const std::string& prefix);

}  // namespace floorlink::testing
