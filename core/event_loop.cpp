#include "core/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace floorlink {
namespace {

// Marker ids in epoll data for the loop's own fds.
constexpr uint64_t kWakeId = 0;
constexpr uint64_t kSignalId = UINT64_MAX;

uint32_t toEpoll(uint32_t events) {
  uint32_t out = 0;
  if (has(events, IoEvent::kRead)) out |= EPOLLIN;
  if (has(events, IoEvent::kWrite)) out |= EPOLLOUT;
  return out;
}

uint32_t fromEpoll(uint32_t ev) {
  uint32_t out = 0;
  if (ev & (EPOLLIN | EPOLLPRI)) out |= static_cast<uint32_t>(IoEvent::kRead);
  if (ev & EPOLLOUT) out |= static_cast<uint32_t>(IoEvent::kWrite);
  if (ev & (EPOLLHUP | EPOLLRDHUP)) out |= static_cast<uint32_t>(IoEvent::kHangup);
  if (ev & EPOLLERR) out |= static_cast<uint32_t>(IoEvent::kError);
  return out;
}

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return fail(ErrorCode::kIo, errnoText("epoll_create1"));
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(ep);
    return fail(ErrorCode::kIo, errnoText("eventfd"));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) < 0) {
    ::close(wake);
    ::close(ep);
    return fail(ErrorCode::kIo, errnoText("epoll_ctl"));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(ep, wake));
}

EventLoop::EventLoop(int epollFd, int wakeFd) : epollFd_(epollFd), wakeFd_(wakeFd) {}

EventLoop::~EventLoop() {
  if (signalFd_ >= 0) ::close(signalFd_);
  ::close(wakeFd_);
  ::close(epollFd_);
}

Result<EventLoop::WatchId> EventLoop::watchFd(int fd, uint32_t events, IoCallback callback) {
  assertLoopThread();
  WatchId id = nextWatchId_++;
  epoll_event ev{};
  ev.events = toEpoll(events);
  ev.data.u64 = id;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    return fail(ErrorCode::kIo, errnoText("epoll_ctl add"));
  }
  watches_.emplace(id, Watch{fd, std::move(callback)});
  return id;
}

Status EventLoop::modifyFd(WatchId id, uint32_t events) {
  assertLoopThread();
  auto it = watches_.find(id);
  if (it == watches_.end()) return fail(ErrorCode::kNotFound, "no such fd watch");
  epoll_event ev{};
  ev.events = toEpoll(events);
  ev.data.u64 = id;
  if (epoll_ctl(epollFd_, EPOLL_CTL_MOD, it->second.fd, &ev) < 0) {
    return fail(ErrorCode::kIo, errnoText("epoll_ctl mod"));
  }
  return ok();
}

void EventLoop::unwatchFd(WatchId id) {
  assertLoopThread();
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  watches_.erase(it);
}

EventLoop::TimerId EventLoop::addTimer(std::chrono::milliseconds delay, Callback callback,
                                       std::chrono::milliseconds period) {
  assertLoopThread();
  TimerId id = nextTimerId_++;
  auto due = std::chrono::steady_clock::now() + delay;
  timers_.emplace(id, Timer{due, period, std::move(callback)});
  timerQueue_.emplace(due, id);
  return id;
}

void EventLoop::cancelTimer(TimerId id) {
  assertLoopThread();
  // The queue entry is left behind and skipped when it comes due.
  timers_.erase(id);
}

Status EventLoop::watchSignal(int signo, Callback callback) {
  assertLoopThread();
  sigset_t mask;
  sigemptyset(&mask);
  for (auto& [s, _] : signals_) sigaddset(&mask, s);
  sigaddset(&mask, signo);
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return fail(ErrorCode::kIo, "cannot block signal");
  }
  int fd = signalfd(signalFd_, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::kIo, errnoText("signalfd"));
  if (signalFd_ < 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSignalId;
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      ::close(fd);
      return fail(ErrorCode::kIo, errnoText("epoll_ctl signalfd"));
    }
    signalFd_ = fd;
  }
  signals_[signo] = std::move(callback);
  return ok();
}

