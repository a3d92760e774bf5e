// Pidfile and daemon helpers for the master.
#pragma once

#include <sys/types.h>

#include <string>

namespace manifold {

pid_t readPidfile(const std::string& path);   // 0 when absent or unreadable
bool writePidfile(const std::string& path);   // written atomically (temp file + rename)
void removePidfile(const std::string& path);  // only if it still holds our pid
// Forks into the background, starts a new session, points stdio at /dev/null (stderr too
// unless keepStderr). The parent exits 0. Returns false in the caller on failure.
bool daemonize(bool keepStderr);

}  // namespace manifold
