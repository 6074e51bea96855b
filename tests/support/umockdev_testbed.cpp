#include "tests/support/umockdev_testbed.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/input.h>
#include <linux/usbdevice_fs.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <umockdev.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace floorlink::test {
namespace {

std::string hex(const std::vector<uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

void makeRaw(int fd) {
  termios t{};
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
}

void writeAll(int fd, const void* data, size_t size) {
  auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (n <= 0) {
      ADD_FAILURE() << "write to emulated device failed: " << std::strerror(errno);
      return;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::vector<uint8_t> utf16Descriptor(const std::string& s) {
  std::vector<uint8_t> d{static_cast<uint8_t>(2 + 2 * s.size()), 0x03};
  for (char c : s) {
    d.push_back(static_cast<uint8_t>(c));
    d.push_back(0);
  }
  return d;
}

// A minimal HID POS barcode scanner report descriptor: usage page 0x8C,
// one 63-byte input report (id 2) and one 1-byte output report (id 4).
const std::vector<uint8_t> kHidPosScannerReportDescriptor = {
    0x06, 0x8C, 0x00,  // Usage Page (Bar Code Scanner)
    0x09, 0x02,        // Usage (Bar Code Scanner)
    0xA1, 0x01,        // Collection (Application)
    0x85, 0x02,        //   Report ID 2
    0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x3F,
    0x09, 0xFE,        //   Usage (Decoded Data)
    0x82, 0x02, 0x01,  //   Input (Data, Var, Abs, Buffered)
    0x85, 0x04, 0x95, 0x01, 0x09, 0x15, 0x91, 0x02,  // Output report 4 (beeper)
    0xC0,              // End Collection
};

}  // namespace

struct UsbState;

struct SerialState {
  std::mutex mutex;
  int modemLines = TIOCM_DSR | TIOCM_CTS | TIOCM_CAR;
};

struct EvdevState {
  std::mutex mutex;
  bool grabbed = false;
};

struct PendingUrb {
  UMockdevIoctlData* urb = nullptr;     // resolved usbdevfs_urb (owned ref)
  UMockdevIoctlData* buffer = nullptr;  // resolved data buffer (owned ref)
  bool ready = false;                   // completed, waiting to be reaped
  int status = 0;
  int actualLength = 0;
};

struct UsbState {
  std::mutex mutex;
  UmockdevTestbed::UsbHidSpec spec;
  std::vector<uint8_t> descriptors;  // device + configuration
  std::deque<PendingUrb> urbs;       // submitted, in order
  std::deque<std::vector<uint8_t>> inputReports;
  bool driverBound = true;
  UmockdevTestbed::UsbStats stats;
  std::string driverName = "usbhid";
  // Printers: bulk IN answers from the responder; after unplug every ioctl but
  // reaping fails with ENODEV and pending URBs end with -ESHUTDOWN (the kernel's way).
  bool printer = false;
  bool gone = false;
  UmockdevTestbed::BulkResponder responder;
  std::string bulkIn;

  ~UsbState() {
    for (auto& u : urbs) {
      if (u.buffer) g_object_unref(u.buffer);
      if (u.urb) g_object_unref(u.urb);
    }
  }

  // Answers a control transfer in place; returns the data length or -1 (stall).
  int control(const uint8_t* setup, uint8_t* data, int maxLength) {
    ++stats.controlTransfers;
    uint8_t requestType = setup[0], request = setup[1];
    uint16_t value = static_cast<uint16_t>(setup[2] | (setup[3] << 8));
    uint16_t length = static_cast<uint16_t>(setup[6] | (setup[7] << 8));
    std::vector<uint8_t> reply;
    if ((requestType & 0x80) && request == 0x06) {  // GET_DESCRIPTOR
      uint8_t type = static_cast<uint8_t>(value >> 8), index = static_cast<uint8_t>(value & 0xFF);
      if (type == 0x01) {
        reply.assign(descriptors.begin(), descriptors.begin() + 18);
      } else if (type == 0x02) {
        reply.assign(descriptors.begin() + 18, descriptors.end());
      } else if (type == 0x03) {
        if (index == 0) reply = {0x04, 0x03, 0x09, 0x04};
        else if (index == 1) reply = utf16Descriptor(spec.manufacturer);
        else if (index == 2) reply = utf16Descriptor(spec.product);
        else if (index == 3) reply = utf16Descriptor(spec.serial);
        else return -1;
      } else if (type == 0x22) {
        reply = spec.reportDescriptor;
      } else {
        return -1;
      }
    } else if (requestType == 0x21 && request == 0x09) {  // SET_REPORT
      stats.outReports.emplace_back(data, data + std::min<int>(length, maxLength));
      return std::min<int>(length, maxLength);
    } else if (requestType == 0x21 && request == 0x0A) {  // SET_IDLE
      return 0;
    } else {
      return -1;
    }
    int n = std::min<int>({static_cast<int>(reply.size()), static_cast<int>(length), maxLength});
    std::memcpy(data, reply.data(), static_cast<size_t>(n));
    return n;
  }

  // Completes waiting bulk IN urbs, oldest first, with the responder's answers.
  void completeBulkInLocked() {
    for (auto& u : urbs) {
      if (u.ready || bulkIn.empty()) continue;
      auto* urb = reinterpret_cast<usbdevfs_urb*>(u.urb->data);
      if (urb->type != USBDEVFS_URB_TYPE_BULK || !(urb->endpoint & 0x80)) continue;
      int n = std::min<int>(static_cast<int>(bulkIn.size()), urb->buffer_length);
      std::memcpy(u.buffer->data, bulkIn.data(), static_cast<size_t>(n));
      bulkIn.erase(0, static_cast<size_t>(n));
      u.ready = true;
      u.status = 0;
      u.actualLength = n;
    }
  }

  // Unplugged: what was in flight ends as the kernel ends it.
  void goneLocked() {
    gone = true;
    for (auto& u : urbs) {
      if (u.ready) continue;
      u.ready = true;
      u.status = -ESHUTDOWN;
      u.actualLength = 0;
    }
  }

  // Completes the oldest interrupt IN urb with a queued report, if any.
  void completeInputLocked() {
    for (auto& u : urbs) {
      if (u.ready || inputReports.empty()) continue;
      auto* urb = reinterpret_cast<usbdevfs_urb*>(u.urb->data);
      if (urb->type != USBDEVFS_URB_TYPE_INTERRUPT || !(urb->endpoint & 0x80)) continue;
      std::vector<uint8_t> report = std::move(inputReports.front());
      inputReports.pop_front();
      int n = std::min<int>(static_cast<int>(report.size()), urb->buffer_length);
      std::memcpy(u.buffer->data, report.data(), static_cast<size_t>(n));
      u.ready = true;
      u.status = 0;
      u.actualLength = n;
    }
  }
};

struct UmockdevTestbed::Impl {
  UMockdevTestbed* bed = nullptr;
  std::map<std::string, std::unique_ptr<SerialState>> serial;
  std::map<std::string, std::unique_ptr<EvdevState>> evdev;
  std::map<std::string, std::unique_ptr<UsbState>> usb;
  std::vector<UMockdevIoctlBase*> handlers;

  std::string root() const {
    gchar* r = umockdev_testbed_get_root_dir(bed);
    std::string s(r);
    g_free(r);
    return s;
  }

  void addFromString(const std::string& text) {
    GError* error = nullptr;
    if (!umockdev_testbed_add_from_string(bed, text.c_str(), &error)) {
      ADD_FAILURE() << "umockdev: " << (error ? error->message : "add_from_string failed");
      if (error) g_error_free(error);
    }
  }

  void attach(const std::string& node, GCallback callback, void* state) {
    UMockdevIoctlBase* handler = umockdev_ioctl_base_new();
    g_signal_connect(handler, "handle-ioctl", callback, state);
    GError* error = nullptr;
    if (!umockdev_testbed_attach_ioctl(bed, node.c_str(), handler, &error)) {
      ADD_FAILURE() << "umockdev: cannot attach ioctl handler to " << node << ": "
                    << (error ? error->message : "?");
      if (error) g_error_free(error);
    }
    handlers.push_back(handler);
  }

  void link(const std::string& linkPath, const std::string& target) {
    std::filesystem::path p = root() + linkPath;
    std::filesystem::create_directories(p.parent_path());
    std::error_code ec;
    std::filesystem::remove(p, ec);
    std::filesystem::create_symlink(target, p);
  }
};

namespace {

UMockdevIoctlData* resolveArg(UMockdevIoctlClient* client, size_t size) {
  GError* error = nullptr;
  UMockdevIoctlData* d = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0, size, &error);
  if (error) g_error_free(error);
  return d;
}

uint64_t argValue(UMockdevIoctlClient* client) {
  UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
  uint64_t v = 0;
  std::memcpy(&v, arg->data, std::min<size_t>(sizeof v, static_cast<size_t>(arg->data_len)));
  return v;
}

gboolean onSerialIoctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer user) {
  auto* st = static_cast<SerialState*>(user);
  gulong request = umockdev_ioctl_client_get_request(client);
  std::lock_guard lock(st->mutex);
  switch (request) {
    case TIOCMGET: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(int));
      if (!d) break;
      std::memcpy(d->data, &st->modemLines, sizeof(int));
      g_object_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case TIOCMBIS:
    case TIOCMBIC:
    case TIOCMSET: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(int));
      if (!d) break;
      int bits = 0;
      std::memcpy(&bits, d->data, sizeof bits);
      g_object_unref(d);
      if (request == TIOCMBIS) st->modemLines |= bits;
      else if (request == TIOCMBIC) st->modemLines &= ~bits;
      else st->modemLines = bits;
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    default: break;
  }
  // Everything else (termios, TIOCEXCL, ...) on the real pty.
  int err = 0;
  GError* error = nullptr;
  int r = umockdev_ioctl_client_execute(client, &err, &error);
  if (error) g_error_free(error);
  umockdev_ioctl_client_complete(client, r, err);
  return TRUE;
}

