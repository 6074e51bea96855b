// USB printer class (07) through libusb: bulk OUT for labels, bulk IN for
// ~HS replies where the printer offers it (bidirectional protocol). libusb
// calls block, so a worker thread does them and only post()s to the loop.
#include <libusb-1.0/libusb.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "printers/printer_link.h"

namespace floorlink::printers::detail {
namespace {

class UsbLink final : public PrinterLink {
 public:
  UsbLink(EventLoop& loop, config::DeviceAddress address, Logger logger)
      : loop_(loop), address_(std::move(address)), logger_(std::move(logger)) {}
  ~UsbLink() override { close(); }

  Status open(Handlers handlers) override {
    close();
    handlers_ = std::move(handlers);
    written_ = 0;
    if (libusb_init(&ctx_) != 0) return fail(ErrorCode::kIo, "libusb_init failed");
    libusb_device** list = nullptr;
    ssize_t n = libusb_get_device_list(ctx_, &list);
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
    if (found) {
      char node[64];
      std::snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(found),
                    libusb_get_device_address(found));
      node_ = node;
    }
    Status result = ok();
    if (!found) {
      result = fail(ErrorCode::kNotFound, fmt::format("no USB printer {:04x}:{:04x}{} is plugged in; check the cable "
                                                      "and `lsusb`", address_.vendorId, address_.productId,
                                                      wantSerial.empty() ? "" : " serial " + wantSerial));
    } else if (auto s = claim(found); !s) {
      result = s;
    }
    libusb_free_device_list(list, 1);
    if (!result) {
      close();
      return result;
    }
    running_ = true;
    worker_ = std::thread([this, gen = generation_.load()] { work(gen); });
    loop_.post([this, gen = generation_.load()] { if (gen == generation_ && handlers_.onOpen) handlers_.onOpen(); });
    return ok();
  }

  void close() override {
    ++generation_;
    {
      std::lock_guard lock(mutex_);
      running_ = false;
      out_.clear();
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    if (handle_) {
      libusb_release_interface(handle_, interface_);
      libusb_close(handle_);
    }
    handle_ = nullptr;
    if (ctx_) libusb_exit(ctx_);
    ctx_ = nullptr;
  }
  bool isOpen() const override { return handle_ != nullptr; }
  Status write(std::string_view bytes) override {
    if (!handle_) return fail(ErrorCode::kDisconnected, describe() + " is not open");
    {
      std::lock_guard lock(mutex_);
      out_.append(bytes);
    }
    cv_.notify_all();
    return ok();
  }
  size_t bytesWritten() const override { return written_; }
  bool readsBack() const override { return inEndpoint_ != 0; }
  std::string describe() const override { return address_.text.empty() ? "usb" : address_.text; }

 private:
  Status claim(libusb_device* dev) {
    libusb_config_descriptor* cfg = nullptr;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0)
      return fail(ErrorCode::kIo, "cannot read the USB printer's configuration");
    bool ok_ = false;
    for (int i = 0; i < cfg->bNumInterfaces && !ok_; ++i) {
      const auto& itf = cfg->interface[i];
      for (int a = 0; a < itf.num_altsetting && !ok_; ++a) {
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
        interface_ = alt.bInterfaceNumber;
        outEndpoint_ = out;
        // Only the bidirectional protocol (2) answers on bulk IN.
        inEndpoint_ = (alt.bInterfaceProtocol >= 2 && address_.params.count("status") == 0) ? in : 0;
        ok_ = true;
      }
    }
    libusb_free_config_descriptor(cfg);
    if (!ok_) return fail(ErrorCode::kUnsupported, "the USB device has no printer-class interface with bulk OUT");
    int rc = libusb_open(dev, &handle_);
    if (rc != 0)
      return fail(rc == LIBUSB_ERROR_ACCESS ? ErrorCode::kPermission : ErrorCode::kIo,
                  fmt::format("cannot open USB printer: {}; install the floorlink udev rule", libusb_strerror(rc)));
    libusb_set_auto_detach_kernel_driver(handle_, 1);
    rc = libusb_claim_interface(handle_, interface_);
    if (rc != 0) {
      libusb_close(handle_);
      handle_ = nullptr;
      return fail(ErrorCode::kBusy, fmt::format("cannot claim the USB printer interface: {} (is CUPS using it?)",
                                                libusb_strerror(rc)));
    }
    return ok();
  }

  void work(unsigned gen) {
    while (true) {
      std::string chunk;
      {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::milliseconds(inEndpoint_ ? 0 : 100),
                     [&] { return !running_ || !out_.empty(); });
        if (!running_) return;
        chunk = out_.substr(0, 16384);
      }
      // Without a transfer in flight nothing else would notice an unplug
      // (status=none, unidirectional printers): the kernel removes the node.
      if (struct stat st{}; chunk.empty() && !node_.empty() && ::stat(node_.c_str(), &st) != 0 && errno == ENOENT)
        return lost(gen, LIBUSB_ERROR_NO_DEVICE);
      if (!chunk.empty()) {
        int sent = 0;
        int rc = libusb_bulk_transfer(handle_, outEndpoint_, reinterpret_cast<unsigned char*>(chunk.data()),
                                      static_cast<int>(chunk.size()), &sent, 5000);
        if (sent > 0) {
          written_ += static_cast<size_t>(sent);
          std::lock_guard lock(mutex_);
          out_.erase(0, static_cast<size_t>(sent));
          if (out_.empty())
            loop_.post([this, gen] { if (gen == generation_ && handlers_.onFlushed) handlers_.onFlushed(); });
        }
        if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) return lost(gen, rc);
      }
      if (inEndpoint_) {
        unsigned char buf[512];
        int got = 0;
        int rc = libusb_bulk_transfer(handle_, inEndpoint_, buf, sizeof buf, &got, 100);
        if (got > 0) {
          std::string data(reinterpret_cast<char*>(buf), static_cast<size_t>(got));
          loop_.post([this, gen, data] { if (gen == generation_ && handlers_.onData) handlers_.onData(data); });
        }
        if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) return lost(gen, rc);
      }
    }
  }

  void lost(unsigned gen, int rc) {
    std::string why = fmt::format("{}: {}", describe(),
                                  rc == LIBUSB_ERROR_NO_DEVICE ? "unplugged" : libusb_strerror(rc));
    loop_.post([this, gen, why] {
      if (gen != generation_) return;
      auto onClosed = handlers_.onClosed;
      close();
      if (onClosed) onClosed(Error{ErrorCode::kDisconnected, why});
    });
  }

  EventLoop& loop_;
  config::DeviceAddress address_;
  Logger logger_;
  Handlers handlers_;
  libusb_context* ctx_ = nullptr;
  libusb_device_handle* handle_ = nullptr;
  std::string node_;  // /dev/bus/usb/BBB/DDD of the open printer
  int interface_ = 0;
  uint8_t outEndpoint_ = 0, inEndpoint_ = 0;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool running_ = false;
  std::string out_;
  std::atomic<size_t> written_{0};
  std::atomic<unsigned> generation_{0};
};

}  // namespace

Result<std::unique_ptr<PrinterLink>> createUsbLink(EventLoop& loop, const config::DeviceAddress& address,
                                                   Logger logger) {
  if (address.vendorId == 0) return fail(ErrorCode::kInvalidArgument, "usb printer address needs vendor:product");
  return std::make_unique<UsbLink>(loop, address, std::move(logger));
}

}  // namespace floorlink::printers::detail
