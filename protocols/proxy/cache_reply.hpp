// Answers a request from a stored object: the whole object, HEAD, a 304 to the client's own
// conditional request, a 206 (one range, or multipart/byteranges) or a 416, each with Age and
// (when enabled) X-Cache. The stored head is written once with the client's HTTP version.
#pragma once

#include <memory>
#include <string_view>

#include "protocols/http/server.hpp"
#include "protocols/proxy/cache_store.hpp"

namespace manifold::proxy {

// `body`: the body when it is in memory; otherwise `file` (the disk tier's file, the body at
// meta.bodyOffset) is sent with sendfile. `label`: the X-Cache value, empty for none. `req`: the
// request whose conditionals and Range apply, or nullptr for the whole object (a deferred
// exchange, whose request views are gone by then). Returns the status sent. Completes nothing:
// the caller finishes a deferred exchange.
int replyFromCache(http::Exchange& ex, const ObjectMeta& meta, std::string_view head,
                   std::string_view body, const std::shared_ptr<OpenFile>& file, int64_t now,
                   std::string_view label, const http::Request* req);

}  // namespace manifold::proxy
