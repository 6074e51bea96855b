#include "sync/command.h"

namespace floorlink::sync {

std::string_view toString(TaskKind kind) {
  switch (kind) {
    case TaskKind::kPick: return "pick";
    case TaskKind::kPack: return "pack";
    case TaskKind::kShip: return "ship";
  }
  return "pick";
}

}  // namespace floorlink::sync
