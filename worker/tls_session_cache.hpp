// The TLS session cache in shared memory, for TLS 1.2 clients that resume by session ID
// rather than by ticket (tickets are in tls_tickets.hpp). A session made on one worker resumes
// on any other, and across reloads while the region is adopted.
//
// Storage: a shm::Table (striped robust locks, LRU by CLOCK within its byte budget) keyed by
// the session ID, whose value is the session in OpenSSL's DER form (i2d_SSL_SESSION: the
// master secret, cipher and times; no certificate is kept, clients present none). OpenSSL
// checks a session's age itself when it is looked up. TLS 1.3 sessions are not stored: they
// resume from tickets only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace manifold {

namespace shm {
class Table;
}

class TlsSessionCache {
 public:
  static std::string layout();
  static size_t bytesFor(uint64_t budget);
  static void format(void* base, size_t bytes);
  // The cache in a region made by format() (nullptr when it holds no valid table).
  static std::unique_ptr<TlsSessionCache> attach(void* base);

  shm::Table& table() { return *table_; }

 private:
  explicit TlsSessionCache(shm::Table* table) : table_(table) {}
  shm::Table* table_;
};

// Installs the cache callbacks and the session-ID cache mode on a context (TlsContext::build).
void installSessionCacheCallbacks(SSL_CTX* ctx);

}  // namespace manifold
