// USB printer class (07) through libusb: bulk OUT for labels, bulk IN for
// ~HS replies where the printer offers it (bidirectional protocol). libusb
// calls block, so a worker thread does them and only posts to the loop. The
// worker owns the device (a UsbPrinter shared with the transport) and
// releases it when it ends: close() only tells it to stop and never waits
// for a transfer.
#include <libusb.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/loop_bound.h"
#include "io/transport_impl.h"

namespace floorlink::io::detail {
namespace {

// Short transfers so a stopped worker notices within one of them; a timeout
// is not an error (the rest is sent in the next round).
constexpr unsigned kOutTimeoutMs = 250;
constexpr unsigned kInTimeoutMs = 100;
constexpr size_t kChunk = 16384;

struct UsbPrinter {
  LoopPoster poster;  // to the transport, while it lives and is open
  libusb_context* ctx = nullptr;
  libusb_device_handle* handle = nullptr;
  std::string name;  // describe(), for messages from the worker
  std::string node;  // /dev/bus/usb/BBB/DDD of the open printer
  int interface = 0;
  uint8_t outEndpoint = 0, inEndpoint = 0;
  std::mutex mutex;
  std::condition_variable cv;
  bool running = true;  // guarded by mutex
  std::string out;      // guarded by mutex

  ~UsbPrinter() {
    if (handle) {
      libusb_release_interface(handle, interface);
      libusb_close(handle);
    }
    if (ctx) libusb_exit(ctx);
  }
};

class UsbBulkTransport final : public Transport {
 public:
  UsbBulkTransport(EventLoop& loop, config::DeviceAddress address, Logger logger)
      : address_(std::move(address)), logger_(std::move(logger)), bound_(loop) {}
  ~UsbBulkTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    written_ = 0;
    auto dev = std::make_shared<UsbPrinter>();
    if (libusb_init(&dev->ctx) != 0) {
      dev->ctx = nullptr;
      return fail(ErrorCode::kIo, "libusb_init failed");
    }
    if (auto s = findAndClaim(*dev); !s) return s;
    readsBack_ = dev->inEndpoint != 0;
    handlers_ = std::move(handlers);
    dev->poster = bound_.poster();
    dev->name = describe();
    dev_ = dev;
    std::thread([self = this, dev] { work(*dev, self); }).detach();
    postConnected(bound_, handlers_);
    return ok();
  }

  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return dev_ != nullptr; }
  Status write(std::span<const uint8_t> bytes) override {
    bound_.assertLoopThread();
    if (!dev_) return fail(ErrorCode::kDisconnected, describe() + " is not open");
    {
      std::lock_guard lock(dev_->mutex);
      dev_->out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    dev_->cv.notify_all();
    return ok();
  }
  uint64_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return readsBack_; }
  std::string describe() const override { return address_.text.empty() ? "usb" : address_.text; }
  std::string node() const override { return dev_ ? dev_->node : std::string(); }

