#pragma once
// Forward-only schema migrations of the task store. Version N is reached by
// applying migrations 1..N in order; each runs in its own transaction together
// with the schema_version update. Never edit a released migration: add one.
#include <span>
#include <string_view>

namespace floorlink::agent {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements
};

std::span<const Migration> migrations();
int latestSchemaVersion();
// What v8 does to rows of older schemas (salvage of an older copy needs it too).
std::string_view shipDoorFromBinSql();

}  // namespace floorlink::agent
