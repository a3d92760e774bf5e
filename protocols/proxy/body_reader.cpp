#include "protocols/proxy/body_reader.hpp"

namespace manifold::proxy {

void BodyReader::begin(const ResponseHead& head) {
  framing = head.framing;
  remaining = framing == Framing::Length ? static_cast<uint64_t>(head.contentLength) : 0;
  chunked.reset();
}

BodyReader::Step BodyReader::read(Connection& conn, std::string* keep) {
  return read(conn, [keep](std::string_view data) {
    if (keep) keep->append(data);
  });
}

}  // namespace manifold::proxy
