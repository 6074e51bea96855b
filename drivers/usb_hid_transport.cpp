// USB HID devices (HID POS scanners, usage page 0x8C; HID POS scales, 0x8D)
// through libusb. A libusb event thread completes transfers and only posts
// the reports to the event loop; all other state lives on the loop thread.
#include <libusb.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "drivers/transport_impl.h"

namespace floorlink::drivers::detail {
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

class UsbHidTransport final : public Transport {
 public:
  UsbHidTransport(EventLoop& loop, config::DeviceAddress address, int interfaceNumber, int usagePage, Logger logger)
      : loop_(loop), address_(std::move(address)), wantInterface_(interfaceNumber), usagePage_(usagePage),
        logger_(std::move(logger)) {
    if (auto it = address_.params.find("serial"); it != address_.params.end()) serial_ = it->second;
  }
  ~UsbHidTransport() override { closeQuietly(); }

  Status open(Handlers handlers) override {
    closeQuietly();
    if (int rc = libusb_init(&ctx_); rc != 0) {
      ctx_ = nullptr;
      return fail(ErrorCode::kIo, "cannot start libusb: " + usbError(rc));
    }
    if (auto s = findAndClaim(); !s) {
      closeQuietly();
      return s;
    }
    handlers_ = std::move(handlers);
    alive_ = std::make_shared<int>(0);
    shared_ = std::make_shared<Shared>();
    shared_->loop = &loop_;
    shared_->token = alive_;
    shared_->self = this;
    inTransfer_ = libusb_alloc_transfer(0);
    inBuf_.assign(inPacketSize_ > 0 ? inPacketSize_ : 64, 0);
    libusb_fill_interrupt_transfer(inTransfer_, handle_, inEndpoint_, inBuf_.data(), static_cast<int>(inBuf_.size()),
                                   &UsbHidTransport::onTransfer, shared_.get(), 0);
    if (int rc = libusb_submit_transfer(inTransfer_); rc != 0) {
      libusb_free_transfer(inTransfer_);
      inTransfer_ = nullptr;
      closeQuietly();
      return fail(ErrorCode::kIo, "cannot read " + name() + ": " + usbError(rc));
    }
    inFlight_ = true;
    stopThread_ = false;
    thread_ = std::thread([this] {
      while (!stopThread_.load()) {
        timeval tv{0, 100000};
        libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
      }
    });
    if (handlers_.onConnected) {
      loop_.post([weak = std::weak_ptr<int>(alive_), this] {
        if (weak.lock() && handlers_.onConnected) handlers_.onConnected();
      });
    }
    return ok();
  }

  void close() override { closeQuietly(); }
  bool isOpen() const override { return handle_ != nullptr; }

  // One HID output report (report id first when the device uses them).
  Status write(std::span<const uint8_t> bytes) override {
    if (!handle_) return fail(ErrorCode::kDisconnected, name() + " is not open");
    if (bytes.empty()) return ok();
    libusb_transfer* t = libusb_alloc_transfer(0);
    if (!t) return fail(ErrorCode::kIo, "cannot write to " + name() + ": out of memory");
    if (outEndpoint_ != 0) {
      auto* buf = static_cast<uint8_t*>(std::malloc(bytes.size()));  // freed by libusb (FREE_BUFFER)
      std::copy(bytes.begin(), bytes.end(), buf);
      libusb_fill_interrupt_transfer(t, handle_, outEndpoint_, buf, static_cast<int>(bytes.size()),
                                     &UsbHidTransport::onWriteDone, shared_.get(), 1000);
    } else {
      // SET_REPORT(Output) on the control endpoint.
      auto* buf = static_cast<uint8_t*>(std::malloc(LIBUSB_CONTROL_SETUP_SIZE + bytes.size()));
      libusb_fill_control_setup(buf, static_cast<uint8_t>(0x00 | 0x20 | 0x01) /* out, class, interface */, 0x09,
                                static_cast<uint16_t>((2 << 8) | bytes[0]), static_cast<uint16_t>(interface_),
                                static_cast<uint16_t>(bytes.size()));
      std::copy(bytes.begin(), bytes.end(), buf + LIBUSB_CONTROL_SETUP_SIZE);
      libusb_fill_control_transfer(t, handle_, buf, &UsbHidTransport::onWriteDone, shared_.get(), 1000);
    }
    t->flags = LIBUSB_TRANSFER_FREE_BUFFER | LIBUSB_TRANSFER_FREE_TRANSFER;
    ++shared_->writes;
    if (int rc = libusb_submit_transfer(t); rc != 0) {
      --shared_->writes;
      libusb_free_transfer(t);
      return fail(ErrorCode::kIo, "cannot write to " + name() + ": " + usbError(rc));
    }
    return ok();
  }

