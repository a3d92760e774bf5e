// One COPY or MOVE through the router (RFC 4918 9.8, 9.9). Placement follows the path, so the
// destination's replicas are other nodes than the source's: the router copies, node to node.
//  1. The source, the destination and the destination's parent are looked up with PROPFIND
//     Depth 0 on every node of their stage (404 source; 412 with Overwrite F and an existing
//     destination; 409 without the parent). An existing destination that is a collection, or
//     that a collection replaces, is deleted first, as a client's DELETE of it (below).
//  2. A file: read from its best available replica (the GET's fail-over order: another copy on
//     an error or a 404), relayed into PUTs on the destination's replicas with the router's Date
//     (relay.hpp: bounded memory, any size). A replica that fails is replaced by the next
//     hand-off node (its hint written first) and the file read again for it; the copy counts
//     once write_quorum replicas hold it.
//  3. A collection (Depth infinity): the source is walked folder by folder (PROPFIND Depth 1 on
//     every node of its stage, merged), the destination's collections made (MKCOL on every node
//     of its stage, parents first), then each file copied as above, four at a time. Depth 0
//     makes the collection only.
//  4. MOVE: each file's source is deleted once its copy counts, as DELETE does (a tombstone with
//     the router's Date, then DELETE, on every node of its stage), so a node that was down does
//     not bring it back; the source collection goes last, only when every member moved and
//     every node listed it.
// A DELETE of a collection is a MOVE without copies: the walk, each file's tombstone and
// DELETE, then the collection's DELETE; 204, or 207 naming the files that stay.
// A member that fails is named in a 207 (its source left in place); a single file that fails is
// a 502/503 and its source is left in place. The client leaving does not stop the transfer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocols/fs/destination.hpp"
#include "protocols/fs/node_client.hpp"
#include "protocols/fs/relay.hpp"
#include "protocols/http/date.hpp"
#include "protocols/http/server.hpp"

namespace manifold::fs {

class FsService;

class Transfer : public std::enable_shared_from_this<Transfer> {
 public:
  // The request, copied out of the client's (its views do not outlive the head).
  struct Order {
    bool move = false;
    // A DELETE of a collection: each file under it deleted as a file's DELETE is (its own
    // tombstone, so a node that was down does not bring it back), then the collection.
    bool remove = false;
    Depth depth = Depth::Infinity;
    bool overwrite = true;
    std::string source, destination;  // paths on the nodes, with their stages
    std::string location;             // the destination named no stage: its full path
    std::string host;                 // the client's Host (the cache's key)
  };
  Transfer(FsService& service, NodeClient& client, http::Exchange& ex, Order order);
  // One run inside another (the DELETE of a collection that a COPY or MOVE replaces): `done`
  // gets the status a client would have.
  Transfer(FsService& service, NodeClient& client, Order order, std::function<void(int)> done);
  void start();
  void clientGone() { ex_ = nullptr; }

 private:
  // What the nodes of a stage say of a path, from the least to the most telling answer.
  enum class Found : unsigned char { Unreachable, Unknown, Absent, File, Collection };
  using Step = std::function<void()>;
  struct Failure {
    std::string path;
    int status;
  };
  struct FileCopy;

  void probe(const std::string& path, std::function<void(Found)> done);
  static int unknown(Found found);  // the answer when a look-up found nothing telling
  void lookedUp(Found source);
  void destinationFound(Found found);
  void clearDestination(Step next);
  void copyOne();
  void walk();
  void makeCollections(size_t next);
  void runMembers();
  void memberCopied(size_t i, int status);
  void memberRemoved(size_t i, bool ok);
  void copyFile(const std::string& from, const std::string& to,
                std::function<void(int status)> done);
  void copyRound(std::shared_ptr<FileCopy> c);
  void copied(std::shared_ptr<FileCopy> c, RelayOutcome& o);
  void removeFile(const std::string& path, std::function<void(bool)> done);
  // One request to every node of the path's stage; `done` gets their answers, in node order.
  void everyNode(const std::string& path, std::function<std::string(int node)> build,
                 std::function<void(std::vector<NodeReply>&)> done, size_t maxBody = 1 << 16);
  std::string destinationOf(const std::string& source) const;
  void finishCollection();
  void answer(int status);
  std::string request(std::string_view method, std::string_view target, int node) const;
  bool available(int node) const;
  const std::vector<int>& stageNodes(const std::string& path) const;

  FsService& service_;
  NodeClient& client_;
  http::Exchange* ex_;
  std::function<void(int)> done_;  // instead of ex_, for a run inside another
  Order order_;
  char date_[http::kHttpDateLength];  // the router's Date for every copy and tombstone
  bool existed_ = false;              // the destination existed (204, not 201)
  Found source_ = Found::Unknown, destination_ = Found::Unknown;
  // The walk: source paths, parents first; folders_ listed so far.
  std::vector<std::string> folders_, files_;
  size_t walked_ = 0;
  // A node failed a folder's listing (or listed what cannot be placed): the source stays.
  bool unlisted_ = false;
  // The destination stage's root was made, before its first collection.
  bool rootMade_ = false;
  // A file found no destination node available: no more members are started.
  bool stalled_ = false;
  // Members started, still running, and the end of them reached.
  size_t nextMember_ = 0, membersInFlight_ = 0;
  bool membersDone_ = false;
  std::vector<Failure> failures_;
  uint64_t filesCopied_ = 0;  // not yet counted
};

}  // namespace manifold::fs
