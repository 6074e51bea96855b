#pragma once
// Small helpers every benchmark uses.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace floorlink::bench {

// Nearest-rank percentile (p in 0..1) of a sample; 0 for an empty one.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace floorlink::bench
