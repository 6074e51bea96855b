#include <charconv>

#include "config/loader.h"

namespace floorlink::config {
namespace {

Result<uint16_t> parseU16(std::string_view text, int base, std::string_view what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xFFFF || text.empty()) {
    return fail(ErrorCode::kInvalidArgument, "bad " + std::string(what) + " \"" + std::string(text) + "\"");
  }
  return static_cast<uint16_t>(value);
}

Status parseQuery(std::string_view query, std::map<std::string, std::string>& out) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view item = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? query.size() : amp + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "parameter \"" + std::string(item) + "\" is not of the form key=value");
    }
    out[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
  }
  return ok();
}

}  // namespace

Result<DeviceAddress> parseAddress(std::string_view text) {
  DeviceAddress a;
  a.text = std::string(text);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "\"" + std::string(text) + "\" has no scheme, expected e.g. serial:/dev/ttyUSB0, tcp://host:port, "
                "usb://vendor:product, evdev:/dev/input/by-id/..., file:/path or sim:name");
  }
  std::string_view scheme = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (auto s = parseQuery(query, a.params); !s) return std::unexpected(s.error());

  if (scheme == "serial" || scheme == "evdev" || scheme == "file" || scheme == "sim") {
    a.scheme = scheme == "serial" ? AddressScheme::kSerial
             : scheme == "evdev"  ? AddressScheme::kEvdev
             : scheme == "file"   ? AddressScheme::kFile
                                  : AddressScheme::kSim;
    if (rest.starts_with("//")) rest.remove_prefix(2);
    if (rest.empty()) {
      return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address needs a " +
                                                   (scheme == "sim" ? "name" : "path") + " after \"" +
                                                   std::string(scheme) + ":\"");
    }
    if (a.scheme != AddressScheme::kSim && rest.front() != '/') {
      return fail(ErrorCode::kInvalidArgument,
                  std::string(scheme) + " path \"" + std::string(rest) + "\" must be absolute");
    }
    a.path = std::string(rest);
    return a;
  }
  if (scheme == "tcp") {
    if (!rest.starts_with("//")) {
      return fail(ErrorCode::kInvalidArgument, "tcp address must look like tcp://host:port");
    }
    rest.remove_prefix(2);
    size_t c = rest.rfind(':');
    if (c == std::string_view::npos || c == 0) {
      return fail(ErrorCode::kInvalidArgument, "tcp address \"" + std::string(text) + "\" needs host:port");
    }
    auto port = parseU16(rest.substr(c + 1), 10, "port");
    if (!port || *port == 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "tcp port \"" + std::string(rest.substr(c + 1)) + "\" must be a number from 1 to 65535");
    }
    a.scheme = AddressScheme::kTcp;
    a.host = std::string(rest.substr(0, c));
    a.port = *port;
    return a;
  }
  if (scheme == "usb") {
    if (rest.starts_with("//")) rest.remove_prefix(2);
    size_t c = rest.find(':');
    if (c == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument,
                  "usb address must look like usb://VVVV:PPPP (hex vendor and product ids), optionally ?serial=...");
    }
    auto vid = parseU16(rest.substr(0, c), 16, "USB vendor id");
    if (!vid) return std::unexpected(vid.error());
    auto pid = parseU16(rest.substr(c + 1), 16, "USB product id");
    if (!pid) return std::unexpected(pid.error());
    a.scheme = AddressScheme::kUsb;
    a.vendorId = *vid;
    a.productId = *pid;
    return a;
  }
  return fail(ErrorCode::kInvalidArgument, "unknown scheme \"" + std::string(scheme) +
                                               "\", expected serial, tcp, usb, evdev, file or sim");
}

}  // namespace floorlink::config
