// load(): the whole file read, typed and validated: [master], every service section through its
// protocol's parser, and listen-address conflicts across services.
#include "master/config.hpp"

#include <unistd.h>

#include <cctype>
#include <memory>

#include "master/shm_budget.hpp"

namespace manifold::config {
namespace {

void readMaster(SectionReader& r, MasterConfig& m) {
  // Default: auto, one worker per online CPU.
  std::string workers = r.text("workers", "auto");
  if (workers == "auto") {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    m.workers = static_cast<unsigned>(cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
  } else {
    std::string why;
    int64_t n = 0;
    if (!parseInteger(workers, n, why) || n < 1 || n > 256) {
      r.fail("workers", "expected auto or a number between 1 and 256");
    }
    m.workers = static_cast<unsigned>(n);
  }
  m.cpuAffinity = r.flag("cpu_affinity", false);
  m.pidfile = r.path("pidfile", "manifold.pid");
  m.daemon = r.flag("daemon", false);
  m.user = r.text("user", "");
  m.group = r.text("group", "");

  m.shmName = r.text("shm_name", "manifold");
  bool shmNameOk = !m.shmName.empty() && m.shmName.size() <= 32;
  for (char c : m.shmName) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') shmNameOk = false;
  }
  if (!shmNameOk) r.fail("shm_name", "expected 1-32 of A-Z a-z 0-9 _ -");

  m.shmSize = r.size("shm_size", 256ull << 20, 1ull << 20, 64ull << 30);
  m.shutdownTimeout = r.duration("shutdown_timeout", Millis(30000), Millis(0), Millis(3600000));

  std::string errorLog = r.text("error_log", "stderr");
  m.errorLog = errorLog.empty() || errorLog == "stderr" ? "stderr" : absolutePath(errorLog);

  m.logLevel = r.choice("log_level", "info", {"debug", "info", "notice", "warn", "error", "crit"});
  m.workerRlimitNofile = static_cast<uint64_t>(r.integer("worker_rlimit_nofile", 0, 0, 16ll << 20));
  m.workerConnections = static_cast<unsigned>(r.integer("worker_connections", 16384, 16, 1 << 22));
  m.respawnDelayMax = r.duration("respawn_delay_max", Millis(5000), Millis(0), Millis(3600000));
  m.crashLoopLimit = static_cast<unsigned>(r.integer("crash_loop_limit", 5, 1, 1000));
  m.crashLoopWindow = r.duration("crash_loop_window", Millis(10000), Millis(1000), Millis(3600000));
  r.finish();
}

std::string knownProtocols() {
  std::string known;
  for (const std::string& name : protocolNames()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  return known.empty() ? "none" : known;
}

// Two sockets of one transport on overlapping addresses could not both be bound.
void checkListenConflicts(const IniFile& ini, const Config& cfg,
                          const std::vector<const Section*>& sectionOf) {
  struct Seen {
    ListenRequest request;
    const ServiceConfig* service;
  };
  std::vector<Seen> seen;
  for (size_t i = 0; i < cfg.services.size(); ++i) {
    const ServiceConfig& service = *cfg.services[i];
    for (ListenRequest request : service.listeners()) {
      if (request.line <= 0) request.line = sectionOf[i]->line;
      for (const Seen& other : seen) {
        // Services of one share group (HTTP virtual servers) multiplex the exact same address.
        std::string group = service.listenShareGroup();
        if (!group.empty() && group == other.service->listenShareGroup() &&
            other.request.address == request.address &&
            other.request.address.tls == request.address.tls &&
            other.request.transport == request.transport)
          continue;
        if (other.request.transport == request.transport &&
            other.request.address.overlaps(request.address)) {
          throw ConfigError(ini.path, request.line, "listen",
                            "conflicts with " + other.request.address.text + " in [" +
                                other.service->title() + "] at line " +
                                std::to_string(other.request.line));
        }
      }
      seen.push_back(Seen{std::move(request), &service});
    }
  }
}

}  // namespace

Config::~Config() = default;

std::unique_ptr<Config> load(const std::string& path) {
  IniFile ini = readIni(path);
  auto cfg = std::make_unique<Config>();
  cfg->path = absolutePath(path);

  static const Section kEmptyMaster{"master", "master", "", 0, {}};
  const Section* master = &kEmptyMaster;
  for (const Section& section : ini.sections) {
    if (section.kind == "master") master = &section;
  }
  SectionReader masterReader(ini, *master);
  readMaster(masterReader, cfg->master);

  std::vector<const Section*> sectionOf;
  for (const Section& section : ini.sections) {
    if (section.kind == "master") continue;
    ProtocolParser parse = findProtocol(section.kind);
    if (!parse) {
      throw ConfigError(
          ini.path, section.line, "",
          "unknown section kind '" + section.kind + "' (known: " + knownProtocols() + ")");
    }
    SectionReader reader(ini, section);
    std::unique_ptr<ServiceConfig> service = parse(reader);
    if (!service) {
      throw ConfigError(ini.path, section.line, "",
                        "protocol '" + section.kind + "' returned no configuration");
    }
    service->protocol = section.kind;
    service->name = section.name;
    service->workerSlots = cfg->master.workers * kStatsSlotsPerWorker;
    reader.finish();
    cfg->services.push_back(std::move(service));
    sectionOf.push_back(&section);
  }
  checkListenConflicts(ini, *cfg, sectionOf);
  checkShmBudget(*cfg, ini.path, masterReader.lineOf("shm_size"));
  return cfg;
}

}  // namespace manifold::config
