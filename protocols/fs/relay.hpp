// One node's GET relayed into PUTs on other nodes as its body arrives, without holding the file:
// the repairer's copies (one target) and the router's COPY and MOVE (a file's replicas). The
// PUTs start once the GET's head is in (`start` checks it and names them); its body goes into
// each as it arrives, and the GET is paused while any PUT has more than `window` bytes unsent,
// so a file of any size passes through about window bytes per target. A GET that fails or ends
// short aborts the PUTs mid-body (the nodes drop their partial uploads: nginx writes to a
// temporary file first); a PUT that fails leaves the others going; the GET stops when none is
// left.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/fs/node_client.hpp"

namespace manifold::fs {

struct RelayOutcome {
  NodeReply head;           // the GET's status, lastModified, contentLength (status 0: none)
  bool whole = false;       // the GET's body came whole (as long as its Content-Length)
  bool started = false;     // `start` accepted the head
  std::vector<int> stored;  // by target, in the order `start` named them: the PUT's status
  uint64_t bytes = 0;       // body bytes relayed
};

// `start`: given the GET's head, adds the PUTs to make (node, request head ending in the blank
// line: Content-Length is the caller's); false relays nothing (the GET ends).
using RelayStart =
    std::function<bool(const NodeReply& head, std::vector<std::pair<int, std::string>>& puts)>;
void relayCopy(NodeClient& client, int from, std::string get, size_t window, RelayStart start,
               std::function<void(RelayOutcome&)> done);

}  // namespace manifold::fs
