#include "protocols/tracker/udp_handler.hpp"

#include "protocols/tracker/udp_packet.hpp"

namespace manifold::tracker {

size_t UdpHandler::onDatagram(const uint8_t* in, size_t len, const sockaddr* peer, socklen_t,
                              uint8_t* out, size_t cap) {
  t_.count(kUdpRequests);
  const net::PeerAddress client = net::peerAddress(peer);
  if (!client.family) return 0;
  UdpRequest req = parseUdpRequest({in, len}, t_.config().maxScrapeHashes);
  switch (req.kind) {
    case UdpParse::Drop:
      t_.count(kErrors);
      return 0;
    case UdpParse::Error:
      return error(out, cap, req.transactionId, req.error);
    default:
      break;
  }
  if (!t_.serves(familyOf(client)))
    return error(out, cap, req.transactionId, "address family not served");
  if (!t_.ready()) return error(out, cap, req.transactionId, "tracker unavailable");
  const uint32_t now = t_.now();
  if (req.kind == UdpParse::Connect) {
    t_.count(kConnects);
    return writeConnectResponse(out, cap, req.transactionId, t_.ids().make(client.bytes, now));
  }
  const uint64_t cid =
      req.kind == UdpParse::Announce ? req.announce.connectionId : req.scrape.connectionId;
  if (!t_.ids().valid(cid, client.bytes, now)) {
    t_.count(kBadConnectionIds);
    return error(out, cap, req.transactionId, "invalid connection id");
  }
  return req.kind == UdpParse::Announce ? announce(req, client, peer, out, cap)
                                        : scrape(req, out, cap);
}

// Stage 0: the torrent slot an announce or scrape (its first hash) will look up, usually a cache
// miss since the slot tables span the whole `max_torrents`. Stage 1, announces: the asking
// peer's home in the torrent's peer table and the slot the answer will start at.
void UdpHandler::prefetch(const uint8_t* in, size_t len, const sockaddr* peer, unsigned stage) {
  if (len < 36 || !t_.ready()) return;
  const uint32_t action = readBe32(in + 8);
  if (stage == 0) {
    if (action != static_cast<uint32_t>(UdpAction::Announce) &&
        action != static_cast<uint32_t>(UdpAction::Scrape))
      return;
    const uint64_t hash = t_.store().hashOf(in + 16);
    t_.store().prefetch(hash);
    if (action == static_cast<uint32_t>(UdpAction::Announce)) {
      if (Drawn* stale = drawnFor(in)) stale->in = nullptr;
      drawn_[drawnNext_++ % kDrawn] = {in, hash, 0};
    }
    return;
  }
  if (action != static_cast<uint32_t>(UdpAction::Announce) || len < kAnnounceBytes) return;
  const net::PeerAddress client = net::peerAddress(peer);
  if (!client.family) return;
  Drawn* d = drawnFor(in);
  if (!d) return;
  const uint16_t port = static_cast<uint16_t>(in[96] << 8 | in[97]);
  uint8_t key[18];
  Tracker::peerKey(client, port ? port : net::peerPort(peer), key);
  d->random = t_.random();
  t_.store().prefetchPeers(in + 16, d->hash, familyOf(client), key, d->random);
}

UdpHandler::Drawn* UdpHandler::drawnFor(const uint8_t* in) {
  for (Drawn& d : drawn_)
    if (d.in == in) return &d;
  return nullptr;
}

size_t UdpHandler::error(uint8_t* out, size_t cap, uint32_t tid, std::string_view why) {
  t_.count(kErrors);
  return writeErrorResponse(out, cap, tid, why);
}

size_t UdpHandler::announce(const UdpRequest& req, const net::PeerAddress& client,
                            const sockaddr* peer, uint8_t* out, size_t cap) {
  const UdpAnnounce& a = req.announce;
  if (!t_.admits(a.infoHash)) return error(out, cap, req.transactionId, "torrent not allowed");
  const Family f = familyOf(client);
  AnnounceInput in;
  in.infoHash = a.infoHash;
  in.event = a.event;
  in.seeder = a.left == 0;
  // Peers go straight after the 20-byte header: no more than the datagram holds.
  in.numWant =
      std::min<uint32_t>(t_.numWant(a.numWant), static_cast<uint32_t>((cap - 20) / kKeyBytes[f]));
  const uint16_t port = a.port ? a.port : net::peerPort(peer);
  if (port == 0) return error(out, cap, req.transactionId, "invalid port");  // never stored
  uint64_t random = 0;
  if (Drawn* d = drawnFor(a.infoHash - 16)) {
    in.hash = d->hash;
    random = d->random;
    d->in = nullptr;
  }
  AnnounceOutput res = t_.announce(in, client, port, out + 20, random ? random : t_.random());
  if (res.status == AnnounceStatus::Full)
    return error(out, cap, req.transactionId, "tracker is full");
  writeAnnounceHeader(out, cap, req.transactionId, t_.interval(), res.leechers, res.seeders);
  return 20 + size_t{res.peers} * kKeyBytes[f];
}

size_t UdpHandler::scrape(const UdpRequest& req, uint8_t* out, size_t cap) {
  t_.count(kScrapes);
  size_t n = writeScrapeHeader(out, cap, req.transactionId);
  for (size_t i = 0; i < req.scrape.count; ++i) {
    ScrapeCounts c = t_.scrape(req.scrape.hashes + i * kInfoHashBytes);
    const size_t w = writeScrapeEntry(out + n, cap - n, c.seeders, c.downloaded, c.leechers);
    if (!w) break;
    n += w;
  }
  return n;
}

}  // namespace manifold::tracker
