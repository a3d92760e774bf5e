// libFuzzer target: the DNS query parser and the whole answer path over a small compiled zone
// (wildcards included).
// Whatever the bytes, parsing must not read outside the input, and an answer must fit the limit
// and start with the query's ID. The LRRR answer path (lrrr.hpp) and the zone transfer answer
// (transfer.hpp: AXFR/IXFR, the IXFR SOA in the authority section) run on the same query.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "protocols/dns/lrrr.hpp"
#include "protocols/dns/message.hpp"
#include "protocols/dns/transfer.hpp"
#include "protocols/dns/zone_db.hpp"
#include "t/fuzz/check.hpp"

using namespace manifold::dns;

namespace {

const ZoneDb& db() {
  static std::unique_ptr<ZoneDb> instance = [] {
    const char* path = "/tmp/manifold-fuzz-dns.zone";
    std::ofstream(path)
        << "$ORIGIN example.com.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n@ MX 10 mail\n"
           "ns A 192.0.2.53\nmail A 192.0.2.25\nwww CNAME web\nweb A 192.0.2.80\n"
           "web AAAA 2001:db8::80\nsub NS ns.sub\nns.sub A 192.0.2.1\nt TXT \"x\" \"y\"\n"
           "loop CNAME loop2\nloop2 CNAME loop\n* A 192.0.2.9\n*.w CNAME x.w2\n"
           "*.w2 TXT \"w\"\n*.sub A 192.0.2.99\na.b A 192.0.2.7\n";
    auto d = std::make_unique<ZoneDb>();
    std::string err;
    std::vector<Pool> pools(1);
    pools[0].name = std::string("\4pool\7example\3com\0", 18);
    PoolVariant v;
    PoolAddress a;
    a.bytes[0] = 10;
    v.levels.push_back({a});
    pools[0].variants.push_back(v);
    if (!d->load({std::string("example.com=") + path}, err) || !d->addPools(pools, {}, err))
      __builtin_trap();
    d->finish();
    return d;
  }();
  return *instance;
}

// LRRR for www.example.com, this site left (no cache: the decision path without shm).
const Lrrr& lrrr() {
  static Lrrr instance = [] {
    LrrrName n;
    n.name = std::string("\3www\7example\3com\0", 17);
    n.measure[0] = std::string("\3lrl\3www\7example\3com\0", 21);
    n.measure[1] = std::string("\3lrr\3www\7example\3com\0", 21);
    n.addrs[0][0].push_back({10, 0, 0, 1});
    n.addrs[1][1].push_back({0x20, 0x01});
    return Lrrr({n});
  }();
  return instance;
}

// Transfers of that zone open to everybody, images built and in their file.
const Transfers& transfers() {
  static std::unique_ptr<Transfers> instance = [] {
    auto t = std::make_unique<Transfers>();
    manifold::net::Cidr any;
    if (!manifold::net::parseCidr("0.0.0.0/0", any)) __builtin_trap();
    t->allow = {any};
    std::string err;
    if (!t->build(db(), true, err) || !t->openFile(err)) __builtin_trap();
    return t;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in(data, data + size);  // exact-size copy: ASan sees any overread
  Query q;
  QueryStatus st = parseQuery(in.data(), in.size(), q);
  std::vector<uint8_t> out(65535);
  if (st == QueryStatus::Ok) {
    check(q.questionEnd <= size && q.qnameLength <= kMaxName);
    uint64_t rotation = 0;
    for (size_t limit : {size_t{512}, size_t{1232}, size_t{65535}}) {
      AnswerContext ctx;
      ctx.rotation = &rotation;
      AnswerInfo info;
      size_t n = db().answer(q, ctx, out.data(), limit, info);
      check(n <= limit);
      if (n) check(get16(out.data()) == q.id && (out[2] & 0x80));
      sockaddr_in peer{};
      peer.sin_family = AF_INET;
      uint64_t counters[kLrrrCounterCount] = {};
      n = lrrr().answer(q, reinterpret_cast<sockaddr*>(&peer), nullptr, out.data(), limit, info,
                        counters);
      check(n <= limit);
      if (n) check(get16(out.data()) == q.id && (out[2] & 0x80));
      for (bool udp : {true, false}) {
        const ZoneTransfer* stream = nullptr;
        TransferOutcome o = transfers().answer(q, reinterpret_cast<sockaddr*>(&peer), udp,
                                               out.data(), limit, n, stream);
        check(n <= limit && (!stream || (!udp && o == TransferOutcome::Served)));
        if (n) check(get16(out.data()) == q.id && (out[2] & 0x80));
        if (o != TransferOutcome::NotTransfer) check(n > 0 || limit < 64);
      }
    }
  } else if (st != QueryStatus::Drop) {
    size_t n = writeErrorReply(in.data(), in.size(), q, 1, out.data(), 512);
    check(n <= 512);
  }
  return 0;
}