void EventLoop::post(Callback callback) {
  bool first;
  {
    std::lock_guard lock(postMutex_);
    first = posted_.empty();
    posted_.push_back(std::move(callback));
  }
  // One wake-up per batch: the loop reads the eventfd before it takes the
  // batch, so a post that finds others queued is taken with them.
  if (!first) return;
  uint64_t one = 1;
  // A full eventfd counter still wakes the loop; the result needs no check.
  [[maybe_unused]] auto n = ::write(wakeFd_, &one, sizeof one);
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

bool EventLoop::isLoopThread() const {
  auto runner = loopThread_.load(std::memory_order_relaxed);
  return runner == std::thread::id{} || runner == std::this_thread::get_id();
}

void EventLoop::assertLoopThread(std::source_location where) const {
  if (isLoopThread()) return;
  // A loop-only API off the loop thread is a data race on state that SQLite,
  // devices and workflows share; stopping here beats corrupting it.
  std::fprintf(stderr, "floorlink: loop-only API called off the event-loop thread at %s:%u (%s)\n",
               where.file_name(), static_cast<unsigned>(where.line()), where.function_name());
  std::abort();
}

int EventLoop::nextTimeoutMs() const {
  if (timerQueue_.empty()) return -1;
  auto now = std::chrono::steady_clock::now();
  auto due = timerQueue_.begin()->first;
  if (due <= now) return 0;
  // Round up so we never wake just before the deadline and spin.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(due - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

void EventLoop::runDueTimers() {
  auto now = std::chrono::steady_clock::now();
  while (!timerQueue_.empty() && timerQueue_.begin()->first <= now) {
    auto [due, id] = *timerQueue_.begin();
    timerQueue_.erase(timerQueue_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.due != due) continue;  // cancelled or stale
    if (it->second.period.count() > 0) {
      it->second.due = now + it->second.period;
      timerQueue_.emplace(it->second.due, id);
      auto cb = it->second.callback;  // copy: the callback may cancel its own timer
      cb();
    } else {
      auto cb = std::move(it->second.callback);
      timers_.erase(it);
      cb();
    }
    if (stopping_) return;
  }
}

void EventLoop::drainPosts() {
  uint64_t count;
  [[maybe_unused]] auto n = ::read(wakeFd_, &count, sizeof count);
  std::vector<Callback> batch;
  {
    std::lock_guard lock(postMutex_);
    batch.swap(posted_);
  }
  for (auto& cb : batch) cb();
}

Status EventLoop::runOnce(int timeoutMs) {
  epoll_event events[64];
  int n = epoll_wait(epollFd_, events, 64, timeoutMs);
  if (n < 0) {
    if (errno == EINTR) return ok();
    return fail(ErrorCode::kIo, errnoText("epoll_wait"));
  }
  for (int i = 0; i < n && !stopping_; ++i) {
    uint64_t id = events[i].data.u64;
    if (id == kWakeId) {
      drainPosts();
    } else if (id == kSignalId) {
      signalfd_siginfo info;
      while (::read(signalFd_, &info, sizeof info) == sizeof info) {
        auto it = signals_.find(static_cast<int>(info.ssi_signo));
        if (it != signals_.end()) it->second();
      }
    } else {
      auto it = watches_.find(id);
      if (it == watches_.end()) continue;  // unwatched by an earlier callback
      auto cb = it->second.callback;       // copy: the callback may unwatch itself
      cb(fromEpoll(events[i].events));
    }
  }
  if (!stopping_) runDueTimers();
  return ok();
}

// Binds the loop to the calling thread for as long as it runs.
class EventLoop::RunScope {
 public:
  explicit RunScope(EventLoop& loop) : loop_(loop) { loop_.loopThread_.store(std::this_thread::get_id()); }
  ~RunScope() { loop_.loopThread_.store(std::thread::id{}); }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

 private:
  EventLoop& loop_;
};

Status EventLoop::run() {
  RunScope scope(*this);
  stopping_ = false;
  while (!stopping_) {
    if (auto s = runOnce(nextTimeoutMs()); !s) return s;
  }
  return ok();
}

Status EventLoop::runFor(std::chrono::milliseconds budget) {
  RunScope scope(*this);
  stopping_ = false;
  auto end = std::chrono::steady_clock::now() + budget;
  while (!stopping_) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int t = nextTimeoutMs();
    int wait = t < 0 ? static_cast<int>(left.count()) : std::min<int>(t, static_cast<int>(left.count()));
    if (auto s = runOnce(wait); !s) return s;
  }
  return ok();
}

}  // namespace floorlink
