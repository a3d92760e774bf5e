#include "t/integration/lib/harness.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "shm/segment.hpp"
#include "shm/stats.hpp"

namespace manifold::testing {

namespace {
double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}
std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}
}  // namespace

int freePort(bool udp) {
  int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int freePortAnyProtocol() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int port = freePort(true);
    bool ok = true;
    for (int family : {AF_INET, AF_INET6}) {
      for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
        int fd = socket(family, type, 0);
        sockaddr_storage ss{};
        socklen_t len;
        if (family == AF_INET) {
          auto* a = reinterpret_cast<sockaddr_in*>(&ss);
          a->sin_family = AF_INET;
          a->sin_port = htons(static_cast<uint16_t>(port));
          a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          len = sizeof *a;
        } else {
          auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
          a->sin6_family = AF_INET6;
          a->sin6_port = htons(static_cast<uint16_t>(port));
          a->sin6_addr = in6addr_loopback;
          len = sizeof *a;
        }
        // A host without IPv6 loopback cannot collide there.
        if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EADDRNOTAVAIL)
          ok = false;
        close(fd);
      }
    }
    if (ok) return port;
  }
  return freePort(true);
}

bool makeTestCertificate(const std::string& dir) {
  int rc = 0;
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + dir +
          "/a.key -out " + dir +
          "/a.crt -days 30 -subj /CN=a.test -addext subjectAltName=DNS:a.test 2>&1",
      &rc);
  return rc == 0;
}

std::string makeTempDir() {
  char name[] = "/tmp/manifold-test-XXXXXX";
  return mkdtemp(name) ? std::string(name) : std::string();
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool fileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string run(const std::string& command, int* rc) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    if (rc) *rc = -1;
    return output;
  }
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

std::string rawExchange(int port, const std::string& request, int timeoutMs, bool halfClose) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return response;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += n;
  }
  if (halfClose) shutdown(fd, SHUT_WR);
  double deadline = nowMs() + timeoutMs;
  char buffer[65536];
  while (nowMs() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(deadline - nowMs())) <= 0) break;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, n);
  }
  close(fd);
  return response;
}

std::string HttpResponse::header(const std::string& name) const {
  std::istringstream lines(headers);
  std::string line;
  while (std::getline(lines, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon != name.size()) continue;
    if (strncasecmp(line.c_str(), name.c_str(), name.size()) != 0) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    return value;
  }
  return "";
}

HttpResponse curl(int port, const std::string& path, const std::string& extraArgs) {
  std::string command = "curl -s -i --max-time 10 " + extraArgs +
                        " 'http://127.0.0.1:" + std::to_string(port) + path + "'";
  std::string raw = run(command);
  HttpResponse response;
  // Skip interim 1xx heads.
  size_t start = 0;
  while (true) {
    size_t end = raw.find("\r\n\r\n", start);
    if (end == std::string::npos) break;
    std::string head = raw.substr(start, end - start);
    int status = 0;
    sscanf(head.c_str(), "HTTP/%*s %d", &status);
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    response.status = status;
    response.headers = head;
    response.body = raw.substr(end + 4);
    break;
  }
  return response;
}

std::string binPath(const std::string& name) {
  char cwd[4096];
  return std::string(getcwd(cwd, sizeof cwd) ? cwd : ".") + "/bin/" + name;
}

Instance::Instance(const std::string& services, const std::string& masterExtra, unsigned workers)
    : workers_(workers) {
  dir_ = makeTempDir();
  configPath_ = dir_ + "/manifold.ini";
  logPath_ = dir_ + "/error.log";
  shmName_ = "t" + std::to_string(getpid()) + "_" + std::to_string(rand() % 100000);
  writeFile(configPath_, render(services, masterExtra));
}

Instance::~Instance() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    for (pid_t worker : workerPids()) kill(worker, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  run("rm -f /dev/shm/manifold." + shmName_);
  run("rm -rf " + dir_);
}

std::string Instance::render(const std::string& services, const std::string& masterExtra) {
  services_ = services;
  masterExtra_ = masterExtra;
  std::string config =
      "[master]\nworkers = " + std::to_string(workers_) + "\npidfile = " + dir_ +
      "/manifold.pid\nshm_name = " + shmName_ + "\nshm_size = 512M\nerror_log = " + logPath_ +
      "\nlog_level = info\nshutdown_timeout = 10s\n" + masterExtra + "\n" + services;
  config = replaceAll(config, "{dir}", dir_);
  const std::string open = "{port:";
  for (size_t at = config.find(open); at != std::string::npos; at = config.find(open, at)) {
    size_t end = config.find('}', at);
    if (end == std::string::npos) break;
    std::string name = config.substr(at + open.size(), end - at - open.size());
    int& port = ports_[name];
    if (port == 0) port = freePortAnyProtocol();
    std::string text = std::to_string(port);
    config.replace(at, end + 1 - at, text);
    at += text.size();
  }
  return config;
}

