#include "printers/testing/fake_zpl_printer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace floorlink::printers {
namespace {

int quantityOf(std::string_view format) {
  size_t pq = format.find("^PQ");
  if (pq == std::string_view::npos) return 1;
  int q = std::atoi(std::string(format.substr(pq + 3, 8)).c_str());
  return q > 0 ? q : 1;
}

void sendAll(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    return;
  }
}

}  // namespace

Result<std::unique_ptr<FakeZplPrinter>> FakeZplPrinter::start(Options options) {
  std::unique_ptr<FakeZplPrinter> p(new FakeZplPrinter(std::move(options)));
  if (::pipe2(p->wakeFd_, O_CLOEXEC | O_NONBLOCK) != 0) return fail(ErrorCode::kIo, "pipe failed");
  p->port_ = p->options_.port;
  p->silenceAfterFormat_ = p->options_.silentAfterFirstFormat;
  if (auto s = p->listen(); !s) return std::unexpected(s.error());
  p->thread_ = std::thread([raw = p.get()] { raw->run(); });
  return p;
}

FakeZplPrinter::~FakeZplPrinter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (wakeFd_[1] >= 0) (void)!::write(wakeFd_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
  for (int fd : wakeFd_)
    if (fd >= 0) ::close(fd);
}

Status FakeZplPrinter::listen() {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) return fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port_);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listenFd_, 4) != 0) {
    int e = errno;
    ::close(listenFd_);
    listenFd_ = -1;
    return fail(ErrorCode::kIo, "fake printer cannot listen on 127.0.0.1:" + std::to_string(port_) + ": " +
                                    std::strerror(e));
  }
  socklen_t len = sizeof a;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  listening_ = true;
  return ok();
}

void FakeZplPrinter::run() {
  int client = -1;
  while (true) {
    bool refuse;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      refuse = refuse_;
    }
    // Refusing: no listening socket, so connects get ECONNREFUSED.
    if (refuse && listenFd_ >= 0) {
      ::close(listenFd_);
      listenFd_ = -1;
      listening_ = false;
      if (client >= 0) ::close(client);
      client = -1;
    } else if (!refuse && listenFd_ < 0) {
      (void)listen();
    }
    pollfd fds[3];
    int n = 0;
    fds[n++] = {wakeFd_[0], POLLIN, 0};
    int listenIdx = -1, clientIdx = -1;
    if (listenFd_ >= 0 && client < 0) {
      listenIdx = n;
      fds[n++] = {listenFd_, POLLIN, 0};
    }
    if (client >= 0) {
      clientIdx = n;
      fds[n++] = {client, POLLIN, 0};
    }
    if (::poll(fds, static_cast<nfds_t>(n), 200) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      while (::read(wakeFd_[0], buf, sizeof buf) > 0) {
      }
    }
    if (listenIdx >= 0 && (fds[listenIdx].revents & POLLIN)) {
      client = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        std::lock_guard lock(mutex_);
        ++connections_;
        // A new connection starts a fresh stream; a partial format is lost, as on a printer reset.
        pending_.clear();
        inFormat_ = false;
        format_.clear();
      }
    }
    if (clientIdx >= 0 && (fds[clientIdx].revents & (POLLIN | POLLHUP | POLLERR))) {
      size_t want = 4096;
      std::chrono::milliseconds delay{0};
      {
        std::lock_guard lock(mutex_);
        if (slowDelay_.count() > 0) {
          want = slowChunk_;
          delay = slowDelay_;
        }
        if (dropArmed_) want = std::min(want, dropAfter_);
      }
      char buf[4096];
      ssize_t got = want ? ::recv(client, buf, want, 0) : 0;
      bool closeNow = got <= 0 && !(got < 0 && errno == EINTR);
      std::string replies;
      if (got > 0) {
        std::lock_guard lock(mutex_);
        if (options_.logTraffic) std::fprintf(stderr, "fake-printer <- %zd bytes\n", got);
        replies = consume(std::string_view(buf, static_cast<size_t>(got)), closeNow);
        if (dropArmed_) {
          dropAfter_ -= static_cast<size_t>(got);
          if (dropAfter_ == 0) {
            dropArmed_ = false;
            closeNow = true;
          }
        }
      } else if (want == 0) {
        std::lock_guard lock(mutex_);
        dropArmed_ = false;
        closeNow = true;
      }
      if (!replies.empty()) sendAll(client, replies);
      if (closeNow) {
        ::close(client);
        client = -1;
        std::lock_guard lock(mutex_);
        pending_.clear();
        inFormat_ = false;
        format_.clear();
      }
      if (delay.count() > 0) {
        pollfd w{wakeFd_[0], POLLIN, 0};
        ::poll(&w, 1, static_cast<int>(delay.count()));
      }
    }
  }
  if (client >= 0) ::close(client);
}

