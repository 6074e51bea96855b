#include "tests/support/cups_server.h"

#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/mosquitto_broker.h"

namespace floorlink::testing {

Result<std::unique_ptr<CupsServer>> CupsServer::start(std::chrono::milliseconds timeout) {
  auto dir = makeTempDir("floorlink-cupsd");
  if (!dir) return std::unexpected(dir.error());
  auto port = freeLocalPort();
  if (!port) return std::unexpected(port.error());
  std::unique_ptr<CupsServer> c(new CupsServer(*dir, *port));
  const std::string& d = *dir;
  for (const char* sub : {"conf", "spool", "cache", "state", "log", "tmp"}) std::filesystem::create_directories(d + "/" + sub);
  // Filters run as lp when cupsd runs as root: they must reach TempDir.
  ::chmod(d.c_str(), 0755);
  ::chmod((d + "/tmp").c_str(), 01777);
  std::string conf = "Listen 127.0.0.1:" + std::to_string(*port) +
                     "\n"
                     "Browsing Off\n"
                     "BrowseLocalProtocols none\n"
                     "DefaultAuthType None\n"
                     "WebInterface No\n"
                     "LogLevel debug\n"
                     "ErrorPolicy abort-job\n"
                     "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
                     "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
                     "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n";
  std::string files = "ServerRoot " + d + "/conf\nRequestRoot " + d + "/spool\nCacheDir " + d + "/cache\nStateDir " +
                      d + "/state\nTempDir " + d + "/tmp\nAccessLog " + d + "/log/access_log\nErrorLog " + d +
                      "/log/error_log\nPageLog " + d + "/log/page_log\nPrintcap " + d + "/state/printcap\n";
  if (!writeTextFile(d + "/conf/cupsd.conf", conf) || !writeTextFile(d + "/conf/cups-files.conf", files)) {
    return fail(ErrorCode::kIo, "cannot write the cupsd configuration in " + d);
  }
  auto pid = spawnChild({"/usr/sbin/cupsd", "-f", "-c", d + "/conf/cupsd.conf", "-s", d + "/conf/cups-files.conf"}, {},
                        d + "/log/cupsd.out");
  if (!pid) return std::unexpected(pid.error());
  c->pid_ = *pid;
  if (auto s = waitUntil(c->pid_, "cupsd", d + "/log/error_log", timeout, [&] { return acceptsConnections(*port); });
      !s) {
    return std::unexpected(s.error());
  }
  return c;
}

CupsServer::~CupsServer() {
  killChild(pid_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Status CupsServer::run(const std::string& command) const {
  std::string log = dir_ + "/log/commands";
  if (runCommand(command + " >>" + log + " 2>&1") != 0) {
    return fail(ErrorCode::kIo, command + " failed:\n" + readTextFile(log));
  }
  return ok();
}

Status CupsServer::addQueue(const std::string& name, const std::string& deviceUri, const std::string& model) {
  if (auto s = run("/usr/sbin/lpadmin -h " + server() + " -p " + name + " -E -v " + deviceUri +
                   (model.empty() ? "" : " -m " + model));
      !s) {
    return s;
  }
  if (model != "everywhere") return ok();
  // cupsd answers lpadmin first and makes the IPP Everywhere PPD afterwards;
  // a job in between is aborted ("Unable to convert file 0 to printable
  // format"). The queue can convert once cupsd logs it available.
  std::string ready = "Printer \"" + name + "\" is now available.";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (errorLog().find(ready) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(ErrorCode::kTimeout, "cupsd made no PPD for " + name + ":\n" + errorLog());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ok();
}

Status CupsServer::disableQueue(const std::string& name) {
  return run("/usr/sbin/cupsdisable -h " + server() + " " + name);
}

Status CupsServer::enableQueue(const std::string& name) { return run("/usr/sbin/cupsenable -h " + server() + " " + name); }

std::string CupsServer::errorLog() const { return readTextFile(dir_ + "/log/error_log"); }

}  // namespace floorlink::testing
