// Tier: unit — TFTP packet parser and builders (RFC 1350, 2347-2349, 7440).
#include <gtest/gtest.h>

#include <string>

#include "protocols/tftp/packet.hpp"

using namespace manifold::tftp;

namespace {

std::string bytes(std::initializer_list<std::string> parts) {
  std::string out;
  for (auto& p : parts) out += p;
  return out;
}
const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
std::string z(const std::string& s) { return s + std::string(1, '\0'); }

}  // namespace

TEST(TftpPacket, ParsesPlainReadRequest) {
  std::string p = bytes({std::string("\0\1", 2), z("boot/pxelinux.0"), z("octet")});
  Request r;
  ASSERT_EQ(parseRequest(u8(p), p.size(), r), ParseResult::Ok);
  EXPECT_EQ(r.opcode, Opcode::Rrq);
  EXPECT_EQ(r.filename, "boot/pxelinux.0");
  EXPECT_EQ(r.mode, Mode::Octet);
  EXPECT_FALSE(r.options.any());
}

TEST(TftpPacket, ParsesWriteRequestWithOptionsCaseInsensitively) {
  std::string p =
      bytes({std::string("\0\2", 2), z("f"), z("NetASCII"), z("BLKSIZE"), z("1428"), z("Timeout"),
             z("3"), z("tsize"), z("12345"), z("windowSIZE"), z("16"), z("unknown"), z("x")});
  Request r;
  ASSERT_EQ(parseRequest(u8(p), p.size(), r), ParseResult::Ok);
  EXPECT_EQ(r.opcode, Opcode::Wrq);
  EXPECT_EQ(r.mode, Mode::Netascii);
  EXPECT_TRUE(r.options.hasBlksize);
  EXPECT_EQ(r.options.blksize, 1428u);
  EXPECT_EQ(r.options.timeout, 3u);
  EXPECT_EQ(r.options.tsize, 12345u);
  EXPECT_EQ(r.options.windowsize, 16u);
}

TEST(TftpPacket, IgnoresOutOfRangeAndMalformedOptionValues) {
  std::string p =
      bytes({std::string("\0\1", 2), z("f"), z("octet"), z("blksize"), z("7"), z("timeout"),
             z("256"), z("windowsize"), z("0"), z("tsize"), z("-1"), z("blksize"), z("65465")});
  Request r;
  ASSERT_EQ(parseRequest(u8(p), p.size(), r), ParseResult::Ok);
  EXPECT_FALSE(r.options.any());
}

TEST(TftpPacket, FirstOfRepeatedOptionWinsAndDanglingNameIsIgnored) {
  std::string p = bytes({std::string("\0\1", 2), z("f"), z("octet"), z("blksize"), z("1024"),
                         z("blksize"), z("2048"), "windowsize"});
  Request r;
  ASSERT_EQ(parseRequest(u8(p), p.size(), r), ParseResult::Ok);
  EXPECT_EQ(r.options.blksize, 1024u);
  EXPECT_FALSE(r.options.hasWindowsize);
}

TEST(TftpPacket, RefusesMalformedRequests) {
  Request r;
  auto parse = [&](const std::string& p) { return parseRequest(u8(p), p.size(), r); };
  EXPECT_EQ(parse(std::string("\0", 1)), ParseResult::Malformed);
  EXPECT_EQ(parse(std::string("\0\1file", 6)), ParseResult::Malformed);  // no NUL
  EXPECT_EQ(parse(bytes({std::string("\0\1", 2), z("file"), "octet"})), ParseResult::Malformed);
  EXPECT_EQ(parse(bytes({std::string("\0\1", 2), z(""), z("octet")})), ParseResult::Malformed);
  EXPECT_EQ(parse(bytes({std::string("\0\1", 2), z("f"), z("mail")})), ParseResult::BadMode);
  EXPECT_EQ(parse(bytes({std::string("\0\11", 2), z("f"), z("octet")})), ParseResult::Malformed);
  EXPECT_EQ(parse(std::string("\0\4\0\1", 4)), ParseResult::NotARequest);
  EXPECT_EQ(
      parse(bytes({std::string("\0\1", 2), z(std::string(kMaxFilename + 1, 'a')), z("octet")})),
      ParseResult::Malformed);
}

