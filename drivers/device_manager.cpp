#include "drivers/device_manager.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "io/backoff.h"

namespace floorlink::drivers {

struct DeviceManager::Entry {
  config::DeviceConfig config;
  std::unique_ptr<Transport> transport;
  DeviceClient client;
  DeviceInfo info;
  RawLog raw;
  io::Backoff backoff;
  EventLoop::TimerId retryTimer = 0;
  bool connected = false;
  bool everConnected = false;
  bool pathBased = false;     // serial/evdev: hotplug through the /dev path
  std::string faultReason;    // reported by the driver on top
  LoopBound bound;            // last: the entry's callbacks die with it
  explicit Entry(EventLoop& loop, io::Backoff b) : backoff(b), bound(loop) {}
};

namespace {

std::string identityOf(const config::DeviceAddress& a) {
  char buf[32];
  switch (a.scheme) {
    case config::AddressScheme::kSerial:
    case config::AddressScheme::kEvdev:
    case config::AddressScheme::kFile:
      return a.path;
    case config::AddressScheme::kTcp: return a.host + ":" + std::to_string(a.port);
    case config::AddressScheme::kUsb: {
      std::snprintf(buf, sizeof buf, "usb %04x:%04x", a.vendorId, a.productId);
      auto it = a.params.find("serial");
      return std::string(buf) + (it != a.params.end() ? " serial " + it->second : std::string());
    }
    case config::AddressScheme::kSim: return "sim:" + a.path;
    case config::AddressScheme::kIpp:
    case config::AddressScheme::kIpps:
    case config::AddressScheme::kCups:
      break;  // document printers: not the device manager's
  }
  return a.text;
}

// Errors that retrying will not fix without a technician: still retried, but
// reported as a fault rather than offline.
bool isFault(ErrorCode code) {
  return code == ErrorCode::kPermission || code == ErrorCode::kBusy || code == ErrorCode::kUnsupported;
}

}  // namespace

Result<std::unique_ptr<DeviceManager>> DeviceManager::create(EventLoop& loop, const Clock& clock, Logger logger,
                                                             DeviceManagerOptions options) {
  if (options.backoffMin.count() <= 0 || options.backoffMax < options.backoffMin) {
    return fail(ErrorCode::kInvalidArgument, "device backoff must be positive and min <= max");
  }
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kIo, "inotify_init1: " + std::string(std::strerror(errno)));
  auto m = std::unique_ptr<DeviceManager>(new DeviceManager(loop, clock, std::move(logger), options, fd));
  auto watch = loop.watchFd(fd, static_cast<uint32_t>(IoEvent::kRead),
                            m->bound_.bind([raw = m.get()](uint32_t) { raw->onInotify(); }));
  if (!watch) return std::unexpected(watch.error());
  m->inotifyWatch_ = *watch;
  return m;
}

DeviceManager::DeviceManager(EventLoop& loop, const Clock& clock, Logger logger, DeviceManagerOptions options,
                             int inotifyFd)
    : loop_(loop), clock_(clock), logger_(std::move(logger)), options_(options), inotifyFd_(inotifyFd),
      bound_(loop) {}

DeviceManager::~DeviceManager() {
  bound_.assertLoopThread();
  for (auto& [id, e] : entries_) {
    if (e->retryTimer) loop_.cancelTimer(e->retryTimer);
    e->bound.invalidate();
    e->transport->close();
  }
  entries_.clear();
  if (inotifyWatch_) loop_.unwatchFd(inotifyWatch_);
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
}

void DeviceManager::setStatusListener(StatusListener listener) { listener_ = std::move(listener); }

Status DeviceManager::add(const config::DeviceConfig& device, DeviceClient client) {
  bound_.assertLoopThread();
  auto transport = createTransport(loop_, device.address, logger_);
  if (!transport) {
    return fail(transport.error().code, device.origin.describe() + ": device \"" + device.id + "\": " +
                                            transport.error().message);
  }
  return add(device, std::move(*transport), std::move(client));
}

Status DeviceManager::add(const config::DeviceConfig& device, std::unique_ptr<Transport> transport,
                          DeviceClient client) {
  bound_.assertLoopThread();
  if (entries_.contains(device.id)) {
    return fail(ErrorCode::kAlreadyExists, "device \"" + device.id + "\" is already managed");
  }
  auto e = std::make_unique<Entry>(loop_, io::Backoff(options_.backoffMin, options_.backoffMax));
  e->config = device;
  e->transport = std::move(transport);
  e->client = std::move(client);
  e->raw = RawLog(options_.rawLogBytes, options_.rawLogChunks);
  e->info.id = device.id;
  e->info.kind = device.kind;
  e->info.address = device.address.text;
  e->info.identity = identityOf(device.address);
  e->info.transport = e->transport->describe();
  e->info.status = DeviceStatus{DeviceState::kOffline, "not opened yet"};
  e->info.sinceMs = clock_.nowMs();
  e->pathBased = device.address.scheme == config::AddressScheme::kSerial ||
                 device.address.scheme == config::AddressScheme::kEvdev;
  if (e->pathBased && device.address.path.find("/by-id/") == std::string::npos &&
      device.address.path.find("/by-path/") == std::string::npos) {
    logger_.warn(deviceFields(device.id),
                 "{} uses {}, whose number depends on plug-in order; use its /dev/serial/by-id or /dev/input/by-id "
                 "link (docs/devices.md)",
                 device.id, device.address.path);
  }
  Entry& ref = *e;
  entries_.emplace(device.id, std::move(e));
  if (ref.pathBased || device.address.scheme == config::AddressScheme::kUsb) armWatches();
  tryOpen(ref);
  return ok();
}