 private:
  Status findAndClaim(UsbPrinter& dev) {
    libusb_device** list = nullptr;
    ssize_t n = libusb_get_device_list(dev.ctx, &list);
    std::string wantSerial = address_.params.count("serial") ? address_.params.at("serial") : "";
    libusb_device* found = nullptr;
    for (ssize_t i = 0; i < n && !found; ++i) {
      libusb_device_descriptor d{};
      if (libusb_get_device_descriptor(list[i], &d) != 0) continue;
      if (d.idVendor != address_.vendorId || d.idProduct != address_.productId) continue;
      if (!wantSerial.empty()) {
        libusb_device_handle* h = nullptr;
        if (libusb_open(list[i], &h) != 0) continue;
        unsigned char s[128] = {};
        int len = d.iSerialNumber ? libusb_get_string_descriptor_ascii(h, d.iSerialNumber, s, sizeof s) : 0;
        libusb_close(h);
        if (len <= 0 || wantSerial != reinterpret_cast<char*>(s)) continue;
      }
      found = list[i];
    }
    Status result = ok();
    if (!found) {
      result = fail(ErrorCode::kNotFound, fmt::format("no USB printer {:04x}:{:04x}{} is plugged in; check the cable "
                                                      "and `lsusb`", address_.vendorId, address_.productId,
                                                      wantSerial.empty() ? "" : " serial " + wantSerial));
    } else {
      char node[64];
      std::snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(found),
                    libusb_get_device_address(found));
      dev.node = node;
      result = claim(dev, found);
    }
    libusb_free_device_list(list, 1);
    return result;
  }

  Status claim(UsbPrinter& dev, libusb_device* device) {
    libusb_config_descriptor* cfg = nullptr;
    if (libusb_get_active_config_descriptor(device, &cfg) != 0)
      return fail(ErrorCode::kIo, "cannot read the USB printer's configuration");
    bool found = false;
    for (int i = 0; i < cfg->bNumInterfaces && !found; ++i) {
      const auto& itf = cfg->interface[i];
      for (int a = 0; a < itf.num_altsetting && !found; ++a) {
        const auto& alt = itf.altsetting[a];
        if (alt.bInterfaceClass != LIBUSB_CLASS_PRINTER) continue;
        uint8_t out = 0, in = 0;
        for (int e = 0; e < alt.bNumEndpoints; ++e) {
          const auto& ep = alt.endpoint[e];
          if ((ep.bmAttributes & 0x3) != LIBUSB_TRANSFER_TYPE_BULK) continue;
          if (ep.bEndpointAddress & LIBUSB_ENDPOINT_IN) in = ep.bEndpointAddress;
          else out = ep.bEndpointAddress;
        }
        if (!out) continue;
        dev.interface = alt.bInterfaceNumber;
        dev.outEndpoint = out;
        // Only the bidirectional protocol (2) answers on bulk IN.
        dev.inEndpoint = (alt.bInterfaceProtocol >= 2 && address_.params.count("status") == 0) ? in : 0;
        found = true;
      }
    }
    libusb_free_config_descriptor(cfg);
    if (!found) return fail(ErrorCode::kUnsupported, "the USB device has no printer-class interface with bulk OUT");
    libusb_device_handle* handle = nullptr;
    int rc = libusb_open(device, &handle);
    if (rc != 0)
      return fail(rc == LIBUSB_ERROR_ACCESS ? ErrorCode::kPermission : ErrorCode::kIo,
                  fmt::format("cannot open USB printer: {}; install the floorlink udev rule", libusb_strerror(rc)));
    libusb_set_auto_detach_kernel_driver(handle, 1);
    rc = libusb_claim_interface(handle, dev.interface);
    if (rc != 0) {
      libusb_close(handle);
      return fail(ErrorCode::kBusy, fmt::format("cannot claim the USB printer interface: {} (is CUPS using it?)",
                                                libusb_strerror(rc)));
    }
    dev.handle = handle;
    return ok();
  }

  // Worker thread: touches only `dev`; `self` only inside posted callbacks,
  // which run only while the transport lives and is open.
  static void work(UsbPrinter& dev, UsbBulkTransport* self) {
    while (true) {
      std::string chunk;
      {
        std::unique_lock lock(dev.mutex);
        dev.cv.wait_for(lock, std::chrono::milliseconds(dev.inEndpoint ? 0 : 100),
                        [&] { return !dev.running || !dev.out.empty(); });
        if (!dev.running) return;
        chunk = dev.out.substr(0, kChunk);
      }
      // Without a transfer in flight nothing else would notice an unplug
      // (status=none, unidirectional printers): the kernel removes the node.
      if (struct stat st{}; chunk.empty() && ::stat(dev.node.c_str(), &st) != 0 && errno == ENOENT)
        return lost(dev, self, LIBUSB_ERROR_NO_DEVICE);
      if (!chunk.empty()) {
        int sent = 0;
        int rc = libusb_bulk_transfer(dev.handle, dev.outEndpoint, reinterpret_cast<unsigned char*>(chunk.data()),
                                      static_cast<int>(chunk.size()), &sent, kOutTimeoutMs);
        if (sent > 0) {
          bool empty = false;
          {
            std::lock_guard lock(dev.mutex);
            dev.out.erase(0, static_cast<size_t>(sent));
            empty = dev.out.empty();
          }
          dev.poster.post([self, sent, empty] {
            self->written_ += static_cast<uint64_t>(sent);
            if (empty && self->handlers_.onFlushed) self->handlers_.onFlushed();
          });
        }
        if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) return lost(dev, self, rc);
      }
      if (dev.inEndpoint) {
        unsigned char buf[512];
        int got = 0;
        int rc = libusb_bulk_transfer(dev.handle, dev.inEndpoint, buf, sizeof buf, &got, kInTimeoutMs);
        if (got > 0) {
          std::vector<uint8_t> data(buf, buf + got);
          dev.poster.post([self, data = std::move(data)] {
            if (self->handlers_.onData) self->handlers_.onData(data);
          });
        }
        if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) return lost(dev, self, rc);
      }
    }
  }

  static void lost(UsbPrinter& dev, UsbBulkTransport* self, int rc) {
    std::string why = fmt::format("{}: {}", dev.name,
                                  rc == LIBUSB_ERROR_NO_DEVICE ? "unplugged" : libusb_strerror(rc));
    dev.poster.post([self, why] {
      auto onClosed = self->handlers_.onClosed;
      self->closeQuietly();
      self->logger_.info(deviceFields(self->address_.text), "usb printer closed: {}", why);
      if (onClosed) onClosed(Error{ErrorCode::kDisconnected, why});
    });
  }

  void closeQuietly() {
    bound_.invalidate();
    if (!dev_) return;
    {
      std::lock_guard lock(dev_->mutex);
      dev_->running = false;
      dev_->out.clear();
    }
    dev_->cv.notify_all();
    dev_.reset();  // the worker holds the last share and releases the printer
  }

  config::DeviceAddress address_;
  Logger logger_;
  Handlers handlers_;
  std::shared_ptr<UsbPrinter> dev_;
  bool readsBack_ = false;
  uint64_t written_ = 0;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createUsbBulkTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                         Logger logger) {
  if (address.vendorId == 0) return fail(ErrorCode::kInvalidArgument, "usb printer address needs vendor:product");
  if (auto s = checkKnownParams(address, "usb printer", {"serial", "status"}); !s) return std::unexpected(s.error());
  return std::make_unique<UsbBulkTransport>(loop, address, std::move(logger));
}

}  // namespace floorlink::io::detail
