#include "protocols/dns/secondary.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "protocols/dns/counters.hpp"
#include "protocols/dns/zone_db.hpp"
#include "worker/connection.hpp"
#include "worker/log.hpp"
#include "worker/runtime.hpp"

namespace manifold::dns {

namespace {

constexpr double kDefaultRetry = 5;      // before we know the zone's SOA
constexpr double kTransferTimeout = 60;  // without a byte from the primary
constexpr double kFirstCheck = 1;

uint64_t unixNow() { return static_cast<uint64_t>(::time(nullptr)); }

}  // namespace

struct SecondaryClient::Zone {
  const SecondaryZone* cfg;
  Timer timer;
  Connector::Id connecting = 0;
  Connection* conn = nullptr;
  std::unique_ptr<XfrInParser> parser;
  bool busy = false;
  bool loaded = false;  // a copy is served (this generation, or written since)
  XfrRecord soa;        // of the copy we serve
  double lastContact = 0;
  uint32_t notified = 0;  // last value of the region's counter seen
  unsigned attempt = 0;
  uint32_t servedSerial = 0;  // what this generation's workers serve (if cfg->loaded)
  size_t index = 0;           // in the config (and the shm region)
  Zone(const SecondaryZone* c, SecondaryClient* owner, struct ev_loop* loop)
      : cfg(c), timer(loop, [this, owner] { owner->check(*this); }) {}
};

// Reads the length-prefixed reply messages into the zone's parser.
class XfrReader : public ConnectionHandler {
 public:
  XfrReader(SecondaryClient& owner, SecondaryClient::Zone& z) : owner_(owner), z_(z) {}
  void onReadable(Connection& conn) override {
    for (;;) {
      std::string_view in = conn.pendingInput();
      if (in.size() < 2) return;
      size_t len = get16(reinterpret_cast<const uint8_t*>(in.data()));
      if (in.size() < 2 + len) return;
      XfrInParser::Status s = z_.parser->feed(reinterpret_cast<const uint8_t*>(in.data()) + 2, len);
      conn.consume(2 + len);
      if (s == XfrInParser::Status::More) continue;
      z_.conn = nullptr;
      conn.close();
      if (s == XfrInParser::Status::Done)
        owner_.received(z_);
      else
        owner_.finish(z_, false, z_.parser->error());
      return;
    }
  }
  void onClose(Connection&) override {
    if (z_.conn) {
      z_.conn = nullptr;
      owner_.finish(z_, false, "the primary closed the connection before the end");
    }
  }

