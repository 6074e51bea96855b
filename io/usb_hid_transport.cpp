// USB HID devices (HID POS scanners, usage page 0x8C; HID POS scales, 0x8D)
// through libusb. A libusb event thread completes transfers and only posts
// the reports to the event loop; all other state lives on the loop thread.
// The device (context, handle, transfers) belongs to a UsbDevice shared with the
// event thread, so close() hands it over instead of waiting for transfers:
// the thread releases it once its transfers are done.
#include <libusb.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "core/loop_bound.h"
#include "io/transport_impl.h"

namespace floorlink::io::detail {
namespace {

std::string usbError(int rc) { return libusb_strerror(static_cast<libusb_error>(rc)); }

std::string hex4(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

// First Usage Page item of a HID report descriptor (0 when there is none).
uint16_t firstUsagePage(const uint8_t* d, int len) {
  int i = 0;
  while (i < len) {
    uint8_t prefix = d[i];
    if (prefix == 0xFE) {  // long item
      if (i + 2 >= len) break;
      i += 3 + d[i + 1];
      continue;
    }
    int size = prefix & 0x03;
    if (size == 3) size = 4;
    if (i + 1 + size > len) break;
    if ((prefix & 0xFC) == 0x04) {  // global item: Usage Page
      uint32_t v = 0;
      for (int b = 0; b < size; ++b) v |= static_cast<uint32_t>(d[i + 1 + b]) << (8 * b);
      return static_cast<uint16_t>(v);
    }
    i += 1 + size;
  }
  return 0;
}

class UsbHidTransport;

// What the event thread may touch. It outlives the transport when close()
// comes while transfers are in flight; the last owner releases the device.
struct UsbDevice {
  LoopPoster poster;  // to the transport, while it lives and is open
  UsbHidTransport* owner = nullptr;  // dereferenced only in callbacks posted through `poster`
  libusb_context* ctx = nullptr;
  libusb_device_handle* handle = nullptr;
  int interface = -1;
  bool claimed = false;
  bool detached = false;
  libusb_transfer* inTransfer = nullptr;
  std::vector<uint8_t> inBuf;
  std::atomic<bool> closing{false};
  std::atomic<bool> inFlight{false};
  std::atomic<int> writes{0};  // output transfers not completed yet

  ~UsbDevice() {
    if (inTransfer && !inFlight.load()) libusb_free_transfer(inTransfer);
    releaseHandle();
    if (ctx) libusb_exit(ctx);
  }
  void releaseHandle() {
    if (!handle) return;
    if (claimed) libusb_release_interface(handle, interface);
    if (detached) libusb_attach_kernel_driver(handle, interface);
    claimed = detached = false;
    libusb_close(handle);
    handle = nullptr;
  }
  bool idle() const { return !inFlight.load() && writes.load() == 0; }
};

class UsbHidTransport final : public Transport {
 public:
  UsbHidTransport(EventLoop& loop, config::DeviceAddress address, int interfaceNumber, int usagePage, Logger logger)
      : address_(std::move(address)), wantInterface_(interfaceNumber), usagePage_(usagePage),
        logger_(std::move(logger)), bound_(loop) {
    if (auto it = address_.params.find("serial"); it != address_.params.end()) serial_ = it->second;
  }
  ~UsbHidTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    bound_.assertLoopThread();
    closeQuietly();
    dev_ = std::make_shared<UsbDevice>();
    if (int rc = libusb_init(&dev_->ctx); rc != 0) {
      dev_->ctx = nullptr;
      dev_.reset();
      return fail(ErrorCode::kIo, "cannot start libusb: " + usbError(rc));
    }
    if (auto s = findAndClaim(); !s) {
      closeQuietly();
      return s;
    }
    handlers_ = std::move(handlers);
    written_ = 0;
    dev_->poster = bound_.poster();
    dev_->owner = this;
    dev_->inTransfer = libusb_alloc_transfer(0);
    dev_->inBuf.assign(inPacketSize_ > 0 ? inPacketSize_ : 64, 0);
    libusb_fill_interrupt_transfer(dev_->inTransfer, dev_->handle, inEndpoint_, dev_->inBuf.data(),
                                   static_cast<int>(dev_->inBuf.size()), &UsbHidTransport::onTransfer, dev_.get(), 0);
    dev_->inFlight = true;
    if (int rc = libusb_submit_transfer(dev_->inTransfer); rc != 0) {
      dev_->inFlight = false;
      closeQuietly();
      return fail(ErrorCode::kIo, "cannot read " + name() + ": " + usbError(rc));
    }
    // Runs until the device is closed and idle, then drops its share: a
    // close() never waits for a transfer.
    std::thread([dev = dev_] {
      while (!(dev->closing.load() && dev->idle())) {
        timeval tv{0, 100000};
        libusb_handle_events_timeout_completed(dev->ctx, &tv, nullptr);
      }
    }).detach();
    postConnected(bound_, handlers_);
    return ok();
  }

  void close() override {
    bound_.assertLoopThread();
    closeQuietly();
  }
  bool isOpen() const override { return dev_ != nullptr && dev_->handle != nullptr; }

  // One HID output report (report id first when the device uses them).
  Status write(std::span<const uint8_t> bytes) override {
    bound_.assertLoopThread();
    if (!isOpen()) return fail(ErrorCode::kDisconnected, name() + " is not open");
    if (bytes.empty()) return ok();
    libusb_transfer* t = libusb_alloc_transfer(0);
    if (!t) return fail(ErrorCode::kIo, "cannot write to " + name() + ": out of memory");
    if (outEndpoint_ != 0) {
      auto* buf = static_cast<uint8_t*>(std::malloc(bytes.size()));  // freed by libusb (FREE_BUFFER)
      std::copy(bytes.begin(), bytes.end(), buf);
      libusb_fill_interrupt_transfer(t, dev_->handle, outEndpoint_, buf, static_cast<int>(bytes.size()),
                                     &UsbHidTransport::onWriteDone, dev_.get(), 1000);
    } else {
      // SET_REPORT(Output) on the control endpoint.
      auto* buf = static_cast<uint8_t*>(std::malloc(LIBUSB_CONTROL_SETUP_SIZE + bytes.size()));
      libusb_fill_control_setup(buf, static_cast<uint8_t>(0x00 | 0x20 | 0x01) /* out, class, interface */, 0x09,
                                static_cast<uint16_t>((2 << 8) | bytes[0]), static_cast<uint16_t>(dev_->interface),
                                static_cast<uint16_t>(bytes.size()));
      std::copy(bytes.begin(), bytes.end(), buf + LIBUSB_CONTROL_SETUP_SIZE);
      libusb_fill_control_transfer(t, dev_->handle, buf, &UsbHidTransport::onWriteDone, dev_.get(), 1000);
    }
    t->flags = LIBUSB_TRANSFER_FREE_BUFFER | LIBUSB_TRANSFER_FREE_TRANSFER;
    ++dev_->writes;
    if (int rc = libusb_submit_transfer(t); rc != 0) {
      --dev_->writes;
      libusb_free_transfer(t);
      return fail(ErrorCode::kIo, "cannot write to " + name() + ": " + usbError(rc));
    }
    written_ += bytes.size();
    return ok();
  }

  uint64_t bytesWritten() const override { return written_; }
  std::string node() const override { return isOpen() ? node_ : std::string(); }

  std::string describe() const override {
    std::string d = "usb://" + hex4(address_.vendorId) + ":" + hex4(address_.productId);
    if (!serial_.empty()) d += " serial " + serial_;
    if (!product_.empty()) d += " (" + product_ + ")";
    return d;
  }

 private:
  std::string name() const { return "usb://" + hex4(address_.vendorId) + ":" + hex4(address_.productId); }

  Status findAndClaim() {
    libusb_device** list = nullptr;
    ssize_t count = libusb_get_device_list(dev_->ctx, &list);
    if (count < 0) return fail(ErrorCode::kIo, "cannot list USB devices: " + usbError(static_cast<int>(count)));
    Status result = fail(ErrorCode::kNotFound, "no USB device " + hex4(address_.vendorId) + ":" +
                                                   hex4(address_.productId) +
                                                   (serial_.empty() ? "" : " with serial " + serial_) +
                                                   " is connected (check the cable; lsusb lists what is present)");
    for (ssize_t i = 0; i < count; ++i) {
      libusb_device_descriptor dd{};
      if (libusb_get_device_descriptor(list[i], &dd) != 0) continue;
      if (dd.idVendor != address_.vendorId || dd.idProduct != address_.productId) continue;
      libusb_device_handle* h = nullptr;
      if (int rc = libusb_open(list[i], &h); rc != 0) {
        result = fail(rc == LIBUSB_ERROR_ACCESS ? ErrorCode::kPermission : ErrorCode::kIo,
                      "cannot open " + name() + ": " + usbError(rc) +
                          (rc == LIBUSB_ERROR_ACCESS ? " (install the udev rule from docs/devices.md)" : ""));
        continue;
      }
      char text[256];
      std::string serial;
      if (dd.iSerialNumber &&
          libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, reinterpret_cast<unsigned char*>(text), sizeof text) > 0) {
        serial = text;
      }
      if (!serial_.empty() && serial != serial_) {
        libusb_close(h);
        continue;
      }
      if (dd.iProduct &&
          libusb_get_string_descriptor_ascii(h, dd.iProduct, reinterpret_cast<unsigned char*>(text), sizeof text) > 0) {
        product_ = text;
      }
      dev_->handle = h;
      char node[48];
      std::snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(list[i]),
                    libusb_get_device_address(list[i]));
      node_ = node;  // only to notice an unplug; never part of the identity
      result = claim(list[i]);
      if (!result) {
        dev_->releaseHandle();
        continue;
      }
      break;
    }
    libusb_free_device_list(list, 1);
    return result;
  }

