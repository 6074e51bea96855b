// Scale figures, each beside a baseline measured in the same run:
//   scale_frame_parse_ns_<protocol>   one frame -> value, per protocol
//       baseline: copying the same frame into a std::string (scale_frame_copy_ns)
//   scale_settle_to_reading_ms (p50, and _p99)   the last frame of a settled
//       weight leaves the emulated MT-SICS scale (a thread behind a loopback TCP
//       socket, the real TCP transport, event loop and scale driver) -> the
//       stable weight reaches the weigh() callback
//       baseline (same connection, interleaved): a moving reading's frame
//       leaves the scale -> the reading reaches a watchReadings() callback
//       (scale_frame_to_live_reading_ms); a ratio near 1 means deciding
//       stability adds nothing to the frame's own latency
// Prints a table and writes [{"name","value","unit","baseline","ratio"}] to
// $FLOORLINK_BENCH_OUT/scales.json (current directory when unset).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "bench/bench_util.h"
#include "config/loader.h"
#include "core/event_loop.h"
#include "drivers/scale/frames.h"
#include "drivers/scale/scale.h"
#include "drivers/transport.h"
#include "tests/scales/scale_emulators.h"
#include "tests/scales/tcp_scale_server.h"

namespace {

using namespace floorlink;
using namespace floorlink::drivers;
using Clock = std::chrono::steady_clock;

template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

using floorlink::bench::Figure;

template <class Fn>
double nsPerCall(size_t iterations, Fn&& fn) {
  for (size_t i = 0; i < iterations / 10; ++i) fn(i);  // warm up
  auto start = Clock::now();
  for (size_t i = 0; i < iterations; ++i) fn(i);
  auto ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  return ns / static_cast<double>(iterations);
}

std::vector<Figure> parseFigures() {
  constexpr size_t kIterations = 400'000;
  std::vector<std::string> sics = {"S S     100.00 g", "S D    1234.56 g", "S S      -0.25 kg", "S +"};
  std::vector<std::string> toledo = {"01.234", std::string("?") + '\x41', "00.500N", "001.50"};
  std::vector<std::string> nci = {"\n  1.25lb\r\n00\r", "\n 12.345kg\r\n00\r", "\n10\r", "\n1LB 4.5OZ\r\n00\r"};
  std::vector<std::vector<uint8_t>> hid = {{3, 4, 2, 0, 0x14, 0}, {3, 4, 11, 0xFF, 0x34, 0x19}, {3, 3, 2, 0, 0, 0},
                                           {3, 4, 3, 0xFD, 0xD2, 0x04}};
  std::vector<std::string> cont = {"ST,GS,+0001.234kg", "US,GS,+0001.200kg", "ST,NT,-0000.500kg", "OL,GS,+9999.999kg"};
  ContinuousFormat format;
  format.pattern =
      R"(^\s*(?<status>ST|US|OL),(?:GS|NT|TR),(?<sign>[+-]?)\s*(?<weight>[0-9.]+)\s*(?<unit>kg|g|lb|oz)\s*$)";
  auto parser = ContinuousParser::create(format).value();
  const HidScaleQuirk& dymo = *findHidScaleQuirk("dymo-m25");

  double copy = nsPerCall(kIterations, [&](size_t i) {
    std::string s = sics[i % sics.size()];
    keep(s);
  });
  std::vector<Figure> out;
  out.push_back({"scale_frame_copy_ns", copy, "ns", copy});
  out.push_back({"scale_frame_parse_ns_mt_sics",
                 nsPerCall(kIterations, [&](size_t i) { keep(parseMtSicsLine(sics[i % sics.size()])); }), "ns", copy});
  out.push_back({"scale_frame_parse_ns_toledo_8217", nsPerCall(kIterations, [&](size_t i) {
                   auto r = parseToledo8217Frame(toledo[i % toledo.size()]);
                   if (r && !r->status) keep(toledo8217Grams(*r, std::nullopt));
                   keep(r);
                 }),
                 "ns", copy});
  out.push_back({"scale_frame_parse_ns_nci",
                 nsPerCall(kIterations, [&](size_t i) { keep(parseNciFrame(nci[i % nci.size()])); }), "ns", copy});
  out.push_back({"scale_frame_parse_ns_hid_pos",
                 nsPerCall(kIterations, [&](size_t i) { keep(parseHidScaleReport(hid[i % hid.size()], dymo)); }), "ns",
                 copy});
  out.push_back({"scale_frame_parse_ns_continuous",
                 nsPerCall(kIterations / 10, [&](size_t i) { keep(parser.parse(cont[i % cont.size()])); }), "ns", copy});
  return out;
}

using floorlink::bench::percentile;

bool runUntil(EventLoop& loop, const std::function<bool()>& done) {
  auto end = Clock::now() + std::chrono::seconds{10};
  while (!done()) {
    if (Clock::now() > end) return false;
    if (!loop.runFor(std::chrono::milliseconds{1})) return false;
  }
  return true;
}

std::vector<Figure> settleFigures() {
  constexpr int kRounds = 100;
  testing::TcpScaleServer scale;
  auto loop = EventLoop::create().value();
  auto address = config::parseAddress(fmt::format("tcp://127.0.0.1:{}", scale.port())).value();
  config::DeviceConfig d;
  d.id = "bench-scale";
  d.kind = config::DeviceKind::kScale;
  d.protocol = "mt-sics";
  d.address = address;
  d.options["stable_readings"] = config::OptionValue{"3", {}};
  d.options["poll_interval_ms"] = config::OptionValue{"20", {}};
  auto transport = createTransport(*loop, address).value();
  auto s = createScale(*loop, d, std::move(transport)).value();
  // Baseline, same connection, interleaved: a (moving) reading's frame leaves
  // the scale -> the reading reaches a live-reading watcher.
  std::vector<double> frame;
  s->watchReadings([&](const Reading& r) {
    if (r.status != WeightStatus::kMotion) return;
    auto now = Clock::now();
    frame.push_back(std::chrono::duration<double, std::milli>(now - scale.lastSentBefore(now)).count());
  });
  s->start();
  std::vector<double> settle;
  for (int i = 0; i < kRounds; ++i) {
    scale.set(1000 + i, true);  // a new box, still swinging
    loop->runFor(std::chrono::milliseconds{50});
    scale.set(1000 + i, false);  // settles
    std::optional<Result<Weight>> result;
    Clock::time_point at{};
    s->weigh([&](Result<Weight> w) {
      at = Clock::now();
      result = std::move(w);
    });
    if (!runUntil(*loop, [&] { return result.has_value(); }) || !result->has_value()) {
      std::fprintf(stderr, "bench_scales: weigh failed: %s\n",
                   result && !result->has_value() ? result->error().describe().c_str() : "no answer");
      std::exit(1);
    }
    settle.push_back(std::chrono::duration<double, std::milli>(at - scale.lastSentBefore(at)).count());
  }
  s->stop();
  return {
      {"scale_frame_to_live_reading_ms", percentile(frame, 0.5), "ms", percentile(frame, 0.5)},
      {"scale_settle_to_reading_ms", percentile(settle, 0.5), "ms", percentile(frame, 0.5)},
      {"scale_settle_to_reading_ms_p99", percentile(settle, 0.99), "ms", percentile(frame, 0.99)},
  };
}

}  // namespace

int main() {
  std::vector<Figure> figures = parseFigures();
  for (auto& f : settleFigures()) figures.push_back(f);

  floorlink::bench::writeFigures("bench_scales", figures, "scales.json");
  return 0;
}
