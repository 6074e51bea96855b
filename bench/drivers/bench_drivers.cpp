// Scanner figures, each beside a baseline measured in the same run:
//   scan_decode_us_p99 / _p50: the bytes of one scan (as a serial or TCP
//       scanner sends them, CR-terminated) through ScanFramer and
//       ScanClassifier to a typed ScanValue, over a mix of GS1-128 SSCC, GS1
//       DataMatrix (GTIN, expiry, lot, serial), EAN-13, bin label and command
//       barcode scans.
//       baseline: the same bytes copied into a std::string up to the CR
//       (scan_frame_copy_us_p99), i.e. what reading them costs at least.
//   gs1_parse_ns: gs1::parse of the DataMatrix element string (mean).
//       baseline: copying the element string (gs1_copy_ns).
//   scan_tcp_us_p99: a scan written by a TCP scanner on loopback until the
//       typed value reaches onScan (event loop, TcpTransport, DeviceManager
//       with its raw log, Scanner), same thread, one scan at a time.
//       baseline: the same bytes over a second loopback connection read by a
//       bare fd watch on the same loop (scan_tcp_raw_us_p99).
// Prints a table and writes [{"name","value","unit","baseline","ratio"}] to
// $FLOORLINK_BENCH_OUT/drivers.json (current directory when unset).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "config/loader.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "drivers/device_manager.h"
#include "core/gs1.h"
#include "drivers/scan.h"
#include "drivers/scanner.h"

using namespace floorlink::drivers;
namespace gs1 = floorlink::gs1;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Figure {
  std::string name;
  double value;
  std::string unit;
  double baseline;
};

template <class T>
void keep(const T& value) {
  asm volatile("" : : "r"(&value) : "memory");
}

using floorlink::bench::percentile;

// Loopback latency of a scan through the whole scanner stack, beside a raw
// socket read. Returns {p99 stack, p99 raw} in microseconds.
std::pair<double, double> tcpLatency(const std::vector<std::string>& scans, size_t rounds) {
  using namespace floorlink;
  auto loop = EventLoop::create().value();
  SystemClock clock;
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(listener, 4);
  int port = ntohs(a.sin_port);

  auto manager = DeviceManager::create(*loop, clock, Logger()).value();
  config::DeviceConfig cfg;
  cfg.id = "bench-scanner";
  cfg.kind = config::DeviceKind::kScanner;
  cfg.address = config::parseAddress("tcp://127.0.0.1:" + std::to_string(port)).value();
  cfg.options["bin_pattern"] = config::OptionValue{"^[A-Z]\\d{2}-\\d{2}-\\d{2}$", {}};
  cfg.options["command_pattern"] = config::OptionValue{"^CMD:(.+)$", {}};
  auto scanner = createScanner(*loop, cfg, Logger()).value();
  size_t received = 0;
  SteadyClock::time_point arrived;
  scanner->setHandlers({.onScan = [&](const ScanValue&) {
                          arrived = SteadyClock::now();
                          ++received;
                        },
                        .onBadScan = [](const Error& e, const std::string&) {
                          std::fprintf(stderr, "bench: bad scan: %s\n", e.message.c_str());
                          std::exit(1);
                        }});
  if (!manager->add(cfg, scanner->deviceClient())) std::exit(1);
  int device = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);  // the "scanner" side

  // Baseline connection: a bare fd watch reading the bytes.
  int rawClient = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::connect(rawClient, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int rawDevice = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  int one = 1;
  for (int fd : {device, rawClient, rawDevice}) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  size_t rawBytes = 0;
  SteadyClock::time_point rawArrived;
  (void)loop->watchFd(rawClient, static_cast<uint32_t>(IoEvent::kRead), [&](uint32_t) {
    char buf[512];
    ssize_t n = ::recv(rawClient, buf, sizeof buf, 0);
    if (n > 0) {
      rawBytes += static_cast<size_t>(n);
      rawArrived = SteadyClock::now();
    }
  });
  while (manager->device("bench-scanner")->status.state != drivers::DeviceState::kOk) {
    (void)loop->runFor(std::chrono::milliseconds(5));
  }

  std::vector<double> stack, raw;
  for (size_t i = 0; i < rounds + rounds / 10; ++i) {
    const std::string& s = scans[i % scans.size()];
    size_t want = received + 1;
    auto t0 = SteadyClock::now();
    ::send(device, s.data(), s.size(), MSG_NOSIGNAL);
    while (received < want) (void)loop->runFor(std::chrono::milliseconds(1));
    double us = std::chrono::duration<double, std::micro>(arrived - t0).count();
    size_t wantRaw = rawBytes + s.size();
    auto r0 = SteadyClock::now();
    ::send(rawDevice, s.data(), s.size(), MSG_NOSIGNAL);
    while (rawBytes < wantRaw) (void)loop->runFor(std::chrono::milliseconds(1));
    double rawUs = std::chrono::duration<double, std::micro>(rawArrived - r0).count();
    if (i >= rounds / 10) {
      stack.push_back(us);
      raw.push_back(rawUs);
    }
  }
  manager.reset();
  ::close(device);
  ::close(rawClient);
  ::close(rawDevice);
  ::close(listener);
  return {percentile(stack, 0.99), percentile(raw, 0.99)};
}

}  // namespace

