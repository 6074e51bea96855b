#include "tests/support/ippeve_printer.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/mosquitto_broker.h"

namespace floorlink::testing {
namespace {

constexpr const char* kIppEvePrinter = "/usr/sbin/ippeveprinter";
constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";

// A system-type bus that anyone on this machine may use: only ippeveprinter's
// avahi client ever connects, and finds no avahi. (This policy works; one
// with <allow user="*"/> instead of the eavesdrop rules left ippeveprinter
// hanging before it listened.)
std::string busConfig(const std::string& socket) {
  return R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=)" + socket + R"(</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
)";
}

// The print command: keeps the spool file and the job's attributes, then
// behaves as behavior/ says (read per job, so a test can change it).
std::string printCommand(const std::string& dir) {
  return "#!/bin/sh\n"
         "d='" + dir + "'\n"
         "id=\"$IPP_JOB_ID\"\n"
         "cp \"$1\" \"$d/keep/$id.data\"\n"
         "env | grep -E '^(IPP_|CONTENT_TYPE=)' > \"$d/keep/$id.env.tmp\"\n"
         "mv \"$d/keep/$id.env.tmp\" \"$d/keep/$id.env\"\n"
         "b=\"$d/behavior\"\n"
         "[ -s \"$b/state\" ] && echo \"STATE: $(cat \"$b/state\")\" >&2\n"
         "[ -s \"$b/impressions\" ] && echo \"ATTR: job-impressions-completed=$(cat \"$b/impressions\")\" >&2\n"
         "[ -s \"$b/hold\" ] && sleep \"$(cat \"$b/hold\")\"\n"
         "n=0; while [ -e \"$b/gate\" ] && [ $n -lt 12000 ]; do sleep 0.05; n=$((n+1)); done\n"
         "[ -s \"$b/error\" ] && echo \"ERROR: $(cat \"$b/error\")\" >&2\n"
         "touch \"$d/keep/$id.done\"\n"
         "exit \"$(cat \"$b/exit\" 2>/dev/null || echo 0)\"\n";
}

}  // namespace

IppEvePrinter::IppEvePrinter(IppEvePrinterOptions options, std::string dir, uint16_t port)
    : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}

Result<std::unique_ptr<IppEvePrinter>> IppEvePrinter::start(IppEvePrinterOptions options) {
  auto dir = makeTempDir("floorlink-ippeve");
  if (!dir) return std::unexpected(dir.error());
  auto port = freeLocalPort();
  if (!port) return std::unexpected(port.error());
  std::unique_ptr<IppEvePrinter> p(new IppEvePrinter(std::move(options), *dir, *port));
  for (const char* sub : {"spool", "keep", "behavior", "keys"}) std::filesystem::create_directories(*dir + "/" + sub);
  std::string command = *dir + "/print.sh";
  if (!writeTextFile(command, printCommand(*dir)) || ::chmod(command.c_str(), 0755) != 0) {
    return fail(ErrorCode::kIo, "cannot write " + command);
  }
  if (!p->options_.certFile.empty()) {
    std::error_code ec;
    std::filesystem::copy_file(p->options_.certFile, *dir + "/keys/localhost.crt", ec);
    if (!ec) std::filesystem::copy_file(p->options_.keyFile, *dir + "/keys/localhost.key", ec);
    if (ec) return fail(ErrorCode::kIo, "cannot copy the printer's certificate: " + ec.message());
  }
  std::string bus = *dir + "/bus.sock";
  if (!writeTextFile(*dir + "/bus.conf", busConfig(bus))) return fail(ErrorCode::kIo, "cannot write bus.conf");
  auto busPid = spawnChild({kDbusDaemon, "--config-file=" + *dir + "/bus.conf", "--nofork", "--nopidfile"}, {},
                           *dir + "/dbus.log");
  if (!busPid) return std::unexpected(busPid.error());
  p->busPid_ = *busPid;
  std::error_code ec;
  if (auto s = waitUntil(p->busPid_, "dbus-daemon", *dir + "/dbus.log", p->options_.startTimeout,
                         [&] { return std::filesystem::exists(bus, ec); });
      !s) {
    return std::unexpected(s.error());
  }
  if (auto s = p->spawn(); !s) return std::unexpected(s.error());
  return p;
}

