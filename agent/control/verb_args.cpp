#include "agent/control/verb_args.h"

namespace floorlink::agent {

Result<std::string> stringArg(const nlohmann::json& args, const char* key) {
  if (!args.contains(key) || !args[key].is_string() || args[key].get<std::string>().empty()) {
    return fail(ErrorCode::kInvalidArgument, std::string("missing ") + key);
  }
  return args[key].get<std::string>();
}

}  // namespace floorlink::agent