void DeviceManager::remove(const std::string& id) {
  bound_.assertLoopThread();
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  if (e.retryTimer) loop_.cancelTimer(e.retryTimer);
  e.transport->close();
  entries_.erase(it);
}

DeviceManager::Entry* DeviceManager::find(const std::string& id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}
const DeviceManager::Entry* DeviceManager::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

void DeviceManager::setStatus(Entry& e, DeviceState state, std::string detail) {
  // A fault reported by the driver wins over "ok" from the transport.
  if (state == DeviceState::kOk && !e.faultReason.empty()) {
    state = DeviceState::kFault;
    detail = e.faultReason;
  }
  if (e.info.status.state == state && e.info.status.detail == detail) return;
  e.info.status = DeviceStatus{state, std::move(detail)};
  e.info.sinceMs = clock_.nowMs();
  auto fields = deviceFields(e.config.id);
  if (state == DeviceState::kOk) {
    logger_.info(fields, "{} is ok ({})", e.config.id, e.info.transport);
  } else {
    logger_.warn(fields, "{} is {}: {}", e.config.id, toString(state), e.info.status.detail);
  }
  if (listener_) {
    DeviceStatus copy = e.info.status;
    listener_(e.config.id, copy);
  }
}

void DeviceManager::tryOpen(Entry& e) {
  if (e.retryTimer) {
    loop_.cancelTimer(e.retryTimer);
    e.retryTimer = 0;
  }
  if (e.transport->isOpen()) return;
  Entry* ep = &e;
  Transport::Handlers h;
  h.onData = e.bound.bind([this, ep](std::span<const uint8_t> bytes) {
    ep->raw.add(clock_.nowMs(), RawDirection::kIn, bytes);
    ep->info.bytesIn += bytes.size();
    if (ep->client.onData) ep->client.onData(bytes);
  });
  h.onClosed = e.bound.bind([this, ep](const Error& why) { onTransportClosed(*ep, why); });
  h.onConnected = e.bound.bind([this, ep] {
    if (ep->connected) return;
    ep->connected = true;
    if (ep->everConnected) ++ep->info.reconnects;
    ep->everConnected = true;
    ep->backoff.reset();
    ep->info.transport = ep->transport->describe();
    setStatus(*ep, DeviceState::kOk, "connected");
    if (ep->client.onConnected) {
      std::string id = ep->config.id;
      ep->client.onConnected([this, id](std::span<const uint8_t> bytes) { return write(id, bytes); });
    }
  });
  auto s = e.transport->open(std::move(h));
  if (!s) {
    e.info.lastError = s.error().message;
    bool fault = isFault(s.error().code);
    std::string detail = s.error().code == ErrorCode::kNotFound ? "not connected: " + s.error().message
                                                                : s.error().message;
    setStatus(e, fault ? DeviceState::kFault : DeviceState::kOffline, detail);
    scheduleRetry(e);
  }
}

void DeviceManager::scheduleRetry(Entry& e) {
  if (e.retryTimer) loop_.cancelTimer(e.retryTimer);
  Entry* ep = &e;
  e.retryTimer = loop_.addTimer(e.backoff.next(), e.bound.bind([this, ep] {
    ep->retryTimer = 0;
    tryOpen(*ep);
  }));
}

void DeviceManager::onTransportClosed(Entry& e, const Error& why) {
  bool was = e.connected;
  e.connected = false;
  e.info.lastError = why.message;
  DeviceStatus st{isFault(why.code) ? DeviceState::kFault : DeviceState::kOffline, why.message};
  setStatus(e, st.state, st.detail);
  if (was && e.client.onDisconnected) e.client.onDisconnected(e.info.status);
  scheduleRetry(e);
}

Status DeviceManager::write(const std::string& id, std::span<const uint8_t> bytes) {
  bound_.assertLoopThread();
  Entry* e = find(id);
  if (!e) return fail(ErrorCode::kNotFound, "no device \"" + id + "\"");
  if (!e->transport->isOpen()) {
    return fail(ErrorCode::kDisconnected, id + " is " + std::string(toString(e->info.status.state)) + ": " +
                                              e->info.status.detail);
  }
  auto s = e->transport->write(bytes);
  if (s) {
    e->raw.add(clock_.nowMs(), RawDirection::kOut, bytes);
    e->info.bytesOut += bytes.size();
  }
  return s;
}

