#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "core/event_loop.h"
#include "drivers/transport.h"
#include "tests/io/test_util.h"

namespace floorlink::drivers::testing {

using io::testing::bytesOf;
using io::testing::runUntil;

inline config::DeviceConfig scannerConfig(const std::string& id, const std::string& address,
                                          std::map<std::string, std::string> options = {}) {
  config::DeviceConfig d;
  d.id = id;
  d.kind = config::DeviceKind::kScanner;
  d.address = config::parseAddress(address).value();
  d.protocol = "generic";
  d.origin = {"floorlink.toml", 10, "devices[0]"};
  int line = 11;
  for (auto& [k, v] : options) d.options[k] = config::OptionValue{v, {"floorlink.toml", line++, "devices[0].options." + k}};
  return d;
}

// A transport the test drives by hand.
class FakeTransport final : public Transport {
 public:
  struct State {
    bool open = false;
    int opens = 0;
    Status nextOpen = ok();
    std::string written;
    Handlers handlers;
  };
  explicit FakeTransport(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Status open(Handlers handlers) override {
    ++state_->opens;
    if (!state_->nextOpen) return state_->nextOpen;
    state_->open = true;
    state_->handlers = std::move(handlers);
    if (state_->handlers.onConnected) state_->handlers.onConnected();
    return ok();
  }
  void close() override { state_->open = false; }
  bool isOpen() const override { return state_->open; }
  Status write(std::span<const uint8_t> bytes) override {
    state_->written.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return ok();
  }
  uint64_t bytesWritten() const override { return state_->written.size(); }
  std::string describe() const override { return "fake"; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace floorlink::drivers::testing
