// manifold: command line. Run, check a config (-t), or signal a running master (-s).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "master/config.hpp"
#include "master/master.hpp"
#include "master/pidfile.hpp"
#include "protocols/service.hpp"
#include "worker/log.hpp"

// The Makefile passes etc/VERSION, the one place the version lives (the .deb uses it too).
#ifndef MANIFOLD_VERSION
#define MANIFOLD_VERSION "unknown"
#endif

namespace {

constexpr const char* kDefaultConfig = "/etc/manifold/manifold.ini";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: manifold [-c FILE] [-t] [-s reload|quit|stop|reopen] [-v|-V] [-h]\n"
               "  -c FILE   configuration file (default %s)\n"
               "  -t        check the configuration and exit\n"
               "  -s SIGNAL send a signal to the running master (pid from the pidfile):\n"
               "            reload (HUP), quit (QUIT, graceful), stop (TERM, fast), reopen (USR1)\n"
               "  -v        print the version and exit\n"
               "  -V        print the version and the build's features and exit\n",
               kDefaultConfig);
}

int signalMaster(const manifold::config::Config& config, const std::string& name) {
  int sig = name == "reload"   ? SIGHUP
            : name == "quit"   ? SIGQUIT
            : name == "stop"   ? SIGTERM
            : name == "reopen" ? SIGUSR1
                               : 0;
  if (!sig) {
    std::fprintf(stderr, "manifold: unknown signal \"%s\" (reload, quit, stop, reopen)\n",
                 name.c_str());
    return 2;
  }
  pid_t pid = manifold::readPidfile(config.master.pidfile);
  if (pid <= 0) {
    std::fprintf(stderr, "manifold: no pid in %s: is it running?\n", config.master.pidfile.c_str());
    return 1;
  }
  if (kill(pid, sig) != 0) {
    std::fprintf(stderr, "manifold: kill(%d, %s): %s\n", pid, name.c_str(), strerror(errno));
    return 1;
  }
  return 0;
}

// Features a packager or operator may need to know: the protocols compiled in. kTLS and HTTP/2
// join this line when they exist.
void printVersion(bool features) {
  std::printf("manifold %s\n", MANIFOLD_VERSION);
  if (!features) return;
  std::printf("compiler: %s (C++%ld)\nprotocols:", __VERSION__, __cplusplus / 100 % 100);
  for (const std::string& name : manifold::protocolNames()) std::printf(" %s", name.c_str());
  std::printf("\nfeatures: sendfile gzip webdav shm\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath = kDefaultConfig;
  std::string signalName;
  bool testOnly = false;
  int opt;
  while ((opt = getopt(argc, argv, "c:ts:vVh")) != -1) {
    switch (opt) {
      case 'c':
        configPath = optarg;
        break;
      case 't':
        testOnly = true;
        break;
      case 's':
        signalName = optarg;
        break;
      case 'v':
      case 'V':
        printVersion(opt == 'V');
        return 0;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }

  std::unique_ptr<manifold::config::Config> config;
  try {
    config = manifold::config::load(configPath);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "manifold: %s\n", e.what());
    if (testOnly)
      std::fprintf(stderr, "manifold: configuration file %s test failed\n", configPath.c_str());
    return 1;
  }
  if (testOnly) {
    std::printf("manifold: configuration file %s test is successful\n", configPath.c_str());
    return 0;
  }
  if (!signalName.empty()) return signalMaster(*config, signalName);

  manifold::log::Level level;
  if (manifold::log::parseLevel(config->master.logLevel, level)) manifold::log::setLevel(level);
  if (!manifold::log::open(config->master.errorLog)) {
    std::fprintf(stderr, "manifold: error_log %s: %s\n", config->master.errorLog.c_str(),
                 strerror(errno));
    return 1;
  }
  manifold::Master master(std::move(config));
  return master.run();
}
