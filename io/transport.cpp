#include "io/transport.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "io/transport_impl.h"

namespace floorlink::io {
namespace detail {

std::string errnoMessage(int err) { return std::strerror(err); }

}  // namespace detail

Result<unsigned long> parseUnsignedParam(const config::DeviceAddress& address, const std::string& key,
                                         unsigned long min, unsigned long max, unsigned long fallback) {
  auto it = address.params.find(key);
  if (it == address.params.end()) return fallback;
  std::string_view text = it->second;
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return fail(ErrorCode::kInvalidArgument, "address \"" + address.text + "\": " + key + "=" + it->second +
                                                 " is not a number from " + std::to_string(min) + " to " +
                                                 std::to_string(max));
  }
  return value;
}

void postConnected(const LoopBound& bound, const Transport::Handlers& handlers) {
  bound.post([&handlers] {
    if (handlers.onConnected) handlers.onConnected();
  });
}

Status checkKnownParams(const config::DeviceAddress& address, std::string_view kind,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : address.params) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return fail(ErrorCode::kInvalidArgument, "address \"" + address.text + "\": unknown " + std::string(kind) +
                                                 " parameter \"" + key + "\" (known: " + list + ")");
  }
  return ok();
}

std::string resolveDeviceNode(const std::string& path) {
  // Follow by-id/by-path symlinks one step at a time and stop at the first
  // name the tty or input class knows. realpath() would also resolve the
  // final node, and it misbehaves under the umockdev preload.
  std::string current = path;
  for (int hops = 0; hops < 16; ++hops) {
    struct stat st{};
    if (::lstat(current.c_str(), &st) != 0) return {};
    std::string base = current.substr(current.rfind('/') + 1);
    if (!S_ISLNK(st.st_mode)) return current;
    struct stat cls{};
    if (::stat(("/sys/class/tty/" + base).c_str(), &cls) == 0 ||
        ::stat(("/sys/class/input/" + base).c_str(), &cls) == 0) {
      return current;
    }
    char buf[4096];
    ssize_t n = ::readlink(current.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return {};
    std::string target(buf, static_cast<size_t>(n));
    if (target.front() != '/') target = current.substr(0, current.rfind('/') + 1) + target;
    // Collapse "dir/../" so the result reads like a kernel node name.
    std::string out;
    size_t pos = 0;
    std::vector<std::string> parts;
    while (pos <= target.size()) {
      size_t slash = target.find('/', pos);
      std::string part = target.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      pos = slash == std::string::npos ? target.size() + 1 : slash + 1;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(part);
    }
    for (auto& p : parts) out += "/" + p;
    if (::stat(out.c_str(), &st) != 0) return {};  // dangling link: unplugged
    current = out;
  }
  return {};
}

Result<std::unique_ptr<Transport>> createTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                  TransportOptions options) {
  switch (address.scheme) {
    case config::AddressScheme::kSerial: return detail::createSerialTransport(loop, address, std::move(options.logger));
    case config::AddressScheme::kTcp: return detail::createTcpTransport(loop, address, std::move(options.logger));
    case config::AddressScheme::kUsb:
      return options.usb == UsbClass::kHid ? detail::createUsbHidTransport(loop, address, std::move(options.logger))
                                            : detail::createUsbBulkTransport(loop, address, std::move(options.logger));
    case config::AddressScheme::kFile: return detail::createFileTransport(loop, address);
    case config::AddressScheme::kEvdev:
    case config::AddressScheme::kSim:
    case config::AddressScheme::kIpp:
    case config::AddressScheme::kIpps:
    case config::AddressScheme::kCups:
      break;
  }
  return fail(ErrorCode::kUnsupported, "address \"" + address.text + "\": " +
                                           std::string(config::toString(address.scheme)) +
                                           " is not a byte-stream device (use serial:, tcp://, usb:// or file:)");
}

}  // namespace floorlink::io
