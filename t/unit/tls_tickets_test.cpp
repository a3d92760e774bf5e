// Session ticket keys in shm (worker/tls_tickets.hpp): which key encrypts, which keys still
// decrypt after rotations, and that a region is shared (two views of the same bytes agree).
#include "worker/tls_tickets.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using manifold::TicketKeys;

TEST(TlsTickets, RotationKeepsThePreviousKeyAndDropsOlderOnes) {
  std::vector<unsigned char> region(TicketKeys::bytes());
  TicketKeys::format(region.data(), 1000);
  TicketKeys keys(region.data());
  TicketKeys other(region.data());  // another worker's view of the same region
  EXPECT_EQ(keys.rotatedAt(), 1000u);

  TicketKeys::Key first = keys.current();
  bool isCurrent = false;
  ASSERT_NE(keys.find(first.name, isCurrent), nullptr);
  EXPECT_TRUE(isCurrent);

  keys.rotate(2000);
  EXPECT_EQ(other.rotatedAt(), 2000u);
  TicketKeys::Key second = other.current();
  EXPECT_NE(std::memcmp(first.name, second.name, sizeof first.name), 0);
  EXPECT_NE(std::memcmp(first.aes, second.aes, sizeof first.aes), 0);
  // The previous key still decrypts (and asks for a renewal: not current).
  const TicketKeys::Key* found = other.find(first.name, isCurrent);
  ASSERT_NE(found, nullptr);
  EXPECT_FALSE(isCurrent);
  EXPECT_EQ(std::memcmp(found->hmac, first.hmac, sizeof first.hmac), 0);

  keys.rotate(3000);
  EXPECT_EQ(keys.find(first.name, isCurrent), nullptr);  // two rotations old: gone
  ASSERT_NE(keys.find(second.name, isCurrent), nullptr);
  EXPECT_FALSE(isCurrent);

  // An unknown name never matches.
  unsigned char unknown[16] = {};
  EXPECT_EQ(keys.find(unknown, isCurrent), nullptr);
}

TEST(TlsTickets, LayoutNamesTheSize) {
  EXPECT_NE(TicketKeys::layout().find(std::to_string(TicketKeys::bytes())), std::string::npos);
  EXPECT_GE(TicketKeys::bytes(), 3 * sizeof(TicketKeys::Key));
}
