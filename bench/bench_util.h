#pragma once
// Small helpers every benchmark uses.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace floorlink::bench {

// Nearest-rank percentile (p in 0..1) of a sample; 0 for an empty one.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

[[noreturn]] inline void die(const char* bench, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", bench, what.c_str());
  std::exit(1);
}

// A field of /proc/PID/status ("VmRSS", "RssAnon") in MiB; pid 0: this process.
inline double statusMib(const char* field, int pid = 0) {
  std::ifstream in(pid ? "/proc/" + std::to_string(pid) + "/status" : std::string("/proc/self/status"));
  std::string line, key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
  }
  return 0;
}

struct Figure {
  std::string name;
  double value;
  std::string unit;
  double baseline;
};

// Prints the table and writes $FLOORLINK_BENCH_OUT/<file> (default: .) as a
// list of {"name","value","unit","baseline","ratio"}.
inline void writeFigures(const char* bench, const std::vector<Figure>& figures, const std::string& file) {
  std::printf("%-36s %12s %-5s %12s %8s\n", "figure", "value", "unit", "baseline", "ratio");
  std::string json = "[\n";
  for (size_t i = 0; i < figures.size(); ++i) {
    const Figure& f = figures[i];
    double ratio = f.baseline > 0 ? f.value / f.baseline : 0;
    std::printf("%-36s %12.3f %-5s %12.3f %8.2f\n", f.name.c_str(), f.value, f.unit.c_str(), f.baseline, ratio);
    json += fmt::format(R"(  {{"name": "{}", "value": {:.6f}, "unit": "{}", "baseline": {:.6f}, "ratio": {:.4f}}}{})",
                        f.name, f.value, f.unit, f.baseline, ratio, i + 1 < figures.size() ? ",\n" : "\n");
  }
  json += "]\n";
  const char* out = std::getenv("FLOORLINK_BENCH_OUT");
  std::string path = std::string(out && *out ? out : ".") + "/" + file;
  std::ofstream f(path);
  f << json;
  if (!f) die(bench, "cannot write " + path);
  std::printf("wrote %s\n", path.c_str());
}

}  // namespace floorlink::bench
