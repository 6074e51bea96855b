#pragma once
// A Transport in memory: what the driver writes goes to an optional scale
// emulator whose answer comes back on the loop; tests can also inject bytes,
// unplug, and refuse to open.
#include <functional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "drivers/transport.h"
#include "tests/scales/scale_emulators.h"

namespace floorlink::testing {

class FakeTransport final : public drivers::Transport {
 public:
  explicit FakeTransport(EventLoop& loop, ScaleEmulator* emulator = nullptr) : loop_(loop), emulator_(emulator) {}
  ~FakeTransport() override { *alive_ = false; }

  Status open(Handlers handlers) override {
    ++opens;
    if (!openError.empty()) return fail(ErrorCode::kIo, openError);
    handlers_ = std::move(handlers);
    open_ = true;
    auto alive = alive_;
    loop_.post([this, alive] {  // like the real transports: usable right after open, posted
      if (*alive && open_ && handlers_.onConnected) handlers_.onConnected();
    });
    return ok();
  }
  void close() override { open_ = false; }
  bool isOpen() const override { return open_; }
  Status write(std::span<const uint8_t> bytes) override {
    if (!open_) return fail(ErrorCode::kDisconnected, "not open");
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    written += text;
    if (emulator_) {
      std::string answer = emulator_->feed(text);
      if (!answer.empty()) deliver(answer);
    }
    return ok();
  }
  uint64_t bytesWritten() const override { return written.size(); }
  std::string describe() const override { return "fake:scale"; }

  // Bytes from the device, delivered on the loop like a real transport.
  void deliver(std::string bytes) {
    auto alive = alive_;
    loop_.post([this, alive, bytes = std::move(bytes)] {
      if (!*alive || !open_) return;
      handlers_.onData(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    });
  }
  void unplug(std::string why = "device removed") {
    open_ = false;
    openError = "no such device";
    handlers_.onClosed(Error{ErrorCode::kDisconnected, std::move(why)});
  }
  void replug() { openError.clear(); }

  std::string written;
  std::string openError;  // non-empty: open() fails with it
  int opens = 0;

 private:
  EventLoop& loop_;
  ScaleEmulator* emulator_;
  Handlers handlers_;
  bool open_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace floorlink::testing
