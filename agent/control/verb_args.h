#pragma once
// What the floorlinkctl verbs share: argument checks, the list of what is
// configured when an id is unknown, and the task store that may be missing.
#include <nlohmann/json.hpp>

#include <string>

#include "agent/store/task_store.h"
#include "core/error.h"

namespace floorlink::agent {

// A required, non-empty string argument.
Result<std::string> stringArg(const nlohmann::json& args, const char* key);

// "a, b" of a map's keys, or "none".
template <class Map>
std::string configuredIds(const Map& map) {
  std::string known;
  for (const auto& [k, _] : map) known += (known.empty() ? "" : ", ") + k;
  return known.empty() ? "none" : known;
}

// The task store, or why there is none (a damaged database waiting for salvage).
struct StoreRef {
  TaskStore* store = nullptr;
  std::string problem;

  Result<TaskStore*> get() const {
    if (store == nullptr) return fail(ErrorCode::kStorage, problem);
    return store;
  }
};

}  // namespace floorlink::agent
