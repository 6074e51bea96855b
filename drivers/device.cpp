#include "drivers/device.h"

namespace floorlink::drivers {

std::string_view toString(DeviceState state) {
  switch (state) {
    case DeviceState::kOk: return "ok";
    case DeviceState::kOffline: return "offline";
    case DeviceState::kFault: return "fault";
  }
  return "offline";
}

}  // namespace floorlink::drivers

#include <cstdio>
#include <ctime>

namespace floorlink::drivers {

std::string_view toString(RawDirection direction) { return direction == RawDirection::kIn ? "in" : "out"; }

void RawLog::add(int64_t timeMs, RawDirection direction, std::span<const uint8_t> bytes) {
  if (bytes.empty() || maxBytes_ == 0) return;
  if (bytes.size() > maxBytes_) bytes = bytes.subspan(bytes.size() - maxBytes_);
  chunks_.push_back(RawChunk{timeMs, direction, std::vector<uint8_t>(bytes.begin(), bytes.end())});
  bytes_ += bytes.size();
  while (!chunks_.empty() && (bytes_ > maxBytes_ || chunks_.size() > maxChunks_)) {
    bytes_ -= chunks_.front().bytes.size();
    chunks_.pop_front();
  }
}

std::vector<RawChunk> RawLog::snapshot(size_t max) const {
  size_t n = std::min(max, chunks_.size());
  return std::vector<RawChunk>(chunks_.end() - static_cast<std::ptrdiff_t>(n), chunks_.end());
}

void RawLog::clear() {
  chunks_.clear();
  bytes_ = 0;
}

std::string formatRawChunk(const RawChunk& chunk) {
  std::time_t secs = static_cast<std::time_t>(chunk.timeMs / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char head[48];
  std::snprintf(head, sizeof head, "%02d:%02d:%02d.%03d %s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(chunk.timeMs % 1000), chunk.direction == RawDirection::kIn ? "<" : ">");
  std::string hex, text;
  for (uint8_t b : chunk.bytes) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02X ", b);
    hex += buf;
    text += b >= 0x20 && b < 0x7F ? static_cast<char>(b) : '.';
  }
  return std::string(head) + hex + " " + text;
}

}  // namespace floorlink::drivers
