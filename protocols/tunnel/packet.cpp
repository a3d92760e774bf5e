#include "protocols/tunnel/packet.hpp"

namespace manifold::tunnel {

bool parseMessage(std::span<const uint8_t> in, Message& out) {
  if (in.size() < 8 || in.size() > kMaxMessageSize) return false;
  if (in[1] != 0 || in[2] != 0 || in[3] != 0) return false;
  out.bytes = in;
  out.index = loadLe32(in.data() + 4);
  out.counter = 0;
  switch (static_cast<MessageType>(in[0])) {
    case MessageType::Initiation:
      out.type = MessageType::Initiation;
      return in.size() == kInitiationSize;
    case MessageType::Response:
      out.type = MessageType::Response;
      return in.size() == kResponseSize;
    case MessageType::CookieReply:
      out.type = MessageType::CookieReply;
      return in.size() == kCookieReplySize;
    case MessageType::Data:
      out.type = MessageType::Data;
      if (in.size() < kMinDataSize) return false;
      out.counter = loadLe64(in.data() + data::kCounter);
      return true;
  }
  return false;
}

}  // namespace manifold::tunnel