TEST(TftpPacket, ParsesDataAckError) {
  Packet p;
  std::string data(
      "\0\3\xff\xfe"
      "abc",
      7);
  ASSERT_TRUE(parsePacket(u8(data), data.size(), p));
  EXPECT_EQ(p.opcode, Opcode::Data);
  EXPECT_EQ(p.number, 0xfffe);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.payload), p.payloadLen), "abc");
  std::string ack("\0\4\0\0", 4);
  ASSERT_TRUE(parsePacket(u8(ack), ack.size(), p));
  EXPECT_EQ(p.opcode, Opcode::Ack);
  EXPECT_EQ(p.number, 0);
  std::string err = bytes({std::string("\0\5\0\1", 4), z("nope"), "junk"});
  ASSERT_TRUE(parsePacket(u8(err), err.size(), p));
  EXPECT_EQ(p.opcode, Opcode::Error);
  EXPECT_EQ(p.number, 1);
  EXPECT_EQ(p.payloadLen, 4u);
  EXPECT_FALSE(parsePacket(u8(ack), 3, p));
  std::string rrq = bytes({std::string("\0\1", 2), z("f"), z("octet")});
  EXPECT_FALSE(parsePacket(u8(rrq), rrq.size(), p));
}

TEST(TftpPacket, BuildsAckDataErrorOack) {
  uint8_t buf[128];
  ASSERT_EQ(buildAck(buf, sizeof buf, 0x1234), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), std::string("\0\4\x12\x34", 4));
  ASSERT_EQ(buildDataHeader(buf, sizeof buf, 65535), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), std::string("\0\3\xff\xff", 4));
  size_t n = buildError(buf, sizeof buf, ErrorCode::FileNotFound, {});
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n),
            bytes({std::string("\0\5\0\1", 4), z("File not found")}));
  EXPECT_EQ(buildError(buf, 4, ErrorCode::FileNotFound, {}), 0u);
  EXPECT_EQ(buildError(buf, 8, ErrorCode::FileNotFound, {}), 8u);  // message truncated, NUL kept
  EXPECT_EQ(buf[7], 0);
  Options o;
  o.hasBlksize = o.hasTsize = o.hasWindowsize = true;
  o.blksize = 1428;
  o.tsize = 0;
  o.windowsize = 16;
  n = buildOack(buf, sizeof buf, o);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), n),
            bytes({std::string("\0\6", 2), z("blksize"), z("1428"), z("tsize"), z("0"),
                   z("windowsize"), z("16")}));
  Options back;
  ASSERT_TRUE(parseOack(buf, n, back));
  EXPECT_EQ(back.blksize, 1428u);
  EXPECT_TRUE(back.hasTsize);
  EXPECT_EQ(back.windowsize, 16u);
  EXPECT_EQ(buildOack(buf, 10, o), 0u);
}

TEST(TftpPacket, RequestRoundTrip) {
  uint8_t buf[256];
  Options o;
  o.hasTimeout = true;
  o.timeout = 2;
  size_t n = buildRequest(buf, sizeof buf, Opcode::Wrq, "dir/file", Mode::Netascii, o);
  ASSERT_GT(n, 0u);
  Request r;
  ASSERT_EQ(parseRequest(buf, n, r), ParseResult::Ok);
  EXPECT_EQ(r.opcode, Opcode::Wrq);
  EXPECT_EQ(r.filename, "dir/file");
  EXPECT_EQ(r.mode, Mode::Netascii);
  EXPECT_EQ(r.options.timeout, 2u);
}