gboolean onEvdevIoctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer user) {
  auto* st = static_cast<EvdevState*>(user);
  gulong request = umockdev_ioctl_client_get_request(client);
  if (request == EVIOCGRAB) {
    std::lock_guard lock(st->mutex);
    bool want = argValue(client) != 0;

    if (want && st->grabbed) {
      umockdev_ioctl_client_complete(client, -1, EBUSY);
      return TRUE;
    }
    st->grabbed = want;
    umockdev_ioctl_client_complete(client, 0, 0);
    return TRUE;
  }
  umockdev_ioctl_client_complete(client, -1, ENOTTY);
  return TRUE;
}

gboolean onUsbIoctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer user) {
  auto* st = static_cast<UsbState*>(user);
  gulong request = umockdev_ioctl_client_get_request(client);
  std::lock_guard lock(st->mutex);
  if (st->gone && request != USBDEVFS_REAPURB && request != USBDEVFS_REAPURBNDELAY &&
      request != USBDEVFS_DISCARDURB) {
    umockdev_ioctl_client_complete(client, -1, ENODEV);
    return TRUE;
  }
  switch (request) {
    case USBDEVFS_GET_CAPABILITIES: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(uint32_t));
      uint32_t caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                      USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
      std::memcpy(d->data, &caps, sizeof caps);
      g_object_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_GETDRIVER: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(usbdevfs_getdriver));
      auto* gd = reinterpret_cast<usbdevfs_getdriver*>(d->data);
      if (!st->driverBound) {
        g_object_unref(d);
        umockdev_ioctl_client_complete(client, -1, ENODATA);
        return TRUE;
      }
      std::snprintf(gd->driver, sizeof gd->driver, "%s", st->driverName.c_str());
      g_object_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_IOCTL: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(usbdevfs_ioctl));
      auto* io = reinterpret_cast<usbdevfs_ioctl*>(d->data);
      int code = io->ioctl_code;
      g_object_unref(d);
      if (code == static_cast<int>(USBDEVFS_DISCONNECT)) {
        if (!st->driverBound) {
          umockdev_ioctl_client_complete(client, -1, ENODATA);
          return TRUE;
        }
        st->driverBound = false;
        ++st->stats.detachCount;
      } else if (code == static_cast<int>(USBDEVFS_CONNECT)) {
        st->driverBound = true;
        ++st->stats.attachCount;
      }
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_DISCONNECT_CLAIM:
      umockdev_ioctl_client_complete(client, -1, ENOTTY);  // makes libusb detach and claim step by step
      return TRUE;
    case USBDEVFS_CLAIMINTERFACE:
      ++st->stats.claimCount;
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    case USBDEVFS_RELEASEINTERFACE:
      ++st->stats.releaseCount;
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_SETCONFIGURATION:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESETEP:
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    case USBDEVFS_SUBMITURB: {
      UMockdevIoctlData* urbData = resolveArg(client, sizeof(usbdevfs_urb));
      auto* urb = reinterpret_cast<usbdevfs_urb*>(urbData->data);
      GError* error = nullptr;
      UMockdevIoctlData* buf = umockdev_ioctl_data_resolve(urbData, offsetof(usbdevfs_urb, buffer),
                                                           static_cast<gsize>(urb->buffer_length), &error);
      if (error) g_error_free(error);
      PendingUrb p{urbData, buf, false, 0, 0};
      if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
        int n = urb->buffer_length >= 8
                    ? st->control(buf->data, buf->data + 8, urb->buffer_length - 8)
                    : -1;
        p.ready = true;
        p.status = n < 0 ? -EPIPE : 0;
        p.actualLength = n < 0 ? 0 : n;
      } else if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && !(urb->endpoint & 0x80)) {
        st->stats.outReports.emplace_back(buf->data, buf->data + urb->buffer_length);
        p.ready = true;
        p.actualLength = urb->buffer_length;
      } else if (urb->type == USBDEVFS_URB_TYPE_BULK && !(urb->endpoint & 0x80)) {
        std::string bytes(reinterpret_cast<const char*>(buf->data), static_cast<size_t>(urb->buffer_length));
        st->stats.bulkOut += bytes;
        if (st->responder) st->bulkIn += st->responder(bytes);
        p.ready = true;
        p.actualLength = urb->buffer_length;
      }
      st->urbs.push_back(p);
      st->completeInputLocked();
      st->completeBulkInLocked();
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    case USBDEVFS_DISCARDURB: {
      uint64_t addr = argValue(client);
      for (auto& u : st->urbs) {
        if (u.urb->client_addr == addr && !u.ready) {
          u.ready = true;
          u.status = -ENOENT;
          u.actualLength = 0;
          umockdev_ioctl_client_complete(client, 0, 0);
          return TRUE;
        }
      }
      umockdev_ioctl_client_complete(client, -1, EINVAL);
      return TRUE;
    }
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY: {
      st->completeInputLocked();
      st->completeBulkInLocked();
      for (auto it = st->urbs.begin(); it != st->urbs.end(); ++it) {
        if (!it->ready) continue;
        auto* urb = reinterpret_cast<usbdevfs_urb*>(it->urb->data);
        urb->status = it->status;
        urb->actual_length = it->actualLength;
        UMockdevIoctlData* slot = resolveArg(client, sizeof(void*));
        umockdev_ioctl_data_set_ptr(slot, 0, it->urb);
        umockdev_ioctl_client_complete(client, 0, 0);
        g_object_unref(slot);
        g_object_unref(it->buffer);
        g_object_unref(it->urb);
        st->urbs.erase(it);
        return TRUE;
      }
      umockdev_ioctl_client_complete(client, -1, st->gone ? ENODEV : EAGAIN);
      return TRUE;
    }
    case USBDEVFS_CONNECTINFO: {
      UMockdevIoctlData* d = resolveArg(client, sizeof(usbdevfs_connectinfo));
      auto* ci = reinterpret_cast<usbdevfs_connectinfo*>(d->data);
      ci->devnum = static_cast<unsigned>(st->spec.deviceNumber);
      ci->slow = 0;
      g_object_unref(d);
      umockdev_ioctl_client_complete(client, 0, 0);
      return TRUE;
    }
    default: break;
  }
  umockdev_ioctl_client_complete(client, -1, ENOTTY);
  return TRUE;
}

}  // namespace

