#include "config/config.h"

#include <arpa/inet.h>

namespace floorlink::config {

bool isLoopbackAddress(std::string_view address) {
  if (address == "localhost" || address == "::1" || address == "[::1]") return true;
  in_addr a{};
  std::string s(address);
  if (inet_pton(AF_INET, s.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

std::string Origin::describe() const {
  std::string out = file.empty() ? "<config>" : file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!key.empty()) out += ": " + key;
  return out;
}

std::string_view toString(AddressScheme scheme) {
  switch (scheme) {
    case AddressScheme::kSerial: return "serial";
    case AddressScheme::kTcp: return "tcp";
    case AddressScheme::kUsb: return "usb";
    case AddressScheme::kEvdev: return "evdev";
    case AddressScheme::kFile: return "file";
    case AddressScheme::kSim: return "sim";
    case AddressScheme::kIpp: return "ipp";
    case AddressScheme::kIpps: return "ipps";
    case AddressScheme::kCups: return "cups";
  }
  return "tcp";
}

std::string_view toString(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kScanner: return "scanner";
    case DeviceKind::kScale: return "scale";
    case DeviceKind::kPrinter: return "printer";
    case DeviceKind::kDocPrinter: return "docprinter";
  }
  return "scanner";
}

std::string_view toString(StationKind kind) {
  switch (kind) {
    case StationKind::kPick: return "pick";
    case StationKind::kPack: return "pack";
    case StationKind::kShip: return "ship";
  }
  return "pick";
}

const DeviceConfig* Config::device(std::string_view id) const {
  for (const auto& d : devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

const StationConfig* Config::station(std::string_view id) const {
  for (const auto& s : stations) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  for (const auto* s : {&mqtt.password, &mqtt.keyPassword, &http.token}) {
    if (!s->empty()) out.push_back(*s);
  }
  return out;
}

}  // namespace floorlink::config