Status IppEvePrinter::spawn() {
  std::string formats;
  for (const auto& f : options_.formats) formats += (formats.empty() ? "" : ",") + f;
  std::vector<std::string> argv = {kIppEvePrinter, "-n", "localhost", "-p", std::to_string(port_), "-r", "off",
                                   "-d", dir_ + "/spool", "-c", dir_ + "/print.sh", "-f", formats, "-v"};
  if (options_.duplex) argv.push_back("-2");
  if (!options_.certFile.empty()) argv.insert(argv.end(), {"-K", dir_ + "/keys"});
  argv.push_back("floorlink-test");
  auto pid = spawnChild(argv, {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + dir_ + "/bus.sock", "HOME=" + dir_},
                        dir_ + "/ippeveprinter.log");
  if (!pid) return std::unexpected(pid.error());
  pid_ = *pid;
  return waitUntil(pid_, "ippeveprinter", dir_ + "/ippeveprinter.log", options_.startTimeout,
                   [&] { return acceptsConnections(port_); });
}

IppEvePrinter::~IppEvePrinter() {
  killChild(pid_);
  killChild(busPid_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string IppEvePrinter::uri() const { return "ipp://127.0.0.1:" + std::to_string(port_) + "/ipp/print"; }
std::string IppEvePrinter::ippsUri() const { return "ipps://localhost:" + std::to_string(port_) + "/ipp/print"; }

Status IppEvePrinter::setJobBehavior(const JobBehavior& b) {
  char hold[32];
  std::snprintf(hold, sizeof hold, "%.3f", static_cast<double>(b.hold.count()) / 1000.0);
  std::string d = dir_ + "/behavior/";
  bool ok = writeTextFile(d + "hold", b.hold.count() > 0 ? hold : "") &&
            writeTextFile(d + "exit", std::to_string(b.exitCode)) && writeTextFile(d + "error", b.error) &&
            writeTextFile(d + "state", b.state) &&
            writeTextFile(d + "impressions", b.impressions > 0 ? std::to_string(b.impressions) : "");
  if (b.gate) ok = ok && writeTextFile(d + "gate", "closed");
  return ok ? floorlink::ok() : fail(ErrorCode::kIo, "cannot write " + d);
}

Status IppEvePrinter::openGate() {
  std::error_code ec;
  std::filesystem::remove(dir_ + "/behavior/gate", ec);
  return ec ? fail(ErrorCode::kIo, "cannot open the gate: " + ec.message()) : ok();
}

std::vector<ReceivedJob> IppEvePrinter::received() const {
  std::vector<ReceivedJob> jobs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/keep", ec)) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(".env")) continue;
    ReceivedJob job;
    job.jobId = std::stoi(name.substr(0, name.size() - 4));
    std::string base = dir_ + "/keep/" + std::to_string(job.jobId);
    job.bytes = readTextFile(base + ".data");
    std::istringstream env(readTextFile(entry.path().string()));
    for (std::string line; std::getline(env, line);) {
      if (auto eq = line.find('='); eq != std::string::npos) job.attributes[line.substr(0, eq)] = line.substr(eq + 1);
    }
    job.finished = std::filesystem::exists(base + ".done", ec);
    jobs.push_back(std::move(job));
  }
  std::sort(jobs.begin(), jobs.end(), [](const ReceivedJob& a, const ReceivedJob& b) { return a.jobId < b.jobId; });
  return jobs;
}

bool IppEvePrinter::waitForJobs(size_t started, size_t finished, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto jobs = received();
    size_t done = std::count_if(jobs.begin(), jobs.end(), [](const ReceivedJob& j) { return j.finished; });
    if (jobs.size() >= started && done >= finished) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Status IppEvePrinter::kill() {
  if (pid_ <= 0) return fail(ErrorCode::kNotFound, "ippeveprinter is not running");
  killChild(pid_);
  return ok();
}

Status IppEvePrinter::freeze() {
  if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0) return fail(ErrorCode::kIo, "cannot SIGSTOP ippeveprinter");
  return ok();
}

Status IppEvePrinter::thaw() {
  if (pid_ <= 0 || ::kill(pid_, SIGCONT) != 0) return fail(ErrorCode::kIo, "cannot SIGCONT ippeveprinter");
  return ok();
}

std::string IppEvePrinter::log() const { return readTextFile(dir_ + "/ippeveprinter.log"); }

std::string makeTestPdf(const std::string& tag, size_t size) {
  std::string content = "BT /F1 24 Tf 72 720 Td (" + tag + ") Tj ET";
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  };
  // Padding: a stream no page uses, of printable bytes that depend on the tag.
  std::string pad;
  uint32_t x = 2166136261u;
  for (char c : tag) x = (x ^ static_cast<unsigned char>(c)) * 16777619u;
  while (pad.size() + 600 < size) {
    x = x * 1664525u + 1013904223u;
    pad += static_cast<char>('!' + (x >> 24) % 90);
    if (pad.size() % 64 == 63) pad += '\n';
  }
  objects.push_back("<< /Length " + std::to_string(pad.size()) + " >>\nstream\n" + pad + "\nendstream");
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t o : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", o);
    out += line;
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

}  // namespace floorlink::testing
