#include "core/error.h"

namespace floorlink {

std::string_view toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kDisconnected: return "disconnected";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kDiskFull: return "disk_full";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kPermission: return "permission";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kFault: return "fault";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

ErrorCode parseErrorCode(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (toString(code) == name) return code;
  }
  return ErrorCode::kInternal;
}

std::string Error::describe() const {
  std::string out(toString(code));
  out += ": ";
  out += message;
  return out;
}

}  // namespace floorlink
