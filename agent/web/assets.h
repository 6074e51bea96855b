#pragma once
// The pages' HTML, CSS and JS, embedded in the binary at build time
// (embed_assets.cmake): the floor has no internet and the agent no web root.
#include <optional>
#include <string_view>

namespace floorlink::agent {

struct WebAsset {
  std::string_view body;
  std::string_view contentType;
};

// By file name, e.g. "station.js"; nullopt for an unknown name.
std::optional<WebAsset> webAsset(std::string_view name);

}  // namespace floorlink::agent