int Instance::port(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? 0 : it->second;
}

void Instance::rewriteConfig(const std::string& services, const std::string& masterExtra) {
  writeFile(configPath_ + ".new", render(services, masterExtra));
  rename((configPath_ + ".new").c_str(), configPath_.c_str());
}

bool Instance::start(int waitMs) {
  for (int attempt = 1;; ++attempt) {
    if (launchAndWait(waitMs)) return true;
    // Only a port picked for {port:NAME} that someone took meanwhile is worth another try.
    if (pid_ > 0 || ports_.empty() || attempt == 5 ||
        log().find("Address already in use") == std::string::npos)
      return false;
    for (auto& [name, port] : ports_) port = freePortAnyProtocol();
    rewriteConfig(services_, masterExtra_);
    writeFile(logPath_, "");
  }
}

bool Instance::launchAndWait(int waitMs) {
  segment_.reset();  // a previous run's segment is gone
  pid_ = fork();
  if (pid_ == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (!netns_.empty()) {
      int ns = open(("/var/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
    }
    std::string bin = binPath("manifold");
    execl(bin.c_str(), "manifold", "-c", configPath_.c_str(), nullptr);
    _exit(127);
  }
  return waitForGeneration(1, waitMs);
}

unsigned Instance::readyWorkers(uint64_t generation) {
  if (!segment_) {
    try {
      segment_ = shm::Segment::attach(shmName_, true);
    } catch (const std::exception&) {
      return 0;  // not created (or not sized) yet
    }
  }
  if (segment_->header().masterPid.load() != pid_) {  // a killed master's leftover: not ours
    segment_.reset();
    return 0;
  }
  const auto* stats = shm::StatsRegion::at(segment_->findRegion("stats"));
  if (!stats) return 0;
  unsigned ready = 0;
  for (unsigned slot = 0; slot < stats->slotCount(); ++slot) {
    const shm::WorkerInfo info = stats->readWorker(slot);
    if (info.generation == generation && info.state == shm::kWorkerReady) ++ready;
  }
  return ready;
}

bool Instance::waitForGeneration(uint64_t number, int waitMs) {
  return waitUntil([&] { return readyWorkers(number) >= workers_; }, waitMs);
}

bool Instance::waitForLog(const std::string& needle, int waitMs, size_t occurrences) {
  return waitUntil(
      [&] {
        std::string text = log();
        size_t count = 0;
        for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
          ++count;
        return count >= occurrences;
      },
      waitMs);
}

bool Instance::waitUntil(const std::function<bool()>& done, int waitMs) {
  double deadline = nowMs() + waitMs;
  while (nowMs() < deadline) {
    if (done()) return true;
    int status;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Instance::signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int Instance::stop(int waitMs) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGQUIT);
  double deadline = nowMs() + waitMs;
  int status = 0;
  while (nowMs() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::vector<pid_t> Instance::workerPids() const {
  std::vector<pid_t> pids;
  if (pid_ <= 0) return pids;
  std::string children =
      readFile("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
  std::istringstream in(children);
  pid_t child;
  while (in >> child) pids.push_back(child);
  return pids;
}

std::string Instance::log() const { return readFile(logPath_); }

// ---- time ----

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

bool pollUntil(const std::function<bool()>& condition, int waitMs, int stepMs) {
  auto start = Clock::now();
  while (!condition()) {
    if (msSince(start) >= waitMs) return condition();
    sleepMs(stepMs);
  }
  return true;
}

// ---- processes ----

Background::Background(const std::string& command, const std::string& stdoutPath) {
  std::string script = "exec " + command + (stdoutPath.empty() ? "" : " > " + stdoutPath);
  pid_ = fork();
  if (pid_ == 0) {
    execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
    _exit(127);
  }
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

int Background::wait(int waitMs) {
  auto start = Clock::now();
  while (true) {
    if (pid_ <= 0) return status_;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = status;
      return status;
    }
    if (msSince(start) >= waitMs) return -1;
    sleepMs(10);
  }
}

bool Background::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t rc = waitpid(pid_, &status, WNOHANG);
  if (rc == 0) return true;
  if (rc == pid_) {
    pid_ = -1;
    status_ = status;
  }
  return false;
}

void reloadRepeatedly(Instance& m, int times, int gapMs) {
  sleepMs(gapMs);
  for (int i = 0; i < times; ++i) {
    m.signal(SIGHUP);
    sleepMs(gapMs);
  }
}

}  // namespace manifold::testing
