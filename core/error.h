#pragma once
// The one error type of floorlink: expected failures travel as values
// (std::expected), never as exceptions across our own interfaces.
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace floorlink {

enum class ErrorCode {
  kInvalidArgument,  // caller or outside input is malformed
  kNotFound,
  kAlreadyExists,
  kIo,               // read/write/open failed
  kTimeout,
  kDisconnected,     // device unplugged, peer closed, broker gone
  kProtocol,         // peer spoke but said something we do not accept
  kParse,            // bytes could not be parsed
  kStorage,          // database failure
  kDiskFull,
  kCorrupt,
  kBusy,
  kUnsupported,
  kPermission,
  kCancelled,
  kFault,            // device reports a fault (paper out, overload, ...)
  kInternal,
};

std::string_view toString(ErrorCode code);
// The inverse of toString(); kInternal for an unknown name.
ErrorCode parseErrorCode(std::string_view name);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // says what happened and, where we know, what to do

  // "io: cannot open /dev/ttyUSB0: permission denied"
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

inline Status ok() { return {}; }

}  // namespace floorlink
