#pragma once
// Starting the real programs the integration fixtures drive (mosquitto,
// RabbitMQ, ippeveprinter, cupsd, dbus-daemon): fork+exec with the parent-death signal, so a crashed
// test leaves none behind.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace floorlink::testing {

// Runs argv[0] (a path) with this process's environment plus `env`
// ("NAME=value", replacing a variable of the same name), stdin from
// /dev/null, stdout and stderr appended to `logFile`, in a process group of
// its own.
// Variables of this process that start with one of `dropPrefixes`
// ("RABBITMQ_") are not passed on.
Result<pid_t> spawnChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& logFile, const std::vector<std::string>& dropPrefixes = {});

// SIGCONT (a frozen child), SIGKILL to its process group (the child and all
// it started) and reap; pid becomes -1.
void killChild(pid_t& pid);

// True (and pid -1) when the child has exited.
bool reapIfExited(pid_t& pid);

// Until `ready()` or the child exits or the timeout; the error names `what`
// and carries the log's tail.
Status waitUntil(pid_t& pid, const std::string& what, const std::string& logFile, std::chrono::milliseconds timeout,
                 const std::function<bool()>& ready);

// Whether something accepts TCP connections on 127.0.0.1:port.
bool acceptsConnections(uint16_t port);

std::string readTextFile(const std::string& path);
bool writeTextFile(const std::string& path, const std::string& text);

}  // namespace floorlink::testing
