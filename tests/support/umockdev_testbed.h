#pragma once
// Emulated serial ports, evdev keyboards and USB HID devices for tests, on
// top of libumockdev. Reusable by every driver test (scanners, scales).
//
// How to use (e.g. from tests/drivers/scale/...):
//   - link the target `floorlink_umockdev_support` (defined in
//     tests/drivers/CMakeLists.txt, which CMake reads before tests/scales);
//   - run the test binary under `umockdev-wrapper` (the preload library that
//     redirects /sys, /dev and ioctls into the testbed). drivers_tests does
//     that through CROSSCOMPILING_EMULATOR, see tests/drivers/CMakeLists.txt;
//     with ASan also set ASAN_OPTIONS=verify_asan_link_order=0;
//   - create one UmockdevTestbed per test (it is the whole fake /sys and /dev):
//       test::UmockdevTestbed bed;
//       auto port = bed.addSerialPort("ttyUSB0", "usb-Mettler_Toledo_SICS-if00-port0");
//       // address: serial:/dev/serial/by-id/usb-Mettler_Toledo_SICS-if00-port0
//       bed.sendFromDevice(port, "S S      12.34 kg\r\n");   // the device talks
//       std::string cmd = bed.receiveFromHost(port, 200ms);   // what the driver wrote
//       bed.unplug(port); ... bed.addSerialPort("ttyUSB1", same by-id name);  // replug
//   - a pty cannot do 7 data bits or parity (the kernel forces CS8): address
//     emulated 7E1 devices (Toledo 8217) with format=8N1 in tests;
//   - USB HID (scanners 0x8C, scales 0x8D): addUsbHidDevice(spec) and
//     queueInputReport(device, bytes); the usbdevfs ioctls libusb issues are
//     answered here (control transfers for descriptors, interrupt IN reads).
//   - USB printer class (label printers): addUsbPrinter(spec, responder);
//     bulk OUT bytes land in usbStats(dev).bulkOut and go to the responder,
//     whose answer comes back on bulk IN. After unplug() a printer's open
//     handle fails with ENODEV, as the kernel's does.
// All methods are thread-safe with respect to the umockdev worker thread
// that answers ioctls; call them from the test thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace floorlink::test {

class UmockdevTestbed {
 public:
  struct SerialPort {
    std::string node;      // "/dev/ttyUSB0"
    std::string byId;      // "/dev/serial/by-id/..."
    std::string sysPath;
  };
  struct EvdevDevice {
    std::string node;      // "/dev/input/event7"
    std::string byId;      // "/dev/input/by-id/...-event-kbd"
    std::string sysPath;
  };
  struct UsbHidSpec {
    uint16_t vendorId = 0x0c2e;   // Honeywell
    uint16_t productId = 0x0b61;
    std::string manufacturer = "Honeywell Imaging & Mobility";
    std::string product = "1950g HID POS";
    std::string serial = "20123B4567";
    std::vector<uint8_t> reportDescriptor;  // default: a HID POS scanner (usage page 0x8C)
    int busNumber = 1;
    int deviceNumber = 5;
    bool kernelDriverBound = true;          // "usbhid" owns it until detached
  };
  struct UsbHidDevice {
    std::string node;      // "/dev/bus/usb/001/005"
    std::string sysPath;
  };
  // What the emulated USB device saw (for assertions).
  struct UsbStats {
    int detachCount = 0;
    int attachCount = 0;
    int claimCount = 0;
    int releaseCount = 0;
    int controlTransfers = 0;
    std::vector<std::vector<uint8_t>> outReports;  // interrupt OUT / SET_REPORT data
    std::string bulkOut;                           // every bulk OUT byte, in order (printers)
  };
  // A USB printer-class device (interface class 7): protocol 2 (bidirectional)
  // has bulk OUT 0x01 and bulk IN 0x82, protocol 1 (unidirectional) only bulk OUT.
  struct UsbPrinterSpec {
    uint16_t vendorId = 0x0a5f;  // Zebra
    uint16_t productId = 0x0164;
    std::string manufacturer = "Zebra Technologies";
    std::string product = "ZTC ZT410-203dpi ZPL";
    std::string serial = "XXQ123";
    int interfaceProtocol = 2;
    int busNumber = 1;
    int deviceNumber = 7;
    bool kernelDriverBound = true;  // "usblp" owns it until detached
  };
  // Runs on the umockdev thread with the bytes of each bulk OUT transfer; what
  // it returns is queued for bulk IN (the printer's answers).
  using BulkResponder = std::function<std::string(std::string_view)>;

  // Fails the calling test (ADD_FAILURE) when not run under umockdev-wrapper.
  UmockdevTestbed();
  ~UmockdevTestbed();
  UmockdevTestbed(const UmockdevTestbed&) = delete;
  UmockdevTestbed& operator=(const UmockdevTestbed&) = delete;

  static bool inMockEnvironment();
  std::string rootDir() const;

  // A USB serial adapter: sysfs entry, a pty behind /dev/<name>, a by-id
  // symlink, and modem-line ioctls (TIOCMGET/TIOCMBIS/TIOCMBIC/TIOCMSET,
  // TIOCEXCL, ...) answered as a real FTDI would.
  SerialPort addSerialPort(const std::string& name, const std::string& byIdName);
  // Bytes from the device to the host (what the scanner/scale sends).
  void sendFromDevice(const SerialPort& port, std::string_view bytes);
  // Bytes the host wrote to the device, waiting up to `timeout` for at least one.
  std::string receiveFromHost(const SerialPort& port, std::chrono::milliseconds timeout);
  // Removes the by-id link, the node and the sysfs entry (a replug must use a
  // new node name, as the kernel would: ttyUSB1).
  void unplug(const SerialPort& port);

  // A keyboard-wedge scanner: evdev node (pty-backed), by-id link, EVIOCGRAB
  // and the usual EVIOCG* queries answered.
  EvdevDevice addEvdevKeyboard(const std::string& name, const std::string& byIdName);
  // Writes struct input_event records: key press/release with SYN reports.
  void sendKey(const EvdevDevice& dev, uint16_t code, int32_t value);
  // Types `keys` as (code, modifiers) presses: helper for whole strings.
  void tapKey(const EvdevDevice& dev, uint16_t code, std::vector<uint16_t> modifiers = {});
  bool grabbed(const EvdevDevice& dev) const;
  void unplug(const EvdevDevice& dev);

  UsbHidDevice addUsbHidDevice(const UsbHidSpec& spec);
  // The next interrupt IN transfer completes with these bytes.
  void queueInputReport(const UsbHidDevice& dev, std::vector<uint8_t> report);
  UsbStats usbStats(const UsbHidDevice& dev) const;
  // The handle is a UsbHidDevice too (node + sysPath); usbStats/unplug work on it.
  UsbHidDevice addUsbPrinter(const UsbPrinterSpec& spec, BulkResponder responder = {});
  // Removes the sysfs entry and the /dev/bus/usb node (replug with a new
  // deviceNumber, as the kernel would).
  void unplug(const UsbHidDevice& dev);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// HID POS scanner input report (report id 2, 64 bytes): data length, AIM
// symbology identifier, data, continuation flag in the last byte.
std::vector<std::vector<uint8_t>> hidPosScannerReports(std::string_view aimId, std::string_view data,
                                                       size_t reportSize = 64);

}  // namespace floorlink::test