UmockdevTestbed::UmockdevTestbed() : impl_(std::make_unique<Impl>()) {
  if (!inMockEnvironment()) {
    ADD_FAILURE() << "this test needs the umockdev preload: run it under umockdev-wrapper (ctest does)";
  }
  impl_->bed = umockdev_testbed_new();
  // A real system always has /dev; code that watches it (hotplug) needs it
  // before the first device node appears.
  std::filesystem::create_directories(impl_->root() + "/dev");
}

UmockdevTestbed::~UmockdevTestbed() {
  for (auto* h : impl_->handlers) g_object_unref(h);
  impl_->handlers.clear();
  g_object_unref(impl_->bed);
}

bool UmockdevTestbed::inMockEnvironment() {
  // umockdev_in_mock_environment() only turns true once a testbed exists;
  // what matters here is whether the preload library is mapped.
  FILE* maps = std::fopen("/proc/self/maps", "r");
  if (!maps) return false;
  char line[1024];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, maps)) found = std::strstr(line, "libumockdev-preload") != nullptr;
  std::fclose(maps);
  return found;
}

std::string UmockdevTestbed::rootDir() const { return impl_->root(); }

UmockdevTestbed::SerialPort UmockdevTestbed::addSerialPort(const std::string& name, const std::string& byIdName) {
  SerialPort p;
  p.node = "/dev/" + name;
  p.byId = "/dev/serial/by-id/" + byIdName;
  p.sysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/" + name + "/tty/" + name;
  impl_->addFromString("P: " + p.sysPath.substr(4) + "\nN: " + name + "\nE: DEVNAME=/dev/" + name +
                       "\nE: SUBSYSTEM=tty\nE: ID_BUS=usb\nE: ID_VENDOR_ID=0403\nE: ID_MODEL_ID=6001\nA: dev=188:" +
                       std::to_string(impl_->serial.size()) + "\n");
  int master = umockdev_testbed_get_dev_fd(impl_->bed, p.node.c_str());
  if (master < 0) ADD_FAILURE() << "umockdev created no pty for " << p.node;
  else makeRaw(master);
  auto st = std::make_unique<SerialState>();
  impl_->attach(p.node, G_CALLBACK(onSerialIoctl), st.get());
  impl_->serial[p.node] = std::move(st);
  impl_->link(p.byId, "../../" + name);
  return p;
}

