#pragma once
// Owns the transports of all configured devices: opens them, notices unplug
// and replug (inotify on the /dev directories of by-id/by-path paths, plus
// the transport's own hang-up), reconnects with backoff, keeps a state per
// device with a reason a technician understands, and the last raw bytes.
// Loop thread only.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/loop_bound.h"
#include "drivers/device.h"
#include "drivers/transport.h"
#include "io/backoff.h"

namespace floorlink::drivers {

struct DeviceManagerOptions {
  std::chrono::milliseconds backoffMin = io::Backoff::kDefaultMin;
  std::chrono::milliseconds backoffMax = io::Backoff::kDefaultMax;
  size_t rawLogBytes = 8192;
  size_t rawLogChunks = 256;
};

// One device as `floorlinkctl devices` shows it.
struct DeviceInfo {
  std::string id;
  config::DeviceKind kind = config::DeviceKind::kScanner;
  std::string address;    // as configured
  std::string identity;   // stable identity: by-id path, usb vendor:product serial, host:port
  std::string transport;  // Transport::describe(), e.g. "serial:/dev/serial/by-id/... 9600 8N1 (/dev/ttyUSB0)"
  DeviceStatus status;
  int64_t sinceMs = 0;    // when the status last changed
  uint64_t bytesIn = 0;
  uint64_t bytesOut = 0;
  uint32_t reconnects = 0;  // successful opens after the first
  std::string lastError;    // last open/read error, kept after recovery
};

class DeviceManager {
 public:
  using StatusListener = std::function<void(const std::string& id, const DeviceStatus& status)>;

  static Result<std::unique_ptr<DeviceManager>> create(EventLoop& loop, const Clock& clock, Logger logger,
                                                       DeviceManagerOptions options = {});
  ~DeviceManager();
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // Every status change of every device (device.status events, state topic, logs).
  void setStatusListener(StatusListener listener);

  // Adds a device and starts opening it. Fails only for a bad address or a
  // duplicate id; a device that is not there yet is just offline.
  Status add(const config::DeviceConfig& device, DeviceClient client);
  // Same, with a transport built by the caller (tests, simulated devices).
  Status add(const config::DeviceConfig& device, std::unique_ptr<Transport> transport, DeviceClient client);
  void remove(const std::string& id);

  Status write(const std::string& id, std::span<const uint8_t> bytes);

  // The driver on top reports what only it can see: the device answers
  // garbage, stays silent, reports overload. reportOk() clears it.
  void reportFault(const std::string& id, std::string reason);
  void reportOk(const std::string& id);

  // Tries to open a device now instead of waiting for its backoff.
  void reconnectNow(const std::string& id);

  std::vector<DeviceInfo> devices() const;
  std::optional<DeviceInfo> device(const std::string& id) const;
  // Oldest first; at most `max` chunks.
  std::vector<RawChunk> raw(const std::string& id, size_t max = SIZE_MAX) const;

  struct Entry;  // one managed device

 private:
  DeviceManager(EventLoop& loop, const Clock& clock, Logger logger, DeviceManagerOptions options, int inotifyFd);
  void tryOpen(Entry& e);
  void scheduleRetry(Entry& e);
  void setStatus(Entry& e, DeviceState state, std::string detail);
  void onTransportClosed(Entry& e, const Error& why);
  void armWatches();
  void onInotify();
  Entry* find(const std::string& id);
  const Entry* find(const std::string& id) const;

  EventLoop& loop_;
  const Clock& clock_;
  Logger logger_;
  DeviceManagerOptions options_;
  int inotifyFd_ = -1;
  EventLoop::WatchId inotifyWatch_ = 0;
  std::map<int, std::string> watchedDirs_;  // inotify wd -> directory
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  StatusListener listener_;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace floorlink::drivers