  Status claim(libusb_device* device) {
    libusb_config_descriptor* cfg = nullptr;
    if (int rc = libusb_get_active_config_descriptor(device, &cfg); rc != 0) {
      return fail(ErrorCode::kIo, "cannot read the configuration of " + name() + ": " + usbError(rc));
    }
    int found = -1;
    uint16_t reportLength = 0;
    for (int i = 0; i < cfg->bNumInterfaces && found < 0; ++i) {
      const libusb_interface& itf = cfg->interface[i];
      if (itf.num_altsetting < 1) continue;
      const libusb_interface_descriptor& alt = itf.altsetting[0];
      if (alt.bInterfaceClass != LIBUSB_CLASS_HID) continue;
      if (wantInterface_ >= 0 && alt.bInterfaceNumber != wantInterface_) continue;
      for (int e = 0; e < alt.bNumEndpoints; ++e) {
        const libusb_endpoint_descriptor& ep = alt.endpoint[e];
        if ((ep.bmAttributes & 0x03) != LIBUSB_TRANSFER_TYPE_INTERRUPT) continue;
        if (ep.bEndpointAddress & LIBUSB_ENDPOINT_IN) {
          inEndpoint_ = ep.bEndpointAddress;
          inPacketSize_ = ep.wMaxPacketSize;
        } else {
          outEndpoint_ = ep.bEndpointAddress;
        }
      }
      if (inEndpoint_ == 0) continue;
      found = alt.bInterfaceNumber;
      // HID descriptor (type 0x21) in the interface's extra bytes gives the
      // report descriptor length.
      for (int k = 0; k + 9 <= alt.extra_length;) {
        const uint8_t* x = alt.extra + k;
        if (x[0] >= 9 && x[1] == 0x21 && x[6] == 0x22) reportLength = static_cast<uint16_t>(x[7] | (x[8] << 8));
        if (x[0] == 0) break;
        k += x[0];
      }
    }
    libusb_free_config_descriptor(cfg);
    if (found < 0) {
      return fail(ErrorCode::kUnsupported,
                  name() + " has no HID interface with an interrupt IN endpoint" +
                      (wantInterface_ >= 0 ? " at interface " + std::to_string(wantInterface_) : std::string()) +
                      " (is it in HID POS mode? keyboard mode needs an evdev: address)");
    }
    dev_->interface = found;
    libusb_device_handle* handle = dev_->handle;
    int active = libusb_kernel_driver_active(handle, found);
    if (active == 1) {
      if (int rc = libusb_detach_kernel_driver(handle, found); rc != 0) {
        return fail(ErrorCode::kBusy, "cannot detach the kernel driver from " + name() + ": " + usbError(rc));
      }
      dev_->detached = true;
    }
    if (int rc = libusb_claim_interface(handle, found); rc != 0) {
      return fail(rc == LIBUSB_ERROR_BUSY ? ErrorCode::kBusy : ErrorCode::kIo,
                  "cannot claim interface " + std::to_string(found) + " of " + name() + ": " + usbError(rc));
    }
    dev_->claimed = true;
    if (usagePage_ >= 0) {
      std::vector<uint8_t> rd(reportLength ? reportLength : 1024);
      int n = libusb_control_transfer(handle, static_cast<uint8_t>(0x80 | 0x01) /* in, standard, interface */,
                                      LIBUSB_REQUEST_GET_DESCRIPTOR, 0x22 << 8, static_cast<uint16_t>(found),
                                      rd.data(), static_cast<uint16_t>(rd.size()), 1000);
      if (n < 0) {
        return fail(ErrorCode::kIo, "cannot read the HID report descriptor of " + name() + ": " + usbError(n));
      }
      uint16_t page = firstUsagePage(rd.data(), n);
      if (page != usagePage_) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s reports HID usage page 0x%02x, expected 0x%02x", name().c_str(), page,
                      usagePage_);
        return fail(ErrorCode::kUnsupported, std::string(buf) +
                                                 " (0x8c: HID POS scanner, 0x8d: HID POS scale; switch the device "
                                                 "to HID POS mode or fix usage_page=)");
      }
    }
    return ok();
  }

  // Event thread. A failed feedback write is not worth closing the device for;
  // a gone device shows up on the IN transfer.
  static void LIBUSB_CALL onWriteDone(libusb_transfer* t) { --static_cast<UsbDevice*>(t->user_data)->writes; }

  // Event thread.
  static void LIBUSB_CALL onTransfer(libusb_transfer* t) {
    UsbDevice& dev = *static_cast<UsbDevice*>(t->user_data);
    UsbHidTransport* self = dev.owner;
    if (t->status == LIBUSB_TRANSFER_COMPLETED) {
      std::vector<uint8_t> report(t->buffer, t->buffer + t->actual_length);
      dev.poster.post([self, report = std::move(report)] {
        if (self->handlers_.onData) self->handlers_.onData(report);
      });
      if (!dev.closing.load() && libusb_submit_transfer(t) == 0) return;
      dev.inFlight = false;
      if (dev.closing.load()) return;
      dev.poster.post([self] { self->closeWith(Error{ErrorCode::kDisconnected, self->name() + ": cannot resubmit read"}); });
      return;
    }
    dev.inFlight = false;
    if (t->status == LIBUSB_TRANSFER_CANCELLED) return;
    std::string why = t->status == LIBUSB_TRANSFER_NO_DEVICE ? "device unplugged"
                      : t->status == LIBUSB_TRANSFER_STALL   ? "endpoint stalled"
                      : t->status == LIBUSB_TRANSFER_OVERFLOW ? "report larger than the endpoint"
                                                              : "transfer failed";
    dev.poster.post([self, why] { self->closeWith(Error{ErrorCode::kDisconnected, self->name() + ": " + why}); });
  }

  void closeWith(const Error& why) {
    closeAndReport(handlers_, [this] { closeQuietly(); }, logger_, address_.text, "usb", why);
  }

  // Never waits: the event thread (if one runs) finishes the cancelled and
  // pending transfers and releases the device with the last UsbDevice share.
  void closeQuietly() {
    bound_.invalidate();
    if (dev_) {
      dev_->closing = true;
      if (dev_->inFlight.load()) libusb_cancel_transfer(dev_->inTransfer);
      if (dev_->ctx) libusb_interrupt_event_handler(dev_->ctx);
    }
    dev_.reset();
    inEndpoint_ = outEndpoint_ = 0;
  }

  config::DeviceAddress address_;
  int wantInterface_;
  int usagePage_;
  Logger logger_;
  std::string serial_;
  std::string product_;
  std::string node_;
  Handlers handlers_;
  std::shared_ptr<UsbDevice> dev_;
  uint8_t inEndpoint_ = 0, outEndpoint_ = 0;
  int inPacketSize_ = 0;
  uint64_t written_ = 0;
  LoopBound bound_;  // last: destroyed first
};

}  // namespace

Result<std::unique_ptr<Transport>> createUsbHidTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger) {
  auto itf = parseUnsignedParam(address, "interface", 0, 255, 1000);
  if (!itf) return std::unexpected(itf.error());
  auto page = parseUnsignedParam(address, "usage_page", 1, 0xFFFF, 0x10000);
  if (!page) return std::unexpected(page.error());
  if (auto s = checkKnownParams(address, "usb", {"serial", "interface", "usage_page"}); !s) {
    return std::unexpected(s.error());
  }
  return std::make_unique<UsbHidTransport>(loop, address, *itf == 1000 ? -1 : static_cast<int>(*itf),
                                           *page == 0x10000 ? -1 : static_cast<int>(*page), std::move(logger));
}

}  // namespace floorlink::io::detail