int main() {
  const std::vector<std::string> scans = {
      "]C100106141412345678908\r",
      "]d2010950110153000317240200" "10LOT-4711\x1d" "21SN000123456\r",
      "]E04006381333931\r",
      "]C0A01-02-03\r",
      "]C0CMD:CLOSE-TOTE\r",
      "]C10109501101530003" "3103000125" "15251231\r",
  };
  ClassifierOptions co;
  co.binLabelPattern = "^[A-Z]\\d{2}-\\d{2}-\\d{2}$";
  co.commandPattern = "^CMD:(.+)$";
  auto classifier = ScanClassifier::create(co).value();
  FramingOptions fo;
  fo.suffix = FrameSuffix::kCr;
  ScanFramer framer(fo);

  constexpr size_t kRounds = 200'000;
  std::vector<double> decode, copy;
  decode.reserve(kRounds);
  copy.reserve(kRounds);
  std::vector<floorlink::Result<std::string>> frames;
  size_t typed = 0;
  for (size_t i = 0; i < kRounds + kRounds / 10; ++i) {
    const std::string& s = scans[i % scans.size()];
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    // Baseline: the bytes into a string up to the suffix.
    auto t0 = SteadyClock::now();
    const void* cr = std::memchr(s.data(), '\r', s.size());
    std::string frame(s.data(), static_cast<const char*>(cr));
    keep(frame);
    auto t1 = SteadyClock::now();
    // Measured: framing and classification to a typed value.
    frames.clear();
    framer.feed(bytes, frames);
    auto value = classifier.classify(*frames.front());
    keep(value);
    auto t2 = SteadyClock::now();
    if (!value) {
      std::fprintf(stderr, "bench scan %zu did not decode: %s\n", i % scans.size(), value.error().message.c_str());
      return 1;
    }
    typed += value->kind != ScanKind::kText;
    if (i >= kRounds / 10) {  // the first tenth warms caches up
      copy.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      decode.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
  }
  keep(typed);

  const std::string es = "010950110153000317240200" "10LOT-4711\x1d" "21SN000123456";
  auto g0 = SteadyClock::now();
  for (size_t i = 0; i < kRounds; ++i) keep(gs1::parse(es));
  double parseNs = std::chrono::duration<double, std::nano>(SteadyClock::now() - g0).count() / kRounds;
  auto c0 = SteadyClock::now();
  for (size_t i = 0; i < kRounds; ++i) {
    std::string s(es);
    keep(s);
  }
  double copyNs = std::chrono::duration<double, std::nano>(SteadyClock::now() - c0).count() / kRounds;

  double copyP99 = percentile(copy, 0.99), copyP50 = percentile(copy, 0.50);
  auto [tcpStack, tcpRaw] = tcpLatency(scans, 20'000);
  std::vector<Figure> out = {
      {"scan_decode_us_p99", percentile(decode, 0.99), "us", copyP99},
      {"scan_decode_us_p50", percentile(decode, 0.50), "us", copyP50},
      {"gs1_parse_ns", parseNs, "ns", copyNs},
      {"scan_tcp_us_p99", tcpStack, "us", tcpRaw},
  };

  std::printf("%-24s %12s %6s %12s %8s\n", "figure", "value", "unit", "baseline", "ratio");
  // Baselines: scan_frame_copy_us (byte copy), gs1_copy_ns, scan_tcp_raw_us_p99 (bare socket read).
  for (auto& f : out) {
    std::printf("%-24s %12.3f %6s %12.3f %8.1f\n", f.name.c_str(), f.value, f.unit.c_str(), f.baseline,
                f.value / f.baseline);
  }
  std::printf("(goal: scan_decode_us_p99 under 20 us; baseline = copying the scan's bytes)\n");

  const char* dir = std::getenv("FLOORLINK_BENCH_OUT");
  std::string path = std::string(dir && *dir ? dir : ".") + "/drivers.json";
  std::ofstream json(path);
  json << "[\n";
  for (size_t i = 0; i < out.size(); ++i) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "  {\"name\": \"%s\", \"value\": %.4f, \"unit\": \"%s\", \"baseline\": %.4f, \"ratio\": %.3f}%s\n",
                  out[i].name.c_str(), out[i].value, out[i].unit.c_str(), out[i].baseline,
                  out[i].value / out[i].baseline, i + 1 < out.size() ? "," : "");
    json << line;
  }
  json << "]\n";
  if (!json) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}