std::string FakeZplPrinter::consume(std::string_view bytes, bool& closeNow) {
  pending_.append(bytes);
  std::string replies;
  // Control commands act at once, inside a format or not, as on a printer.
  auto control = [&](size_t at) -> int {  // bytes consumed, 0 = need more, -1 = not a query
    std::string_view rest = std::string_view(pending_).substr(at);
    if (rest.size() < 3) return 0;
    std::string_view code = rest.substr(1, 2);
    if (code == "HS") {
      if (!headOpen_ && !silent_) {
        replies += statusLocked().reply();
        ++statusAnswered_;
      }
      return 3;
    }
    if (code == "HI") {
      replies += hostIdentificationReply();
      return 3;
    }
    if (code == "HQ") {
      if (rest.size() < 5) return 0;
      if (rest.substr(3, 2) == "ES") replies += extendedLocked();
      return 5;
    }
    if (code == "JA") {  // cancel all
      held_.clear();
      return 3;
    }
    return -1;
  };
  while (!pending_.empty() && !closeNow) {
    if (!inFormat_) {
      size_t at = pending_.find_first_of("^~");
      if (at == std::string::npos) {
        pending_.clear();
        break;
      }
      pending_.erase(0, at);
      if (pending_[0] == '~') {
        int used = control(0);
        if (used == 0) break;
        pending_.erase(0, used < 0 ? 3 : static_cast<size_t>(used));
        continue;
      }
      if (pending_.size() < 3) break;
      if (pending_.compare(0, 3, "^XA") == 0) {
        pending_.erase(0, 3);
        inFormat_ = true;
        format_ = "^XA";
        if (resetMidFormat_) {
          resetMidFormat_ = false;
          inFormat_ = false;
          format_.clear();
          pending_.clear();
          closeNow = true;
        }
        continue;
      }
      pending_.erase(0, 1);
      continue;
    }
    size_t tilde = pending_.find('~');
    size_t end = pending_.find("^XZ");
    if (tilde != std::string::npos && (end == std::string::npos || tilde < end)) {
      int used = control(tilde);
      if (used == 0) {
        format_.append(pending_, 0, tilde);
        pending_.erase(0, tilde);
        break;
      }
      if (used > 0) {
        format_.append(pending_, 0, tilde);
        pending_.erase(0, tilde + static_cast<size_t>(used));
      } else {
        format_.append(pending_, 0, tilde + 1);
        pending_.erase(0, tilde + 1);
      }
      continue;
    }
    if (end != std::string::npos) {
      format_.append(pending_, 0, end + 3);
      pending_.erase(0, end + 3);
      inFormat_ = false;
      completeFormat(std::move(format_));
      format_.clear();
      continue;
    }
    // Keep a possible "^X" of a split "^XZ" for the next read.
    size_t keep = std::min<size_t>(2, pending_.size());
    format_.append(pending_, 0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    break;
  }
  return replies;
}

void FakeZplPrinter::completeFormat(std::string format) {
  formats_.push_back(format);
  if (paperOut_ || paused_ || headOpen_ || ribbonOut_) held_.push_back(format);
  else labelsPrinted_ += quantityOf(format);
  if (silenceAfterFormat_) {
    silenceAfterFormat_ = false;
    silent_ = true;
  }
  changed_.notify_all();
}

void FakeZplPrinter::releaseHeld() {
  if (paperOut_ || paused_ || headOpen_ || ribbonOut_) return;
  for (const auto& f : held_) labelsPrinted_ += quantityOf(f);
  held_.clear();
  changed_.notify_all();
}

HostStatus FakeZplPrinter::statusLocked() const {
  HostStatus s;
  s.interfaceSettings = 30;
  s.paperOut = paperOut_;
  s.paused = paused_;
  s.labelLengthDots = 1218;
  s.formatsInBuffer = static_cast<int>(held_.size());
  s.partialFormat = inFormat_;
  s.functionSettings = 1;
  s.headOpen = headOpen_;
  s.ribbonOut = ribbonOut_;
  s.thermalTransfer = true;
  s.printMode = 2;
  s.printWidthMode = 6;
  int remaining = 0;
  for (const auto& f : held_) remaining += quantityOf(f);
  s.labelsRemaining = remaining;
  s.password = 1234;
  return s;
}

std::vector<std::string> FakeZplPrinter::formats() const {
  std::lock_guard lock(mutex_);
  return formats_;
}
int FakeZplPrinter::labelsPrinted() const {
  std::lock_guard lock(mutex_);
  return labelsPrinted_;
}
int FakeZplPrinter::formatsWaiting() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(held_.size());
}
size_t FakeZplPrinter::connectionsAccepted() const {
  std::lock_guard lock(mutex_);
  return connections_;
}
size_t FakeZplPrinter::statusQueriesAnswered() const {
  std::lock_guard lock(mutex_);
  return statusAnswered_;
}
bool FakeZplPrinter::waitForFormats(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return formats_.size() >= count; });
}

