// An upstream response body as it arrives on a connection, by its framing (Content-Length,
// chunked, until the close, none): the one loop behind the relay's streaming and the fs
// router's node client and fan-out. It consumes from the connection's input what belongs to
// the body and hands the body bytes (chunked coding removed) to a sink; bytes past the body's
// end stay unread (the caller's connection is then not reusable).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http/chunked.hpp"
#include "protocols/proxy/response.hpp"
#include "worker/connection.hpp"

namespace manifold::proxy {

struct BodyReader {
  enum Step : uint8_t { More, Done, Error };
  Framing framing = Framing::None;
  uint64_t remaining = 0;  // Length framing: body bytes still to come
  http::ChunkedDecoder chunked;

  void begin(const ResponseHead& head);
  // Consumes what arrived; sink(std::string_view) gets the body bytes. A Close-framed body
  // never ends here (the close ends it).
  template <class Sink>
  Step read(Connection& conn, Sink&& sink);
  // The same, keeping the bytes in `keep` when not null.
  Step read(Connection& conn, std::string* keep);
};

template <class Sink>
BodyReader::Step BodyReader::read(Connection& conn, Sink&& sink) {
  std::string_view input = conn.pendingInput();
  switch (framing) {
    case Framing::None:
      return Done;
    case Framing::Length: {
      size_t n = std::min<uint64_t>(input.size(), remaining);
      sink(input.substr(0, n));
      conn.consume(n);
      remaining -= n;
      return remaining == 0 ? Done : More;
    }
    case Framing::Chunked:
      while (!input.empty()) {
        size_t used = 0;
        std::string_view data;
        auto st = chunked.feed(input, used, data);
        input.remove_prefix(used);
        conn.consume(used);
        if (!data.empty()) sink(data);
        if (st == http::ChunkedDecoder::Status::Error) return Error;
        if (st == http::ChunkedDecoder::Status::Done) return Done;
        if (used == 0) break;
      }
      return More;
    case Framing::Close:
      sink(input);
      conn.consume(input.size());
      return More;
  }
  return Error;
}

}  // namespace manifold::proxy
