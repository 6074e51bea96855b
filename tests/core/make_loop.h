#pragma once
// A fresh EventLoop for the core tests.
#include <gtest/gtest.h>

#include <memory>

#include "core/event_loop.h"

namespace floorlink::testing {

inline std::unique_ptr<EventLoop> makeLoop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.has_value());
  return std::move(*loop);
}

}  // namespace floorlink::testing