 private:
  SecondaryClient& owner_;
  SecondaryClient::Zone& z_;
};

SecondaryClient::SecondaryClient(WorkerRuntime& runtime, std::string title,
                                 const std::vector<SecondaryZone>& zones, const ZoneDb& db,
                                 SecondaryRegion* region, shm::CounterSlot counters)
    : runtime_(runtime),
      title_(std::move(title)),
      db_(db),
      region_(region),
      counters_(counters),
      connector_(runtime),
      poll_(runtime.loop(), [this] { poll(); }),
      pool_(runtime.loop(), 1, 1) {
  for (size_t i = 0; i < zones.size(); ++i) {
    auto z = std::make_unique<Zone>(&zones[i], this, runtime.loop());
    z->index = i;
    z->loaded = zones[i].loaded;
    z->lastContact = zones[i].lastContact;
    if (region_) z->notified = region_->notified[i].load(std::memory_order_relaxed);
    for (size_t d = 0; d < db.zoneCount() && z->loaded; ++d) {
      if (db.zoneOrigin(d) != zones[i].origin) continue;
      ZoneDb::SoaRecord s = db.zoneSoa(d);
      z->soa = XfrRecord{std::string(s.owner), kTypeSoa, kClassIn, s.ttl, std::string(s.rdata)};
      z->servedSerial = soaSerial(z->soa.rdata);
    }
    zones_.push_back(std::move(z));
  }
}

SecondaryClient::~SecondaryClient() { stop(); }

void SecondaryClient::start() {
  // The first check waits a second: a transfer at once would make the master reload while its
  // generation is still starting.
  for (auto& z : zones_) z->timer.once(kFirstCheck);
  if (region_) poll_.repeat(0.5);
}

void SecondaryClient::stop() {
  stopped_ = true;
  poll_.stop();
  for (auto& z : zones_) {
    z->timer.stop();
    connector_.cancel(z->connecting);
    z->connecting = 0;
    if (Connection* c = std::exchange(z->conn, nullptr)) c->close();
  }
}

void SecondaryClient::poll() {
  // A generation that serves other copies than the ones on disk (its reload was refused, say
  // while the previous generation still drained) asks again (at most every 5 s).
  for (auto& z : zones_)
    if (z->loaded != z->cfg->loaded || (z->loaded && soaSerial(z->soa.rdata) != z->servedSerial))
      askReload();
  for (size_t i = 0; i < zones_.size(); ++i) {
    uint32_t n = region_->notified[i].load(std::memory_order_relaxed);
    if (n == zones_[i]->notified) continue;
    zones_[i]->notified = n;
    if (!zones_[i]->busy) zones_[i]->timer.once(0);
  }
}

void SecondaryClient::check(Zone& z) {
  if (stopped_ || z.busy) return;
  z.busy = true;
  unsigned attempt = ++z.attempt;
  ConnectOptions options;
  options.connectTimeout = 10;
  options.readTimeout = options.sendTimeout = kTransferTimeout;
  options.fresh = true;
  z.connecting = connector_.connect(
      reinterpret_cast<const sockaddr*>(&z.cfg->primary), z.cfg->primaryLen, options,
      [this, &z, attempt](const ConnectOutcome& out) -> std::unique_ptr<ConnectionHandler> {
        z.connecting = 0;
        if (z.attempt != attempt || stopped_) return nullptr;
        if (!out.connection) {
          finish(z, false, std::string("connect: ") + strerror(out.error));
          return nullptr;
        }
        uint16_t id = 0;
        if (getrandom(&id, sizeof id, 0) != sizeof id) id = static_cast<uint16_t>(random());
        std::string mac;
        uint64_t now = unixNow();
        // IXFR from the serial we serve (RFC 1995); AXFR when we serve nothing.
        uint32_t serial = soaSerial(z.soa.rdata);
        std::string req = xfrRequest(z.cfg->origin, z.loaded ? kTypeIxfr : kTypeAxfr, id,
                                     z.loaded ? &z.soa : nullptr, z.cfg->key, now, &mac);
        z.parser = std::make_unique<XfrInParser>(z.cfg->origin, id, z.cfg->key, mac, now,
                                                 z.loaded ? &serial : nullptr);
        uint8_t len[2];
        put16(len, static_cast<uint16_t>(req.size()));
        out.connection->output().append(reinterpret_cast<char*>(len), 2).append(req);
        z.conn = out.connection;
        return std::make_unique<XfrReader>(*this, z);
      });
}

void SecondaryClient::received(Zone& z) {
  if (z.parser->kind() == XfrInParser::Kind::UpToDate) {
    // Current: the expire clock restarts (the copy's mtime).
    z.lastContact = static_cast<double>(unixNow());
    ::utimensat(AT_FDCWD, z.cfg->path.c_str(), nullptr, 0);
    return finish(z, true, "");
  }
  // Building the new copy (the whole zone for an IXFR), its text, the write and the fsync take
  // long for a large zone: they run on a pool thread while this worker keeps answering. The
  // database is read-only and the parser is handed over, so the thread shares nothing mutable.
  struct Job {
    std::shared_ptr<XfrInParser> parser;
    std::vector<XfrRecord> records;
    std::string why;
    bool ok = false;
  };
  auto job = std::make_shared<Job>();
  job->parser = std::shared_ptr<XfrInParser>(std::move(z.parser));
  const SecondaryZone* cfg = z.cfg;
  XfrRecord soa = z.soa;
  auto work = [this, job, cfg, soa](const std::atomic<bool>&) {
    const XfrInParser& p = *job->parser;
    if (p.kind() == XfrInParser::Kind::Incremental) {
      for (size_t d = 0; d < db_.zoneCount(); ++d) {
        if (db_.zoneOrigin(d) != cfg->origin) continue;
        job->records.push_back(soa);
        db_.forEachRecord(
            d, [&](std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rd) {
              job->records.push_back(
                  XfrRecord{std::string(owner), type, kClassIn, ttl, std::string(rd)});
            });
      }
      if (!applyIxfr(job->records, p.records(), job->why)) {
        job->why = "IXFR: " + job->why;
        return;
      }
    } else {
      job->records = fullZone(p.records());
    }
    job->ok = writeCopy(*cfg, job->records, job->why);
  };
  auto done = [this, job, &z] { installed(z, *job->parser, job->records, job->ok, job->why); };
  if (!pool_.submit(work, done)) {  // the pool is busy or has no thread: do it here
    work(std::atomic<bool>(false));
    done();
  }
}

void SecondaryClient::installed(Zone& z, const XfrInParser& p,
                                const std::vector<XfrRecord>& records, bool ok,
                                const std::string& why) {
  if (!ok) return finish(z, false, why);
  counters_.inc(kXfrIn);
  if (region_) region_->transferred[z.index].store(unixNow(), std::memory_order_relaxed);
  LOG_NOTICE("[%s] secondary %s: serial %u transferred in from %s (%s, %zu records, %zu messages)",
             title_.c_str(), z.cfg->name.c_str(), p.serial(), z.cfg->primaryText.c_str(),
             p.kind() == XfrInParser::Kind::Incremental ? "IXFR" : "AXFR", records.size(),
             p.messages());
  for (const XfrRecord& r : records)
    if (r.type == kTypeSoa) z.soa = r;
  z.loaded = true;
  z.lastContact = static_cast<double>(unixNow());
  finish(z, true, "");
}

// The next generation loads the copies in every worker (secondary_zone.hpp). Asked again after
// a while if this generation still serves what it should not (a SIGHUP the master coalesced).
void SecondaryClient::askReload() {
  double now = runtime_.loopTime();
  if (reloadAsked_ && now - reloadAskedAt_ < 5) return;
  reloadAsked_ = true;
  reloadAskedAt_ = now;
  ::kill(getppid(), SIGHUP);
}

bool SecondaryClient::writeCopy(const SecondaryZone& cfg, const std::vector<XfrRecord>& records,
                                std::string& why) {
  std::string text = zoneText(cfg.origin, records);
  std::string tmp = cfg.path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = tmp + ": " + strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), cfg.path.c_str()) != 0) {
    why = cfg.path + ": " + strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

void SecondaryClient::finish(Zone& z, bool ok, const std::string& why) {
  z.busy = false;
  z.parser.reset();
  if (stopped_) return;
  SoaTimers t = soaTimers(z.soa.rdata);
  double refresh = t.refresh ? t.refresh : kDefaultRetry;
  double retry = t.retry ? t.retry : kDefaultRetry;
  if (ok) {
    if (z.loaded && (!z.cfg->loaded || soaSerial(z.soa.rdata) != z.servedSerial)) askReload();
    z.timer.once(std::max(1.0, refresh));
    return;
  }
  counters_.inc(kXfrInFailed);
  LOG_WARN("[%s] secondary %s: transfer from %s failed: %s (retry in %.0f s)", title_.c_str(),
           z.cfg->name.c_str(), z.cfg->primaryText.c_str(), why.c_str(), retry);
  // Past SOA expire without a confirmation: a reload takes the copy out of service.
  if (z.loaded && t.expire &&
      static_cast<double>(unixNow()) >= z.lastContact + static_cast<double>(t.expire)) {
    LOG_WARN("[%s] secondary %s: expired, no longer served", title_.c_str(), z.cfg->name.c_str());
    z.loaded = false;
  }
  if (!z.loaded && z.cfg->loaded) askReload();
  z.timer.once(std::max(1.0, retry));
}

}  // namespace manifold::dns