void DeviceManager::reportFault(const std::string& id, std::string reason) {
  Entry* e = find(id);
  if (!e) return;
  e->faultReason = reason;
  setStatus(*e, DeviceState::kFault, std::move(reason));
}

void DeviceManager::reportOk(const std::string& id) {
  Entry* e = find(id);
  if (!e) return;
  e->faultReason.clear();
  if (e->connected) setStatus(*e, DeviceState::kOk, "connected");
}

void DeviceManager::reconnectNow(const std::string& id) {
  if (Entry* e = find(id)) tryOpen(*e);
}

std::vector<DeviceInfo> DeviceManager::devices() const {
  std::vector<DeviceInfo> out;
  for (auto& [id, e] : entries_) out.push_back(e->info);
  return out;
}

std::optional<DeviceInfo> DeviceManager::device(const std::string& id) const {
  const Entry* e = find(id);
  if (!e) return std::nullopt;
  return e->info;
}

std::vector<RawChunk> DeviceManager::raw(const std::string& id, size_t max) const {
  const Entry* e = find(id);
  return e ? e->raw.snapshot(max) : std::vector<RawChunk>{};
}

void DeviceManager::armWatches() {
  // Watch every existing directory on the way to each device path: udev
  // removes /dev/serial/by-id with the last serial device and creates it again.
  std::set<std::string> dirs;
  for (auto& [id, e] : entries_) {
    if (!e->pathBased) continue;
    std::string path = e->config.address.path;
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0; slash = path.rfind('/', slash - 1)) {
      dirs.insert(path.substr(0, slash));
    }
  }
  // USB devices: a new node under /dev/bus/usb/BBB/ means something was
  // plugged in; try closed USB devices at once instead of after the backoff.
  bool usb = false;
  for (auto& [id, e] : entries_) usb = usb || e->config.address.scheme == config::AddressScheme::kUsb;
  if (usb) {
    dirs.insert("/dev");  // /dev/bus/usb itself appears with the first USB device
    dirs.insert("/dev/bus");
    dirs.insert("/dev/bus/usb");
    for (int bus = 1; bus <= 32; ++bus) {
      char path[32];
      std::snprintf(path, sizeof path, "/dev/bus/usb/%03d", bus);
      if (::access(path, F_OK) == 0) dirs.insert(path);
    }
  }
  for (const std::string& dir : dirs) {
    int wd = ::inotify_add_watch(inotifyFd_, dir.c_str(),
                                 IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF);
    if (wd >= 0) watchedDirs_[wd] = dir;
  }
}

void DeviceManager::onInotify() {
  alignas(inotify_event) char buf[4096];
  bool any = false;
  bool usbChanged = false;
  bool usbAdded = false;  // only a new node is worth an early open
  for (;;) {
    ssize_t n = ::read(inotifyFd_, buf, sizeof buf);
    if (n <= 0) break;
    any = true;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (auto it = watchedDirs_.find(ev->wd); it != watchedDirs_.end()) {
        const std::string& dir = it->second;
        std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
        if (dir.starts_with("/dev/bus") || (dir == "/dev" && name == "bus")) {
          usbChanged = true;
          usbAdded = usbAdded || (ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0;
        }
      }
      if (ev->mask & IN_IGNORED) watchedDirs_.erase(ev->wd);
      p += sizeof(inotify_event) + ev->len;
    }
  }
  if (!any) return;
  armWatches();
  std::vector<std::string> ids;
  for (auto& [id, e] : entries_) ids.push_back(id);
  for (const std::string& id : ids) {
    Entry* e = find(id);  // a status listener may have removed it meanwhile
    if (!e) continue;
    if (e->config.address.scheme == config::AddressScheme::kUsb) {
      if (!usbChanged) continue;
      if (e->transport->isOpen()) {
        // libusb reports an unplug on the next transfer; a vanished node says so at once.
        std::string node = e->transport->node();
        if (!node.empty() && ::access(node.c_str(), F_OK) != 0) {
          e->transport->close();
          onTransportClosed(*e, Error{ErrorCode::kDisconnected, e->info.identity + " was unplugged"});
        }
        continue;
      }
      if (!usbAdded) continue;
      e->backoff.reset();
      tryOpen(*e);
      continue;
    }
    if (!e->pathBased) continue;
    bool present = !io::resolveDeviceNode(e->config.address.path).empty();
    if (e->transport->isOpen() && !present) {
      // A removed tty does not always hang up its readers: close it ourselves.
      e->transport->close();
      onTransportClosed(*e, Error{ErrorCode::kDisconnected, e->config.address.path + " was unplugged"});
    } else if (!e->transport->isOpen() && present) {
      logger_.info(deviceFields(id), "{} appeared at {}", id, e->config.address.path);
      e->backoff.reset();
      tryOpen(*e);
    }
  }
}

}  // namespace floorlink::drivers
