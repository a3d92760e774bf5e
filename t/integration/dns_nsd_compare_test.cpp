// Tier: end-to-end against a reference — the same zone file served by Manifold and by NSD
// (Debian's nsd, minimal-responses on, one process, on loopback); `dig` answers compared line by
// line: flags, rcode, counts, every section. NSD is stopped by pid.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "t/integration/dns_test_util.hpp"
#include "t/integration/harness.hpp"

using namespace manifold::testing;

namespace {

std::string normalized(int port, const std::string& q, bool answerOnly = false) {
  std::string out = run("dig +norec +time=2 +tries=1 -p " + std::to_string(port) + " @127.0.0.1 " + q + " 2>&1");
  std::istringstream in(out);
  std::string line, keep;
  bool inAdditional = false;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind(";; Query time", 0) == 0 || line.rfind(";; SERVER", 0) == 0 ||
        line.rfind(";; WHEN", 0) == 0 || line.rfind(";; MSG SIZE", 0) == 0 || line.rfind("; COOKIE", 0) == 0 ||
        line.rfind("; <<>>", 0) == 0 || line.rfind(";; global", 0) == 0 || line.rfind(";; Got answer", 0) == 0 ||
        line.rfind("; EDE", 0) == 0)
      continue;
    if (line.rfind(";; ->>HEADER", 0) == 0) line = line.substr(0, line.find(", id:"));
    if (answerOnly && line.rfind(";; flags", 0) == 0) line = line.substr(0, line.find("ADDITIONAL"));
    if (line.rfind(";; ADDITIONAL SECTION", 0) == 0) inAdditional = true;
    if (answerOnly && inAdditional) continue;
    keep += line + "\n";
  }
  return keep;
}

}  // namespace

TEST(DnsNsdCompare, SameZoneSameAnswers) {
  if (run("command -v nsd").empty()) GTEST_SKIP() << "nsd is not installed (apt-get install nsd)";
  int port = freeDnsPort(), nsdPort = freeDnsPort();
  std::string zone = std::string(getcwd(nullptr, 0)) + "/etc/zones/example.com.zone";
  Instance m("[dns:main]\nlisten = 127.0.0.1:" + std::to_string(port) + "\nzones = example.com=" + zone + "\n");
  std::string dir = m.dir() + "/nsd";
  run("mkdir -p " + dir);
  writeFile(dir + "/nsd.conf", "server:\n  ip-address: 127.0.0.1@" + std::to_string(nsdPort) +
                                   "\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"" + dir +
                                   "\"\n  pidfile: \"" + dir + "/nsd.pid\"\n  database: \"\"\n  xfrdfile: \"" +
                                   dir + "/xfrd.state\"\n  zonelistfile: \"" + dir +
                                   "/zone.list\"\n  server-count: 1\n  rrl-ratelimit: 0\n  minimal-responses: yes\n"
                                   "  verbosity: 0\nremote-control:\n  control-enable: no\nzone:\n  name: example.com\n"
                                   "  zonefile: " + zone + "\n");
  ASSERT_TRUE(m.start()) << m.log();
  // NSD runs in the foreground (-d) with its output in a file (not our stdout: a leaked
  // process must never hold a pipe open), and is stopped by pid on every exit path.
  struct NsdProcess {
    pid_t pid = -1;
    ~NsdProcess() {
      if (pid <= 0) return;
      kill(pid, SIGTERM);
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(100000);
      if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
    }
  } nsd;
  nsd.pid = fork();
  if (nsd.pid == 0) {
    int fd = open((dir + "/nsd.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("nsd", "nsd", "-d", "-c", (dir + "/nsd.conf").c_str(), (char*)nullptr);
    _exit(127);
  }
  bool up = false;
  for (int i = 0; i < 50 && !up; ++i) {
    up = run("dig +short +time=1 +tries=1 -p " + std::to_string(nsdPort) + " @127.0.0.1 example.com SOA").find("2024010101") != std::string::npos;
    if (!up) usleep(100000);
  }
  ASSERT_TRUE(up) << "nsd did not answer: " << readFile(dir + "/nsd.out");
  for (std::string q : {"example.com SOA", "example.com NS", "example.com A", "example.com AAAA", "example.com TXT",
                        "example.com CAA", "www.example.com A", "alias.example.com A", "alias.example.com AAAA",
                        "nx.example.com A", "deep.nx.example.com MX", "b.c.example.com A", "c.example.com TXT",
                        "a.b.c.example.com A", "host.sub.example.com A", "sub.example.com NS", "sub.example.com A",
                        "ns.sub.example.com A", "txt.example.com TXT", "WwW.ExAmPlE.CoM A", "mail.example.com AAAA",
                        "outside.example.com A", "example.org A", "+noedns example.com A", "+tcp www.example.com A",
                        "4.3.2.1.example.com PTR", "example.com TYPE65000", "+bufsize=0 web.example.com A",
                        "ns2.example.com AAAA", "+noedns nx.example.com A"}) {
    EXPECT_EQ(normalized(port, q), normalized(nsdPort, q)) << q;
  }
  // NSD with minimal responses leaves out MX/SRV target addresses that we add: compare the rest.
  for (std::string q : {"example.com MX", "_sip._tcp.example.com SRV"})
    EXPECT_EQ(normalized(port, q, true), normalized(nsdPort, q, true)) << q;
  EXPECT_EQ(m.stop(), 0) << m.log();
}
