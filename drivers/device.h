#pragma once
// What every device shares: identity, state with a reason a technician
// understands, and a ring buffer of the last raw bytes.
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::drivers {

enum class DeviceState { kOk, kOffline, kFault };
std::string_view toString(DeviceState state);

struct DeviceStatus {
  DeviceState state = DeviceState::kOffline;
  std::string detail;  // "unplugged", "no answer for 5 s", "overload", ...
};

using StatusCallback = std::function<void(const DeviceStatus& status)>;

// Raw bytes as they crossed the wire, for technicians
// (`floorlinkctl device DEVICE --raw`).
enum class RawDirection { kIn, kOut };
std::string_view toString(RawDirection direction);

struct RawChunk {
  int64_t timeMs = 0;  // Unix ms when the bytes arrived or were written
  RawDirection direction = RawDirection::kIn;
  std::vector<uint8_t> bytes;
};

// Keeps the last `maxBytes` bytes (in at most `maxChunks` chunks); the oldest
// chunks go first. Loop thread only.
class RawLog {
 public:
  explicit RawLog(size_t maxBytes = 4096, size_t maxChunks = 256) : maxBytes_(maxBytes), maxChunks_(maxChunks) {}
  void add(int64_t timeMs, RawDirection direction, std::span<const uint8_t> bytes);
  // Oldest first; at most the last `max` chunks.
  std::vector<RawChunk> snapshot(size_t max = SIZE_MAX) const;
  size_t bytes() const { return bytes_; }
  void clear();

 private:
  size_t maxBytes_;
  size_t maxChunks_;
  size_t bytes_ = 0;
  std::deque<RawChunk> chunks_;
};

// "12:00:01.234 < 5D 43 31 30 ...  ]C10..." style rendering for the CLI.
std::string formatRawChunk(const RawChunk& chunk);

// Writes to a device through its manager (logged in the raw buffer).
using DeviceWriter = std::function<Status(std::span<const uint8_t> bytes)>;

// What a driver on top of a device (scanner, scale) receives from the
// device manager. All calls on the loop thread.
struct DeviceClient {
  std::function<void(std::span<const uint8_t> bytes)> onData;
  // The device is (again) usable; the writer stays valid while connected.
  std::function<void(DeviceWriter writer)> onConnected;
  // The transport closed (unplug, peer gone); reconnecting is underway.
  std::function<void(const DeviceStatus& status)> onDisconnected;
};

}  // namespace floorlink::drivers