void UmockdevTestbed::sendFromDevice(const SerialPort& port, std::string_view bytes) {
  int master = umockdev_testbed_get_dev_fd(impl_->bed, port.node.c_str());
  ASSERT_GE(master, 0) << port.node << " has no pty";
  writeAll(master, bytes.data(), bytes.size());
}

std::string UmockdevTestbed::receiveFromHost(const SerialPort& port, std::chrono::milliseconds timeout) {
  int master = umockdev_testbed_get_dev_fd(impl_->bed, port.node.c_str());
  std::string out;
  if (master < 0) return out;
  pollfd pfd{master, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return out;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let a whole command arrive
  int flags = fcntl(master, F_GETFL);
  fcntl(master, F_SETFL, flags | O_NONBLOCK);
  char buf[512];
  for (;;) {
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  fcntl(master, F_SETFL, flags);
  return out;
}

void UmockdevTestbed::unplug(const SerialPort& port) {
  std::error_code ec;
  std::filesystem::remove(impl_->root() + port.byId, ec);
  umockdev_testbed_remove_device(impl_->bed, port.sysPath.c_str());
}

UmockdevTestbed::EvdevDevice UmockdevTestbed::addEvdevKeyboard(const std::string& name, const std::string& byIdName) {
  EvdevDevice d;
  d.node = "/dev/input/" + name;
  d.byId = "/dev/input/by-id/" + byIdName;
  d.sysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/0003:0C2E:0B61.0001/input/input" +
              std::to_string(20 + impl_->evdev.size()) + "/" + name;
  impl_->addFromString("P: " + d.sysPath.substr(4) + "\nN: input/" + name + "\nE: DEVNAME=/dev/input/" + name +
                       "\nE: SUBSYSTEM=input\nE: ID_INPUT=1\nE: ID_INPUT_KEY=1\nE: ID_INPUT_KEYBOARD=1\nA: dev=13:" +
                       std::to_string(64 + impl_->evdev.size()) + "\n");
  int master = umockdev_testbed_get_dev_fd(impl_->bed, d.node.c_str());
  if (master < 0) ADD_FAILURE() << "umockdev created no stream node for " << d.node;
  else makeRaw(master);
  auto st = std::make_unique<EvdevState>();
  impl_->attach(d.node, G_CALLBACK(onEvdevIoctl), st.get());
  impl_->evdev[d.node] = std::move(st);
  impl_->link(d.byId, "../" + name);
  return d;
}

void UmockdevTestbed::sendKey(const EvdevDevice& dev, uint16_t code, int32_t value) {
  int master = umockdev_testbed_get_dev_fd(impl_->bed, dev.node.c_str());
  ASSERT_GE(master, 0);
  input_event ev[2]{};
  ev[0].type = EV_KEY;
  ev[0].code = code;
  ev[0].value = value;
  ev[1].type = EV_SYN;
  ev[1].code = SYN_REPORT;
  writeAll(master, ev, sizeof ev);
}

void UmockdevTestbed::tapKey(const EvdevDevice& dev, uint16_t code, std::vector<uint16_t> modifiers) {
  for (uint16_t m : modifiers) sendKey(dev, m, 1);
  sendKey(dev, code, 1);
  sendKey(dev, code, 0);
  for (auto it = modifiers.rbegin(); it != modifiers.rend(); ++it) sendKey(dev, *it, 0);
}

bool UmockdevTestbed::grabbed(const EvdevDevice& dev) const {
  auto it = impl_->evdev.find(dev.node);
  if (it == impl_->evdev.end()) return false;
  std::lock_guard lock(it->second->mutex);
  return it->second->grabbed;
}

void UmockdevTestbed::unplug(const EvdevDevice& dev) {
  std::error_code ec;
  std::filesystem::remove(impl_->root() + dev.byId, ec);
  umockdev_testbed_remove_device(impl_->bed, dev.sysPath.c_str());
}

UmockdevTestbed::UsbHidDevice UmockdevTestbed::addUsbHidDevice(const UsbHidSpec& specIn) {
  UsbHidSpec spec = specIn;
  if (spec.reportDescriptor.empty()) spec.reportDescriptor = kHidPosScannerReportDescriptor;
  auto lo = [](unsigned v) { return static_cast<uint8_t>(v & 0xFF); };
  auto hi = [](unsigned v) { return static_cast<uint8_t>((v >> 8) & 0xFF); };
  unsigned rdLen = static_cast<unsigned>(spec.reportDescriptor.size());
  std::vector<uint8_t> desc = {
      18, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 64, lo(spec.vendorId), hi(spec.vendorId), lo(spec.productId),
      hi(spec.productId), 0x00, 0x01, 1, 2, 3, 1,
      // configuration: 1 interface, HID, interrupt IN 0x81 and OUT 0x02
      9, 0x02, 41, 0, 1, 1, 0, 0x80, 50,
      9, 0x04, 0, 0, 2, 0x03, 0x00, 0x00, 0,
      9, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, lo(rdLen), hi(rdLen),
      7, 0x05, 0x81, 0x03, 64, 0, 1,
      7, 0x05, 0x02, 0x03, 64, 0, 1,
  };
  char busDev[32];
  std::snprintf(busDev, sizeof busDev, "%03d/%03d", spec.busNumber, spec.deviceNumber);
  UsbHidDevice d;
  d.node = std::string("/dev/bus/usb/") + busDev;
  std::string sysName = std::to_string(spec.busNumber) + "-" + std::to_string(spec.deviceNumber);
  d.sysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb" + std::to_string(spec.busNumber) + "/" + sysName;
  char ids[64];
  std::snprintf(ids, sizeof ids, "%04x:%04x", spec.vendorId, spec.productId);
  std::string vid(ids, 4), pid(ids + 5, 4);
  char num[16];
  std::snprintf(num, sizeof num, "%03d", spec.busNumber);
  std::string busnum = num;
  std::snprintf(num, sizeof num, "%03d", spec.deviceNumber);
  std::string devnum = num;
  impl_->addFromString("P: " + d.sysPath.substr(4) + "\nN: bus/usb/" + busDev + "=" + hex(desc) +
                       "\nE: DEVNAME=/dev/bus/usb/" + busDev + "\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n" +
                       "E: PRODUCT=" + vid + "/" + pid + "/100\nE: TYPE=0/0/0\nE: BUSNUM=" + busnum +
                       "\nE: DEVNUM=" + devnum + "\nE: SUBSYSTEM=usb\nE: ID_VENDOR_ID=" + vid + "\nE: ID_MODEL_ID=" +
                       pid + "\nE: ID_SERIAL_SHORT=" + spec.serial + "\nA: busnum=" +
                       std::to_string(spec.busNumber) + "\nA: devnum=" + std::to_string(spec.deviceNumber) +
                       "\nA: speed=12\nA: bConfigurationValue=1\nA: bNumConfigurations=1\nA: bNumInterfaces= 1\n"
                       "A: idVendor=" + vid + "\nA: idProduct=" + pid + "\nA: serial=" + spec.serial +
                       "\nA: product=" + spec.product + "\nA: manufacturer=" + spec.manufacturer +
                       "\nA: dev=189:" + std::to_string((spec.busNumber - 1) * 128 + spec.deviceNumber - 1) +
                       "\nH: descriptors=" + hex(desc) + "\n");
  auto st = std::make_unique<UsbState>();
  st->spec = spec;
  st->descriptors = desc;
  st->driverBound = spec.kernelDriverBound;
  impl_->attach(d.node, G_CALLBACK(onUsbIoctl), st.get());
  impl_->usb[d.node] = std::move(st);
  return d;
}

UmockdevTestbed::UsbHidDevice UmockdevTestbed::addUsbPrinter(const UsbPrinterSpec& spec, BulkResponder responder) {
  auto lo = [](unsigned v) { return static_cast<uint8_t>(v & 0xFF); };
  auto hi = [](unsigned v) { return static_cast<uint8_t>((v >> 8) & 0xFF); };
  bool bidirectional = spec.interfaceProtocol >= 2;
  uint8_t endpoints = bidirectional ? 2 : 1;
  uint8_t total = static_cast<uint8_t>(9 + 9 + 7 * endpoints);
  std::vector<uint8_t> desc = {
      18, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 64, lo(spec.vendorId), hi(spec.vendorId), lo(spec.productId),
      hi(spec.productId), 0x00, 0x01, 1, 2, 3, 1,
      // configuration: 1 interface, printer class 7 subclass 1, bulk OUT 0x01 (and bulk IN 0x82)
      9, 0x02, total, 0, 1, 1, 0, 0xC0, 1,
      9, 0x04, 0, 0, endpoints, 0x07, 0x01, static_cast<uint8_t>(spec.interfaceProtocol), 0,
      7, 0x05, 0x01, 0x02, 64, 0, 0,
  };
  if (bidirectional) desc.insert(desc.end(), {7, 0x05, 0x82, 0x02, 64, 0, 0});
  char busDev[32];
  std::snprintf(busDev, sizeof busDev, "%03d/%03d", spec.busNumber, spec.deviceNumber);
  UsbHidDevice d;
  d.node = std::string("/dev/bus/usb/") + busDev;
  std::string sysName = std::to_string(spec.busNumber) + "-" + std::to_string(spec.deviceNumber);
  d.sysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb" + std::to_string(spec.busNumber) + "/" + sysName;
  char ids[64];
  std::snprintf(ids, sizeof ids, "%04x:%04x", spec.vendorId, spec.productId);
  std::string vid(ids, 4), pid(ids + 5, 4);
  char num[16];
  std::snprintf(num, sizeof num, "%03d", spec.busNumber);
  std::string busnum = num;
  std::snprintf(num, sizeof num, "%03d", spec.deviceNumber);
  std::string devnum = num;
  impl_->addFromString("P: " + d.sysPath.substr(4) + "\nN: bus/usb/" + busDev + "=" + hex(desc) +
                       "\nE: DEVNAME=/dev/bus/usb/" + busDev + "\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n" +
                       "E: PRODUCT=" + vid + "/" + pid + "/100\nE: TYPE=0/0/0\nE: BUSNUM=" + busnum +
                       "\nE: DEVNUM=" + devnum + "\nE: SUBSYSTEM=usb\nE: ID_VENDOR_ID=" + vid + "\nE: ID_MODEL_ID=" +
                       pid + "\nE: ID_SERIAL_SHORT=" + spec.serial + "\nA: busnum=" +
                       std::to_string(spec.busNumber) + "\nA: devnum=" + std::to_string(spec.deviceNumber) +
                       "\nA: speed=12\nA: bConfigurationValue=1\nA: bNumConfigurations=1\nA: bNumInterfaces= 1\n"
                       "A: idVendor=" + vid + "\nA: idProduct=" + pid + "\nA: serial=" + spec.serial +
                       "\nA: product=" + spec.product + "\nA: manufacturer=" + spec.manufacturer +
                       "\nA: dev=189:" + std::to_string((spec.busNumber - 1) * 128 + spec.deviceNumber - 1) +
                       "\nH: descriptors=" + hex(desc) + "\n");
  auto st = std::make_unique<UsbState>();
  st->spec.vendorId = spec.vendorId;
  st->spec.productId = spec.productId;
  st->spec.manufacturer = spec.manufacturer;
  st->spec.product = spec.product;
  st->spec.serial = spec.serial;
  st->spec.reportDescriptor.clear();
  st->spec.busNumber = spec.busNumber;
  st->spec.deviceNumber = spec.deviceNumber;
  st->descriptors = desc;
  st->driverBound = spec.kernelDriverBound;
  st->driverName = "usblp";
  st->printer = true;
  st->responder = std::move(responder);
  impl_->attach(d.node, G_CALLBACK(onUsbIoctl), st.get());
  impl_->usb[d.node] = std::move(st);
  return d;
}

void UmockdevTestbed::queueInputReport(const UsbHidDevice& dev, std::vector<uint8_t> report) {
  auto it = impl_->usb.find(dev.node);
  ASSERT_NE(it, impl_->usb.end());
  std::lock_guard lock(it->second->mutex);
  it->second->inputReports.push_back(std::move(report));
  it->second->completeInputLocked();
}

UmockdevTestbed::UsbStats UmockdevTestbed::usbStats(const UsbHidDevice& dev) const {
  auto it = impl_->usb.find(dev.node);
  if (it == impl_->usb.end()) return {};
  std::lock_guard lock(it->second->mutex);
  return it->second->stats;
}

void UmockdevTestbed::unplug(const UsbHidDevice& dev) {
  if (auto it = impl_->usb.find(dev.node); it != impl_->usb.end() && it->second->printer) {
    std::lock_guard lock(it->second->mutex);
    it->second->goneLocked();
  }
  umockdev_testbed_remove_device(impl_->bed, dev.sysPath.c_str());
  std::error_code ec;
  std::filesystem::remove(impl_->root() + dev.node, ec);
}

std::vector<std::vector<uint8_t>> hidPosScannerReports(std::string_view aimId, std::string_view data,
                                                       size_t reportSize) {
  std::vector<std::vector<uint8_t>> out;
  size_t chunk = reportSize - 6;
  size_t pos = 0;
  do {
    std::vector<uint8_t> r(reportSize, 0);
    r[0] = 0x02;
    size_t n = std::min(chunk, data.size() - pos);
    r[1] = static_cast<uint8_t>(n);
    for (size_t i = 0; i < 3 && i < aimId.size(); ++i) r[2 + i] = static_cast<uint8_t>(aimId[i]);
    std::memcpy(r.data() + 5, data.data() + pos, n);
    pos += n;
    r.back() = pos < data.size() ? 0x01 : 0x00;
    out.push_back(std::move(r));
  } while (pos < data.size());
  return out;
}

}  // namespace floorlink::test
