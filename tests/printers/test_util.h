#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "config/config.h"
#include "config/loader.h"
#include "core/event_loop.h"
#include "printers/label_template.h"

namespace floorlink::printers::testing {

// Runs the loop until `done` or the deadline (a deadline hit fails the test by the caller's check).
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    (void)loop.runFor(std::chrono::milliseconds(5));
  }
  return true;
}

inline std::filesystem::path sourceDir() { return FLOORLINK_SOURCE_DIR; }

inline LabelTemplate shippingTemplate() {
  auto t = LabelTemplate::load(sourceDir() / "printers/templates/shipping.zpl");
  EXPECT_TRUE(t) << (t ? "" : t.error().describe());
  return *t;
}

inline LabelValues shippingValues(std::string customer = "ACME Pty") {
  LabelValues v;
  v.fields = {{"customer", std::move(customer)}, {"street", "1 Dock Road"}, {"postal_code", "10115"},
              {"city", "Berlin"}};
  v.values = {{"sscc", "106141411234567897"}, {"order_id", "O-1"}, {"station", "pack1"}, {"date", "2026-11-22"}};
  return v;
}

inline config::DeviceConfig printerConfig(const std::string& address, const std::string& id = "lp1") {
  config::DeviceConfig d;
  d.id = id;
  d.kind = config::DeviceKind::kPrinter;
  d.protocol = "zpl";
  auto a = config::parseAddress(address);
  EXPECT_TRUE(a) << (a ? "" : a.error().describe());
  if (a) d.address = *a;
  return d;
}

inline std::filesystem::path tempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("floorlink-printers-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace floorlink::printers::testing
