// Secondary zones, the worker half: transfers in, run by the one worker that runs instance tasks
// (WorkerRuntime::runsInstanceTasks), non-blocking on its loop (worker/connector.hpp), so its
// queries are answered meanwhile.
//
// Per zone: a second after start (and so after every reload) a check; then one exchange per
// refresh: a TCP connection to the primary, IXFR with our SOA when we serve a copy (AXFR when
// not), signed with the zone's TSIG key when configured; the reply (xfr_in.hpp) is
//   - the SOA alone (current): the copy's mtime is set to now (the expire clock restarts) and
//     the next check is in SOA refresh seconds;
//   - incremental: applied to the records we serve; full: taken as is. Either way the new copy is
//     written to secondary_dir (temp file, fsync, rename) and the master is asked to reload
//     (SIGHUP to our parent): every worker of the next generation serves the new copy, NOTIFY
//     goes to our own secondaries, and transfers out serve it;
//   - a failure (refused, TSIG, timeout, malformed): logged, retried in SOA retry seconds; once
//     the copy's last confirmation is older than SOA expire, a reload takes it out of service
//     (SERVFAIL).
// A NOTIFY accepted by any worker bumps the zone's counter in the shm region (secondary_zone.hpp),
// polled here every 0.5 s: the zone is checked at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/dns/secondary_zone.hpp"
#include "protocols/dns/xfr_in.hpp"
#include "shm/counters.hpp"
#include "worker/blocking_pool.hpp"
#include "worker/connector.hpp"
#include "worker/timer.hpp"

namespace manifold::dns {

class ZoneDb;

class SecondaryClient {
 public:
  // counters: the service's slot (kXfrIn, kXfrInFailed are used).
  SecondaryClient(WorkerRuntime& runtime, std::string title,
                  const std::vector<SecondaryZone>& zones, const ZoneDb& db,
                  SecondaryRegion* region, shm::CounterSlot counters);
  ~SecondaryClient();
  void start();
  void stop();

  struct Zone;

 private:
  friend class XfrReader;
  void check(Zone& z);
  void finish(Zone& z, bool ok, const std::string& why);
  void received(Zone& z);
  void installed(Zone& z, const XfrInParser& p, const std::vector<XfrRecord>& records, bool ok,
                 const std::string& why);
  // The copy written atomically (a pool thread: no loop state, no logging).
  static bool writeCopy(const SecondaryZone& cfg, const std::vector<XfrRecord>& records,
                        std::string& why);
  void poll();
  void askReload();

  WorkerRuntime& runtime_;
  std::string title_;
  const ZoneDb& db_;
  SecondaryRegion* region_;
  shm::CounterSlot counters_;
  Connector connector_;
  Timer poll_;
  std::vector<std::unique_ptr<Zone>> zones_;
  bool stopped_ = false;
  bool reloadAsked_ = false;
  double reloadAskedAt_ = 0;
  BlockingPool pool_;  // last: destroyed first, so no `done` runs on a half-destroyed client
};

}  // namespace manifold::dns