  std::string node() const override { return handle_ ? node_ : std::string(); }

  std::string describe() const override {
    std::string d = "usb://" + hex4(address_.vendorId) + ":" + hex4(address_.productId);
    if (!serial_.empty()) d += " serial " + serial_;
    if (!product_.empty()) d += " (" + product_ + ")";
    return d;
  }

 private:
  // Lives as long as a transfer may call back; the event thread only reads it.
  struct Shared {
    EventLoop* loop = nullptr;
    std::weak_ptr<int> token;
    UsbHidTransport* self = nullptr;
    std::atomic<bool> closing{false};
    std::atomic<int> writes{0};  // output transfers not completed yet
  };

  std::string name() const { return "usb://" + hex4(address_.vendorId) + ":" + hex4(address_.productId); }

  Status findAndClaim() {
    libusb_device** list = nullptr;
    ssize_t count = libusb_get_device_list(ctx_, &list);
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
      handle_ = h;
      char node[48];
      std::snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(list[i]),
                    libusb_get_device_address(list[i]));
      node_ = node;  // only to notice an unplug; never part of the identity
      result = claim(list[i]);
      if (!result) {
        releaseHandle();
        continue;
      }
      break;
    }
    libusb_free_device_list(list, 1);
    return result;
  }

  Status claim(libusb_device* dev) {
    libusb_config_descriptor* cfg = nullptr;
    if (int rc = libusb_get_active_config_descriptor(dev, &cfg); rc != 0) {
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
    interface_ = found;
    int active = libusb_kernel_driver_active(handle_, interface_);
    if (active == 1) {
      if (int rc = libusb_detach_kernel_driver(handle_, interface_); rc != 0) {
        return fail(ErrorCode::kBusy, "cannot detach the kernel driver from " + name() + ": " + usbError(rc));
      }
      detached_ = true;
    }
    if (int rc = libusb_claim_interface(handle_, interface_); rc != 0) {
      return fail(rc == LIBUSB_ERROR_BUSY ? ErrorCode::kBusy : ErrorCode::kIo,
                  "cannot claim interface " + std::to_string(interface_) + " of " + name() + ": " + usbError(rc));
    }
    claimed_ = true;
    if (usagePage_ >= 0) {
      std::vector<uint8_t> rd(reportLength ? reportLength : 1024);
      int n = libusb_control_transfer(handle_, static_cast<uint8_t>(0x80 | 0x01) /* in, standard, interface */,
                                      LIBUSB_REQUEST_GET_DESCRIPTOR, 0x22 << 8, static_cast<uint16_t>(interface_),
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
  static void LIBUSB_CALL onWriteDone(libusb_transfer* t) { --static_cast<Shared*>(t->user_data)->writes; }

  // Event thread.
  static void LIBUSB_CALL onTransfer(libusb_transfer* t) {
    auto* shared = static_cast<Shared*>(t->user_data);
    if (t->status == LIBUSB_TRANSFER_COMPLETED) {
      std::vector<uint8_t> report(t->buffer, t->buffer + t->actual_length);
      shared->loop->post([token = shared->token, self = shared->self, report = std::move(report)] {
        if (!token.lock()) return;
        if (self->handlers_.onData) self->handlers_.onData(report);
      });
      if (!shared->closing.load() && libusb_submit_transfer(t) == 0) return;
      if (shared->closing.load()) {
        shared->self->inFlight_ = false;
        return;
      }
      shared->self->inFlight_ = false;
      shared->loop->post([token = shared->token, self = shared->self] {
        if (token.lock()) self->closeWith(Error{ErrorCode::kDisconnected, self->name() + ": cannot resubmit read"});
      });
      return;
    }
    shared->self->inFlight_ = false;
    if (t->status == LIBUSB_TRANSFER_CANCELLED) return;
    std::string why = t->status == LIBUSB_TRANSFER_NO_DEVICE ? "device unplugged"
                      : t->status == LIBUSB_TRANSFER_STALL   ? "endpoint stalled"
                      : t->status == LIBUSB_TRANSFER_OVERFLOW ? "report larger than the endpoint"
                                                              : "transfer failed";
    shared->loop->post([token = shared->token, self = shared->self, why] {
      if (token.lock()) self->closeWith(Error{ErrorCode::kDisconnected, self->name() + ": " + why});
    });
  }

  void closeWith(const Error& why) {
    auto handlers = std::move(handlers_);
    closeQuietly();
    logger_.info(deviceFields(address_.text), "usb closed: {}", why.message);
    if (handlers.onClosed) handlers.onClosed(why);
  }

  void releaseHandle() {
    if (!handle_) return;
    if (claimed_) libusb_release_interface(handle_, interface_);
    if (detached_) libusb_attach_kernel_driver(handle_, interface_);
    claimed_ = detached_ = false;
    libusb_close(handle_);
    handle_ = nullptr;
  }

  void closeQuietly() {
    alive_.reset();
    if (shared_) shared_->closing = true;
    // Let pending output reports finish (they time out after 1 s) before the
    // handle goes away under them.
    for (int i = 0; i < 250 && shared_ && shared_->writes.load() > 0; ++i) {
      if (thread_.joinable()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      } else {
        timeval tv{0, 10000};
        libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
      }
    }
    if (inTransfer_) {
      if (inFlight_.load()) libusb_cancel_transfer(inTransfer_);
      // Wait for the cancellation to complete before freeing the transfer.
      for (int i = 0; i < 200 && inFlight_.load(); ++i) {
        if (thread_.joinable()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else {
          timeval tv{0, 10000};
          libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
        }
      }
    }
    if (thread_.joinable()) {
      stopThread_ = true;
      libusb_interrupt_event_handler(ctx_);
      thread_.join();
    }
    if (inTransfer_ && !inFlight_.load()) libusb_free_transfer(inTransfer_);
    inTransfer_ = nullptr;
    inFlight_ = false;
    releaseHandle();
    if (ctx_) libusb_exit(ctx_);
    ctx_ = nullptr;
    inEndpoint_ = outEndpoint_ = 0;
    shared_.reset();
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  int wantInterface_;
  int usagePage_;
  Logger logger_;
  std::string serial_;
  std::string product_;
  std::string node_;
  Handlers handlers_;
  libusb_context* ctx_ = nullptr;
  libusb_device_handle* handle_ = nullptr;
  int interface_ = -1;
  bool claimed_ = false;
  bool detached_ = false;
  uint8_t inEndpoint_ = 0, outEndpoint_ = 0;
  int inPacketSize_ = 0;
  libusb_transfer* inTransfer_ = nullptr;
  std::vector<uint8_t> inBuf_;
  std::atomic<bool> inFlight_{false};
  std::atomic<bool> stopThread_{false};
  std::thread thread_;
  std::shared_ptr<int> alive_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace

Result<std::unique_ptr<Transport>> createUsbHidTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger) {
  auto itf = parseUnsignedParam(address, "interface", 0, 255, 1000);
  if (!itf) return std::unexpected(itf.error());
  auto page = parseUnsignedParam(address, "usage_page", 1, 0xFFFF, 0x10000);
  if (!page) return std::unexpected(page.error());
  for (auto& [key, value] : address.params) {
    if (key != "serial" && key != "interface" && key != "usage_page") {
      return fail(ErrorCode::kInvalidArgument, "address \"" + address.text + "\": unknown usb parameter \"" + key +
                                                   "\" (known: serial, interface, usage_page)");
    }
  }
  return std::make_unique<UsbHidTransport>(loop, address, *itf == 1000 ? -1 : static_cast<int>(*itf),
                                           *page == 0x10000 ? -1 : static_cast<int>(*page), std::move(logger));
}

}  // namespace floorlink::drivers::detail
