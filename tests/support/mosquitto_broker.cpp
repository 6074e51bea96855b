#include "tests/support/mosquitto_broker.h"

#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace floorlink::testing {
namespace {

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Result<uint16_t> freeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kIo, errnoText("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    ::close(fd);
    return fail(ErrorCode::kIo, errnoText("bind"));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int runCommand(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Result<std::string> makeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return fail(ErrorCode::kIo, errnoText("mkdtemp"));
  return tmpl;
}

Result<TestPki> makeTestPki(const std::string& dir, const std::string& keyPassword) {
  TestPki p;
  p.caFile = dir + "/ca.pem";
  p.caKey = dir + "/ca.key";
  p.serverCert = dir + "/server.pem";
  p.serverKey = dir + "/server.key";
  p.clientCert = dir + "/client.pem";
  p.clientKey = dir + "/client.key";
  p.clientKeyEncrypted = dir + "/client-enc.key";
  p.keyPassword = keyPassword;
  std::string q = " 2>>" + dir + "/openssl.log >/dev/null";
  std::string ext = dir + "/san.ext";
  if (!writeTextFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")) {
    return fail(ErrorCode::kIo, "cannot write " + ext);
  }
  const std::string cmds[] = {
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=floorlink-test-ca -keyout " + p.caKey +
          " -out " + p.caFile,
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + p.serverKey + " -out " + dir +
          "/server.csr",
      "openssl x509 -req -in " + dir + "/server.csr -CA " + p.caFile + " -CAkey " + p.caKey +
          " -CAcreateserial -days 2 -extfile " + ext + " -out " + p.serverCert,
      "openssl req -newkey rsa:2048 -nodes -subj /CN=pc7 -keyout " + p.clientKey + " -out " + dir + "/client.csr",
      "openssl x509 -req -in " + dir + "/client.csr -CA " + p.caFile + " -CAkey " + p.caKey +
          " -CAcreateserial -days 2 -out " + p.clientCert,
      "openssl pkey -in " + p.clientKey + " -aes256 -passout pass:" + keyPassword + " -out " +
          p.clientKeyEncrypted,
  };
  for (const auto& c : cmds) {
    if (runCommand(c + q) != 0) return fail(ErrorCode::kIo, "openssl failed: " + c);
  }
  return p;
}

MosquittoBroker::MosquittoBroker(MosquittoOptions options, std::string dir, uint16_t port)
    : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}

Result<std::unique_ptr<MosquittoBroker>> MosquittoBroker::start(MosquittoOptions options) {
  auto dir = makeTempDir("floorlink-mosquitto");
  if (!dir) return std::unexpected(dir.error());
  auto port = freeLocalPort();
  if (!port) return std::unexpected(port.error());

  std::ostringstream conf;
  conf << "listener " << *port << " 127.0.0.1\n";
  // Run as root when root: the default drops to user mosquitto, who cannot
  // write the temporary directory.
  if (::geteuid() == 0) conf << "user root\n";
  conf << "allow_anonymous " << (options.allowAnonymous ? "true" : "false") << "\n";
  conf << "persistence " << (options.persistence ? "true" : "false") << "\n";
  conf << "persistence_location " << *dir << "/\n";
  conf << "autosave_interval 1\n";
  conf << "log_dest file " << *dir << "/mosquitto.log\n";
  conf << "log_type all\n";
  conf << "connection_messages true\n";
  conf << "max_queued_messages 0\n";  // unlimited: the tests queue a lot while offline
  if (options.tls) {
    conf << "cafile " << options.caFile << "\n";
    conf << "certfile " << options.certFile << "\n";
    conf << "keyfile " << options.keyFile << "\n";
    conf << "require_certificate " << (options.requireClientCert ? "true" : "false") << "\n";
  }
  if (!options.users.empty()) {
    std::string pw = *dir + "/passwd";
    if (!writeTextFile(pw, "")) return fail(ErrorCode::kIo, "cannot write " + pw);
    for (const auto& [user, password] : options.users) {
      if (runCommand("mosquitto_passwd -b '" + pw + "' '" + user + "' '" + password + "' >/dev/null 2>&1") != 0) {
        return fail(ErrorCode::kIo, "mosquitto_passwd failed for user " + user);
      }
    }
    ::chmod(pw.c_str(), 0600);
    conf << "password_file " << pw << "\n";
  }
  if (!options.acl.empty()) {
    std::string acl = *dir + "/acl";
    if (!writeTextFile(acl, options.acl + "\n")) return fail(ErrorCode::kIo, "cannot write " + acl);
    ::chmod(acl.c_str(), 0600);
    conf << "acl_file " << acl << "\n";
  }
  conf << options.extraConfig << "\n";
  if (!writeTextFile(*dir + "/mosquitto.conf", conf.str())) return fail(ErrorCode::kIo, "cannot write mosquitto.conf");

  std::unique_ptr<MosquittoBroker> broker(new MosquittoBroker(std::move(options), *dir, *port));
  if (auto s = broker->spawn(); !s) return std::unexpected(s.error());
  return broker;
}

MosquittoBroker::~MosquittoBroker() {
  if (pid_ > 0) {
    if (frozen_) ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    reap();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string MosquittoBroker::url() const {
  return std::string(options_.tls ? "ssl" : "tcp") + "://127.0.0.1:" + std::to_string(port_);
}

Status MosquittoBroker::spawn() {
  auto pid = spawnChild({"/usr/sbin/mosquitto", "-c", dir_ + "/mosquitto.conf"}, {}, dir_ + "/stdout.log");
  if (!pid) return std::unexpected(pid.error());
  pid_ = *pid;
  frozen_ = false;
  return waitReady();
}

Status MosquittoBroker::waitReady() {
  auto deadline = std::chrono::steady_clock::now() + options_.startTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return fail(ErrorCode::kIo, "mosquitto exited at start; its log:\n" + log());
    }
    if (acceptsConnections(port_)) return ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fail(ErrorCode::kTimeout, "mosquitto did not listen on port " + std::to_string(port_));
}

void MosquittoBroker::reap() {
  if (pid_ <= 0) return;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  frozen_ = false;
}

Status MosquittoBroker::kill() {
  if (pid_ <= 0) return fail(ErrorCode::kNotFound, "mosquitto is not running");
  ::kill(pid_, SIGKILL);
  reap();
  return ok();
}

Status MosquittoBroker::terminate() {
  if (pid_ <= 0) return fail(ErrorCode::kNotFound, "mosquitto is not running");
  if (frozen_) ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  reap();
  return ok();
}

Status MosquittoBroker::freeze() {
  if (pid_ <= 0) return fail(ErrorCode::kNotFound, "mosquitto is not running");
  if (::kill(pid_, SIGSTOP) != 0) return fail(ErrorCode::kIo, errnoText("SIGSTOP"));
  frozen_ = true;
  return ok();
}

Status MosquittoBroker::thaw() {
  if (pid_ <= 0) return fail(ErrorCode::kNotFound, "mosquitto is not running");
  if (::kill(pid_, SIGCONT) != 0) return fail(ErrorCode::kIo, errnoText("SIGCONT"));
  frozen_ = false;
  return ok();
}

Status MosquittoBroker::restart() {
  if (pid_ > 0) return fail(ErrorCode::kBusy, "mosquitto is still running");
  return spawn();
}

std::string MosquittoBroker::log() const {
  return readTextFile(dir_ + "/mosquitto.log");
}

}  // namespace floorlink::testing
