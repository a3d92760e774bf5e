#include "worker/tls_session_cache.hpp"

#include <openssl/ssl.h>

#include <string_view>
#include <vector>

#include "shm/table.hpp"
#include "worker/tls.hpp"

namespace manifold {

namespace {

constexpr uint32_t kStripes = 16;
constexpr size_t kSessionBytes = 256;  // a DER server session is about 150-200 bytes
constexpr unsigned char kContext[] = "manifold";

TlsSessionCache* cacheOf(SSL* ssl) {
  auto* session = static_cast<TlsSession*>(SSL_get_app_data(ssl));
  return session ? session->endpoint().sessions : nullptr;
}

int onNewSession(SSL* ssl, SSL_SESSION* session) {
  TlsSessionCache* cache = cacheOf(ssl);
  if (!cache || SSL_version(ssl) == TLS1_3_VERSION) return 0;
  unsigned idLength = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &idLength);
  const int length = i2d_SSL_SESSION(session, nullptr);
  if (idLength == 0 || length <= 0 || length > 4096) return 0;
  unsigned char der[4096];
  unsigned char* p = der;
  i2d_SSL_SESSION(session, &p);
  cache->table().put(std::string_view(reinterpret_cast<const char*>(id), idLength),
                     std::span<const uint8_t>(der, static_cast<size_t>(length)));
  return 0;  // OpenSSL keeps its reference: nothing of ours points at the session
}

SSL_SESSION* onGetSession(SSL* ssl, const unsigned char* id, int idLength, int* copy) {
  *copy = 0;  // the returned session is ours to give: OpenSSL takes the reference
  TlsSessionCache* cache = cacheOf(ssl);
  if (!cache || idLength <= 0) return nullptr;
  unsigned char der[4096];
  size_t length = 0;
  bool found = cache->table().find(
      std::string_view(reinterpret_cast<const char*>(id), static_cast<size_t>(idLength)),
      [&](std::span<const uint8_t> value) {
        length = std::min(value.size(), sizeof der);
        std::copy_n(value.data(), length, der);
      });
  if (!found) return nullptr;
  const unsigned char* p = der;
  return d2i_SSL_SESSION(nullptr, &p, static_cast<long>(length));
}

void onRemoveSession(SSL_CTX*, SSL_SESSION*) {
  // Expired sessions are refused by OpenSSL on lookup and age out of the table by LRU; the
  // context has no connection at hand to find the cache, so nothing is erased here.
}

}  // namespace

std::string TlsSessionCache::layout() { return "tls-sessions/table-v1"; }

size_t TlsSessionCache::bytesFor(uint64_t budget) {
  const uint32_t buckets = static_cast<uint32_t>(std::max<uint64_t>(budget / kSessionBytes, 64));
  return shm::Table::bytesFor(budget, buckets, kStripes);
}

void TlsSessionCache::format(void* base, size_t bytes) {
  const uint32_t buckets = static_cast<uint32_t>(std::max<size_t>(bytes / kSessionBytes / 2, 64));
  shm::Table::format(base, bytes, buckets, kStripes);
}

std::unique_ptr<TlsSessionCache> TlsSessionCache::attach(void* base) {
  shm::Table* table = shm::Table::at(base);
  if (!table) return nullptr;
  return std::unique_ptr<TlsSessionCache>(new TlsSessionCache(table));
}

void installSessionCacheCallbacks(SSL_CTX* ctx) {
  // Server-side session IDs, stored only in shm (no per-process cache another worker
  // could not see).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_set_session_id_context(ctx, kContext, sizeof kContext - 1);
  SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  SSL_CTX_sess_set_get_cb(ctx, onGetSession);
  SSL_CTX_sess_set_remove_cb(ctx, onRemoveSession);
}

}  // namespace manifold
