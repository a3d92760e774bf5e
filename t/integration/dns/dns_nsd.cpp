#include "t/integration/dns/dns_nsd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "t/integration/dns/dns_test_util.hpp"
#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

Nsd::Nsd(const std::string& dir, const std::string& origin, const std::string& zoneFile,
         const std::string& zoneExtra)
    : dir_(dir),
      origin_(origin),
      zoneFile_(zoneFile),
      zoneExtra_(zoneExtra),
      port_(freeDnsPort()) {}

Nsd::~Nsd() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(100000);
  if (waitpid(pid_, &status, WNOHANG) == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
}

bool Nsd::installed() { return !run("command -v nsd").empty(); }

std::string Nsd::output() const { return readFile(dir_ + "/nsd.out"); }

bool Nsd::start(int waitMs) {
  run("mkdir -p " + dir_);
  writeFile(dir_ + "/nsd.conf",
            "server:\n  ip-address: 127.0.0.1@" + std::to_string(port_) +
                "\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"" + dir_ + "\"\n  pidfile: \"" +
                dir_ + "/nsd.pid\"\n  database: \"\"\n  xfrdfile: \"" + dir_ +
                "/xfrd.state\"\n  zonelistfile: \"" + dir_ +
                "/zone.list\"\n  server-count: 1\n  rrl-ratelimit: 0\n" + serverExtra_ +
                "  verbosity: 0\nremote-control:\n  control-enable: no\nzone:\n  name: " + origin_ +
                "\n  zonefile: " + zoneFile_ + "\n" + zoneExtra_);
  // Output to a file, not our stdout: a leaked process must never hold a pipe open.
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open((dir_ + "/nsd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("nsd", "nsd", "-d", "-c", (dir_ + "/nsd.conf").c_str(), (char*)nullptr);
    _exit(127);
  }
  for (int i = 0; i < waitMs / 100; ++i) {
    if (!run(digCommand(port_, "+time=1 +short " + origin_ + " SOA") +
             " 2>/dev/null | grep -v '^;'")
             .empty())
      return true;
    usleep(100000);
  }
  return false;
}

std::string normalizedDig(int port, const std::string& q, bool answerOnly) {
  std::string out = dig(port, q);
  std::istringstream in(out);
  std::string line, keep;
  bool inAdditional = false;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind(";; Query time", 0) == 0 || line.rfind(";; SERVER", 0) == 0 ||
        line.rfind(";; WHEN", 0) == 0 || line.rfind(";; MSG SIZE", 0) == 0 ||
        line.rfind("; COOKIE", 0) == 0 || line.rfind("; <<>>", 0) == 0 ||
        line.rfind(";; global", 0) == 0 || line.rfind(";; Got answer", 0) == 0 ||
        line.rfind("; EDE", 0) == 0)
      continue;
    if (line.rfind(";; ->>HEADER", 0) == 0) line = line.substr(0, line.find(", id:"));
    if (answerOnly && line.rfind(";; flags", 0) == 0)
      line = line.substr(0, line.find("ADDITIONAL"));
    if (line.rfind(";; ADDITIONAL SECTION", 0) == 0) inAdditional = true;
    if (answerOnly && inAdditional) continue;
    keep += line + "\n";
  }
  return keep;
}

std::vector<std::string> sortedRecords(const std::string& digOutput) {
  std::vector<std::string> out;
  std::istringstream in(digOutput);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != ';') out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace manifold::testing
