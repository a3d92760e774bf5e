// Tier: unit — netascii conversion, incremental across block boundaries.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocols/tftp/netascii.hpp"

using namespace manifold::tftp;

namespace {

// Encodes `file` in blocks of `block` wire bytes, as the server builds DATA packets.
std::vector<std::string> encodeBlocks(const std::string& file, size_t block) {
  std::vector<std::string> out;
  NetasciiCursor cursor;
  for (;;) {
    std::string wire(block, '?');
    const auto* in = reinterpret_cast<const uint8_t*>(file.data()) + cursor.offset;
    size_t n = netasciiEncode(in, file.size() - cursor.offset, cursor,
                              reinterpret_cast<uint8_t*>(wire.data()), block);
    wire.resize(n);
    out.push_back(wire);
    if (n < block) return out;
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (auto& p : parts) s += p;
  return s;
}

std::string decodeIn(const std::string& wire, size_t piece) {
  NetasciiDecoder d;
  std::string out;
  for (size_t i = 0; i < wire.size(); i += piece) {
    size_t n = std::min(piece, wire.size() - i);
    std::string buf(n + 1, '\0');
    size_t got = d.decode(reinterpret_cast<const uint8_t*>(wire.data()) + i, n,
                          reinterpret_cast<uint8_t*>(buf.data()));
    out.append(buf, 0, got);
  }
  uint8_t tail;
  if (d.finish(&tail)) out.push_back(static_cast<char>(tail));
  return out;
}

}  // namespace

TEST(TftpNetascii, EncodesLfAndCr) {
  EXPECT_EQ(join(encodeBlocks("a\nb\rc", 512)), std::string("a\r\nb\r\0c", 7));
}

TEST(TftpNetascii, SplitsExpansionAcrossBlocks) {
  auto blocks = encodeBlocks("abc\n", 4);  // "abc\r" | "\n" (short: last)
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0], "abc\r");
  EXPECT_EQ(blocks[1], "\n");
  blocks = encodeBlocks("abcd", 4);  // exactly one full block: an empty last block follows
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1], "");
}

TEST(TftpNetascii, DecodesWireForms) {
  EXPECT_EQ(decodeIn(std::string("a\r\nb\r\0c\rd\r", 10), 100), "a\nb\rc\rd\r");
  EXPECT_EQ(decodeIn(std::string("\r\r\n", 3), 1), "\r\n");
}

TEST(TftpNetascii, RoundTripsRandomTextAtEveryBlockSize) {
  std::mt19937 rng(42);
  const char alphabet[] = {'a', '\n', '\r', '\0', 'z', ' '};
  for (int round = 0; round < 200; ++round) {
    std::string file(rng() % 300, 'x');
    for (auto& ch : file) ch = alphabet[rng() % sizeof alphabet];
    size_t block = 1 + rng() % 40;
    auto blocks = encodeBlocks(file, block);
    for (size_t i = 0; i + 1 < blocks.size(); ++i) ASSERT_EQ(blocks[i].size(), block);
    ASSERT_LT(blocks.back().size(), block);
    EXPECT_EQ(decodeIn(join(blocks), 1 + rng() % 50), file) << "round " << round;
  }
}

TEST(TftpNetascii, CursorRebuildsABlockExactly) {
  std::string file = "x\n\n\r\ry\nz";
  NetasciiCursor cursor;
  std::string first(3, '?');
  netasciiEncode(reinterpret_cast<const uint8_t*>(file.data()), file.size(), cursor,
                 reinterpret_cast<uint8_t*>(first.data()), 3);
  NetasciiCursor checkpoint = cursor;  // start of block 2
  std::string a(3, '?'), b(3, '?');
  NetasciiCursor c1 = checkpoint, c2 = checkpoint;
  const auto* in = reinterpret_cast<const uint8_t*>(file.data());
  netasciiEncode(in + c1.offset, file.size() - c1.offset, c1, reinterpret_cast<uint8_t*>(a.data()),
                 3);
  netasciiEncode(in + c2.offset, file.size() - c2.offset, c2, reinterpret_cast<uint8_t*>(b.data()),
                 3);
  EXPECT_EQ(a, b);
  EXPECT_EQ(c1.offset, c2.offset);
  EXPECT_EQ(c1.pending, c2.pending);
}
