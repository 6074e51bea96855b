#include "agent/store/high_water.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace floorlink::agent {
namespace {

constexpr const char* kMagic = "floorlink-high-water 1";

std::string errnoText() { return std::strerror(errno); }

Status writeAll(int fd, const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(errno == ENOSPC ? ErrorCode::kDiskFull : ErrorCode::kIo, errnoText());
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ok();
}

}  // namespace

std::filesystem::path highWaterPath(const std::filesystem::path& databasePath) {
  std::filesystem::path out = databasePath;
  out.replace_extension(".hw");
  return out;
}

Result<std::optional<HighWaterMarks>> readHighWater(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<HighWaterMarks>{};
  std::ifstream in(file);
  if (!in) return fail(ErrorCode::kIo, "cannot read " + file.string());
  std::string line;
  if (!std::getline(in, line) || line != kMagic) {
    return fail(ErrorCode::kCorrupt, file.string() + " is not a floorlink high-water file");
  }
  HighWaterMarks marks;
  bool seen[4] = {false, false, false, false};
  bool end = false;
  while (std::getline(in, line)) {
    if (line == "end") {
      end = true;
      break;
    }
    std::istringstream words(line);
    std::string key;
    int64_t value = 0;
    if (!(words >> key >> value)) continue;
    if (key == "epoch") marks.epoch = value, seen[0] = true;
    if (key == "seq") marks.seqCeiling = value, seen[1] = true;
    if (key == "session") marks.session = value, seen[2] = true;
    if (key == "acked") marks.ackedThrough = value, seen[3] = true;
  }
  if (!end || !seen[0] || !seen[1] || !seen[2] || !seen[3]) {
    return fail(ErrorCode::kCorrupt, file.string() + " is incomplete");
  }
  return std::optional<HighWaterMarks>{marks};
}

Status writeHighWater(const std::filesystem::path& file, const HighWaterMarks& marks) {
  std::ostringstream text;
  text << kMagic << "\n"
       << "epoch " << marks.epoch << "\n"
       << "seq " << marks.seqCeiling << "\n"
       << "session " << marks.session << "\n"
       << "acked " << marks.ackedThrough << "\n"
       << "end\n";
  std::filesystem::path tmp = file.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fail(ErrorCode::kIo, "cannot write " + tmp.string() + ": " + errnoText());
  Status written = writeAll(fd, text.str());
  if (written && ::fsync(fd) != 0) written = fail(ErrorCode::kIo, "fsync " + tmp.string() + ": " + errnoText());
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return fail(written.error().code, "cannot write the high-water file " + file.string() + ": " +
                                          written.error().message);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    return fail(ErrorCode::kIo, "cannot replace " + file.string() + ": " + errnoText());
  }
  // The rename is durable only once the directory is synced.
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok();
}

Result<uint64_t> nextSessionFromHighWater(const std::filesystem::path& databasePath) {
  auto path = highWaterPath(databasePath);
  auto read = readHighWater(path);
  HighWaterMarks marks;
  if (read) {
    marks = read->value_or(HighWaterMarks{});
  } else if (read.error().code == ErrorCode::kCorrupt) {
    // A damaged file: the wall clock in ms is above any session counted one by one.
    marks.session = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  } else {
    return std::unexpected(read.error());
  }
  ++marks.session;
  if (auto s = writeHighWater(path, marks); !s) return std::unexpected(s.error());
  return static_cast<uint64_t>(marks.session);
}

}  // namespace floorlink::agent
