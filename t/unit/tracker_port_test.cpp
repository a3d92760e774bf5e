// An announce for port 0 is refused, never stored and handed to other peers (issue #11.10).
#include <gtest/gtest.h>

#include <string>

#include "protocols/tracker/query.hpp"

using namespace manifold::tracker;

TEST(TrackerQuery, PortZeroIsRefused) {
  AnnounceQuery q;
  const std::string base = "info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb";
  EXPECT_EQ(parseAnnounceQuery(base + "&port=0", q), "invalid port");
  EXPECT_EQ(parseAnnounceQuery(base + "&port=00", q), "invalid port");
  EXPECT_EQ(parseAnnounceQuery(base + "&port=1", q), "");
  EXPECT_EQ(parseAnnounceQuery(base + "&port=65536", q), "invalid port");
}