void FakeZplPrinter::setPaperOut(bool on) {
  std::lock_guard lock(mutex_);
  paperOut_ = on;
  releaseHeld();
}
void FakeZplPrinter::setPaused(bool on) {
  std::lock_guard lock(mutex_);
  paused_ = on;
  releaseHeld();
}
void FakeZplPrinter::setHeadOpen(bool on) {
  std::lock_guard lock(mutex_);
  headOpen_ = on;
  releaseHeld();
}
void FakeZplPrinter::setRibbonOut(bool on) {
  std::lock_guard lock(mutex_);
  ribbonOut_ = on;
  releaseHeld();
}
void FakeZplPrinter::resetMidFormat() {
  std::lock_guard lock(mutex_);
  resetMidFormat_ = true;
}
void FakeZplPrinter::setRefuseConnections(bool on) {
  {
    std::lock_guard lock(mutex_);
    refuse_ = on;
  }
  (void)!::write(wakeFd_[1], "x", 1);
  // Wait for the thread to apply it, so a test's next connect sees it.
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mutex_);
      if (!listening_ == on) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
void FakeZplPrinter::dropAfterBytes(size_t bytes) {
  std::lock_guard lock(mutex_);
  dropAfter_ = bytes;
  dropArmed_ = true;
}
void FakeZplPrinter::setSlowReads(std::chrono::milliseconds delay, size_t chunk) {
  std::lock_guard lock(mutex_);
  slowDelay_ = delay;
  slowChunk_ = std::max<size_t>(1, chunk);
}
void FakeZplPrinter::silenceAfterNextFormat() {
  std::lock_guard lock(mutex_);
  silenceAfterFormat_ = true;
}

HostStatus FakeZplPrinter::hostStatus() const {
  std::lock_guard lock(mutex_);
  return statusLocked();
}
std::string FakeZplPrinter::hostStatusReply() const { return hostStatus().reply(); }
std::string FakeZplPrinter::hostIdentificationReply() const {
  HostIdentification id;
  id.model = options_.model + "-" +
             std::to_string(options_.dotsPerMm == 6 ? 152 : options_.dotsPerMm == 12 ? 300 : options_.dotsPerMm == 24 ? 600 : 203) + "dpi";
  id.firmware = options_.firmware;
  id.dotsPerMm = options_.dotsPerMm;
  id.memory = "8192KB";
  return id.reply();
}
std::string FakeZplPrinter::extendedStatusReply() const {
  std::lock_guard lock(mutex_);
  return extendedLocked();
}
std::string FakeZplPrinter::extendedLocked() const {
  ExtendedStatus e;
  uint32_t flags = 0;
  if (paperOut_) flags |= 0x1;
  if (ribbonOut_) flags |= 0x2;
  if (headOpen_) flags |= 0x4;
  e.error = flags != 0;
  e.errorFlags = flags;
  e.warning = false;
  return e.reply();
}

}  // namespace floorlink::printers
