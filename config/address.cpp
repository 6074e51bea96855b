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

// ipp://host:port/resource and ipps://…: the port is required (631 on most
// printers, but a technician should see which one is used), and so is the
// resource, which differs between makes (/ipp/print, /printers/NAME, /ipp).
Status parseIppAddress(std::string_view scheme, std::string_view rest, bool hasQuery, DeviceAddress& a) {
  std::string example = std::string(scheme) + "://10.1.2.40:631/ipp/print";
  if (!rest.starts_with("//")) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address must look like " + example);
  }
  if (hasQuery) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) +
                                                 " address takes no ?parameters: put options in [devices.options]");
  }
  rest.remove_prefix(2);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view resource = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address must not carry a user name (user@)");
  }
  // host:port, or [IPv6]:port; the port is the part after the last ':'
  // outside the brackets.
  size_t hostEnd = authority.size();
  if (authority.starts_with('[')) {
    hostEnd = authority.find(']');
    if (hostEnd == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument, "IPv6 address in \"" + a.text + "\" lacks its closing ']'");
    }
    ++hostEnd;
  } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
    hostEnd = c;
  }
  std::string_view host = authority.substr(0, hostEnd);
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  if (host.empty()) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address needs a host, e.g. " + example);
  }
  std::string_view afterHost = authority.substr(hostEnd);
  if (afterHost.empty()) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address \"" + a.text +
                                                 "\" needs host:port (IPP printers listen on 631), e.g. " + example);
  }
  if (afterHost.front() != ':') {
    return fail(ErrorCode::kInvalidArgument, "\"" + a.text + "\": expected :port after the IPv6 address");
  }
  std::string_view portText = afterHost.substr(1);
  auto port = parseU16(portText, 10, "port");
  if (!port || *port == 0) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " port \"" + std::string(portText) +
                                                 "\" must be a number from 1 to 65535");
  }
  if (resource.size() < 2) {
    return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " address \"" + a.text +
                                                 "\" needs the printer's resource path after the port, e.g. " +
                                                 example + " (the printer's manual or ipptool -tv names it)");
  }
  for (char ch : resource) {
    if (static_cast<unsigned char>(ch) <= ' ' || ch == '#' || ch == '"' || ch == '\\' || ch == 0x7f) {
      return fail(ErrorCode::kInvalidArgument, std::string(scheme) + " resource \"" + std::string(resource) +
                                                   "\" may not contain spaces, control characters, '#', '\"' or '\\'");
    }
  }
  a.scheme = scheme == "ipps" ? AddressScheme::kIpps : AddressScheme::kIpp;
  a.host = std::string(host);
  a.port = *port;
  a.path = std::string(resource);
  return ok();
}

// cups:QUEUE, a queue of the local CUPS. Queue names as lpadmin allows them:
// 1 to 127 printable characters without space, '/', '\\', '"', '\'' or '#'.
Status parseCupsAddress(std::string_view rest, bool hasQuery, DeviceAddress& a) {
  if (rest.starts_with("//")) {
    return fail(ErrorCode::kInvalidArgument,
                "cups address is cups:QUEUE (a queue of the local CUPS, lpstat -p lists them), not cups://");
  }
  if (hasQuery) {
    return fail(ErrorCode::kInvalidArgument,
                "cups address takes no ?parameters: the CUPS server goes in [devices.options] server");
  }
  if (rest.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "cups address needs the queue name, e.g. cups:PackSlips (lpstat -p lists the queues)");
  }
  if (rest.size() > 127) return fail(ErrorCode::kInvalidArgument, "CUPS queue name is longer than 127 characters");
  for (char ch : rest) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= ' ' || u == 0x7f || ch == '/' || ch == '\\' || ch == '"' || ch == '\'' || ch == '#') {
      return fail(ErrorCode::kInvalidArgument, "CUPS queue name \"" + std::string(rest) +
                                                   "\" may not contain spaces, control characters, / \\ \" ' or #");
    }
  }
  a.scheme = AddressScheme::kCups;
  a.path = std::string(rest);
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
                "usb://vendor:product, evdev:/dev/input/by-id/..., file:/path, sim:name, "
                "ipp://host:631/ipp/print or cups:QUEUE");
  }
  std::string_view scheme = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  bool hasQuery = text.find('?') != std::string_view::npos;
  if (scheme == "ipp" || scheme == "ipps") {
    if (auto s = parseIppAddress(scheme, rest, hasQuery, a); !s) return std::unexpected(s.error());
    return a;
  }
  if (scheme == "cups") {
    if (auto s = parseCupsAddress(rest, hasQuery, a); !s) return std::unexpected(s.error());
    return a;
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
                                               "\", expected serial, tcp, usb, evdev, file, sim, ipp, ipps or cups");
}

}  // namespace floorlink::config
