#pragma once
// The agent's configuration as plain validated values. Loading (loader.h)
// turns one TOML file plus --set overrides into a Config or a precise error.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"

namespace floorlink::config {

// Where a value came from, for error messages raised after loading
// ("floorlink.toml:31: devices[1].options.suffix: ...").
struct Origin {
  std::string file;
  int line = 0;
  std::string key;  // full key path, e.g. devices[1].options.suffix
  std::string describe() const;  // "floorlink.toml:31: devices[1].options.suffix"
};

// A protocol option of a device, validated by the driver that reads it.
struct OptionValue {
  std::string text;  // strings as is; integers/booleans/floats in TOML notation
  Origin origin;
};

enum class AddressScheme { kSerial, kTcp, kUsb, kEvdev, kFile, kSim, kIpp, kIpps, kCups };

// A device address in the style of CUPS device URIs:
//   serial:/dev/ttyUSB0?baud=9600&format=7E1
//   tcp://10.1.2.3:9100
//   usb://0922:8003?serial=ABC
//   evdev:/dev/input/by-id/usb-...-event-kbd
//   file:/var/lib/floorlink/labels.zpl   (printer sink for tests and demos)
//   sim:name                              (built-in simulated device, demos)
//   ipp://10.1.2.40:631/ipp/print         (document printers: IPP, ipps:// with TLS)
//   cups:PackSlips                        (a queue of the local CUPS, which converts)
struct DeviceAddress {
  AddressScheme scheme = AddressScheme::kTcp;
  std::string path;                       // serial, evdev, file, sim; ipp(s): the resource; cups: the queue
  std::string host;                       // tcp, ipp(s)
  uint16_t port = 0;                      // tcp, ipp(s)
  uint16_t vendorId = 0, productId = 0;   // usb
  std::map<std::string, std::string> params;  // ?key=value&...
  std::string text;                       // as written
};

enum class DeviceKind { kScanner, kScale, kPrinter, kDocPrinter };
enum class StationKind { kPick, kPack, kShip };

std::string_view toString(AddressScheme scheme);
std::string_view toString(DeviceKind kind);
std::string_view toString(StationKind kind);

// The [devices.options] of a document printer (kind = "docprinter"), typed
// and checked by the loader.
struct DocPrinterOptions {
  bool verifyTls = true;            // ipps: the printer's certificate must be trusted and name it
  std::string caFile;               // ipps: a CA (PEM) trusted besides the system's
  std::string cupsServer;           // cups: host:port or socket; empty: CUPS_SERVER, client.conf, local socket
  std::chrono::milliseconds pollInterval{5000};     // printer status while idle
  std::chrono::milliseconds requestTimeout{10000};  // one IPP request's answer
  std::chrono::seconds busyRetryMax{86400};         // server-error-busy retried this long (the job expiry)
  std::chrono::seconds lostTimeout{120};            // no contact after the printer took a job: unknown
};

struct DeviceConfig {
  std::string id;
  DeviceKind kind = DeviceKind::kScanner;
  DeviceAddress address;
  // Protocol/model, e.g. scanner: "generic"; scale: "mt-sics", "toledo-8217",
  // "nci", "hid-pos", "continuous"; printer: "zpl"; docprinter: "ipp".
  std::string protocol;
  std::map<std::string, OptionValue> options;  // [devices.options]
  DocPrinterOptions docPrinter;                 // kind docprinter only
  Origin origin;
};

struct StationConfig {
  std::string id;
  StationKind kind = StationKind::kPick;
  std::string scanner;  // device ids; empty when none
  std::string scale;
  std::string printer;
  std::string docPrinter;  // a docprinter device for packing slips and invoices
  Origin origin;
};

struct AgentSection {
  std::string site;
  std::string id;
  std::filesystem::path dataDir = "/var/lib/floorlink";
};

struct MqttSection {
  std::string url = "tcp://127.0.0.1:1883";  // tcp:// or ssl://
  // The nodes of a broker cluster, tried in turn (mqtt.urls). After loading
  // it always holds at least one URL and url is its first; code that builds
  // a Config by hand may set url alone (brokerUrls() covers both).
  std::vector<std::string> urls;
  std::string urlOrder = "ordered";         // ordered | shuffle (a stable order per client id)
  std::string clientId;                     // default: {site}-{agent}
  std::string username;
  std::string password;                     // secret: never logged or published
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  std::string keyPassword;                  // secret
  bool verifyServer = true;
  std::string protocol = "auto";            // auto, 3.1.1 or 5
  std::chrono::seconds keepalive{30};
  std::chrono::seconds connectTimeout{10};
  std::chrono::milliseconds backoffMin{500};
  std::chrono::milliseconds backoffMax{30000};
  std::chrono::seconds ackTimeout{30};      // C-A2
  std::chrono::seconds stateInterval{60};   // C-P2
  size_t maxPayload = 16 << 20;             // bytes, §1 (16 MiB: a 50,000-task wave)
  int inflight = 64;                        // unacked publishes in flight (C-E4)

  std::vector<std::string> brokerUrls() const { return urls.empty() ? std::vector<std::string>{url} : urls; }
};

enum class SyncMode { kFull, kNormal };

struct StorageSection {
  SyncMode synchronous = SyncMode::kFull;
  std::chrono::milliseconds busyTimeout{5000};
  std::chrono::hours retention{24 * 7};     // C-A4
};

struct ControlSection {
  std::filesystem::path socket = "/run/floorlink/control.sock";
  std::string group;  // owner group of the socket; empty: the process's group
};

struct LabelsSection {
  std::filesystem::path templatesDir = "/etc/floorlink/labels";
  std::string gs1CompanyPrefix;  // 6-12 digits; needed to generate SSCCs
  int extensionDigit = 0;
  std::chrono::hours jobExpiry{24};
};

struct HttpSection {
  bool enabled = false;
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  std::string token;  // secret; required when bind is not loopback
};

struct LogSection {
  LogLevel level = LogLevel::kInfo;
  std::map<std::string, LogLevel> modules;
  LogTarget target = LogTarget::kAuto;
};

struct Config {
  AgentSection agent;
  MqttSection mqtt;
  StorageSection storage;
  ControlSection control;
  LabelsSection labels;
  HttpSection http;
  LogSection log;
  std::vector<DeviceConfig> devices;
  std::vector<StationConfig> stations;
  std::string sourceFile;  // the file it was loaded from

  const DeviceConfig* device(std::string_view id) const;
  const StationConfig* station(std::string_view id) const;
  // Every secret value, for log masking.
  std::vector<std::string> secrets() const;
};

// 127.0.0.0/8, ::1 and "localhost": addresses only this machine reaches
// (http.bind there needs no token). One rule for the loader and the server.
bool isLoopbackAddress(std::string_view address);

}  // namespace floorlink::config
