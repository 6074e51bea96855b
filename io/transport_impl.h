#pragma once
// Private to io/: the concrete transports behind createTransport().
#include <memory>

#include "config/config.h"
#include "core/log.h"
#include "core/loop_bound.h"
#include "io/transport.h"

namespace floorlink::io::detail {

Result<std::unique_ptr<Transport>> createSerialTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createTcpTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                     Logger logger);
Result<std::unique_ptr<Transport>> createUsbHidTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                        Logger logger);
Result<std::unique_ptr<Transport>> createUsbBulkTransport(EventLoop& loop, const config::DeviceAddress& address,
                                                         Logger logger);
Result<std::unique_ptr<Transport>> createFileTransport(EventLoop& loop, const config::DeviceAddress& address);

// strerror(err)
std::string errnoMessage(int err);

// Reads always; writes only while bytes wait (a socket is nearly always
// writable, so watching it idle would wake the loop for nothing). `watching`
// is the mask last given to the loop, kept to skip a needless epoll_ctl.
inline void watchWritesWhilePending(EventLoop& loop, EventLoop::WatchId watch, uint32_t& watching, bool pending) {
  uint32_t want = static_cast<uint32_t>(IoEvent::kRead) | (pending ? static_cast<uint32_t>(IoEvent::kWrite) : 0u);
  if (want == watching) return;
  (void)loop.modifyFd(watch, want);
  watching = want;
}

// What a closing transport stops on the loop: the callbacks it posted, its
// timer and its fd watch (`watching` back to the mask a new watch starts with).
inline void stopLoopWork(EventLoop& loop, LoopBound& bound, EventLoop::TimerId& timer, EventLoop::WatchId& watch,
                         uint32_t& watching, IoEvent initial) {
  bound.invalidate();
  if (timer) loop.cancelTimer(timer);
  timer = 0;
  if (watch) loop.unwatchFd(watch);
  watch = 0;
  watching = static_cast<uint32_t>(initial);
}

}  // namespace floorlink::io::detail
