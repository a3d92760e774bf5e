#include "protocols/http/gzip.hpp"

#include <algorithm>
#include <climits>

namespace manifold::http {

namespace {

constexpr int kGzipWindowBits = 15 + 16;           // 32K window, gzip wrapper
constexpr size_t kMaxZlibChunk = size_t{1} << 30;  // avail_in/avail_out are 32-bit

// Runs deflate with `flush` until it has taken all of zs.avail_in (and, for Z_FINISH, ended
// the member), growing `out` as needed.
bool deflateInto(z_stream& zs, std::string& out, int flush) {
  size_t used = out.size();
  for (;;) {
    size_t spare = std::max<size_t>(deflateBound(&zs, zs.avail_in) + 64, 4096);
    spare = std::min(spare, kMaxZlibChunk);
    out.resize(used + spare);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(spare);
    int rc = deflate(&zs, flush);
    used += spare - zs.avail_out;
    if (rc == Z_STREAM_ERROR) {
      out.resize(used);
      return false;
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : zs.avail_out != 0) break;
  }
  out.resize(used);
  return true;
}

// Feeds `in` in pieces zlib can count, with Z_NO_FLUSH, then `last` for the final piece.
bool deflateAll(z_stream& zs, std::string_view in, std::string& out, int last) {
  do {
    size_t piece = std::min(in.size(), kMaxZlibChunk);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(piece);
    in.remove_prefix(piece);
    if (!deflateInto(zs, out, in.empty() ? last : Z_NO_FLUSH)) return false;
  } while (!in.empty());
  return true;
}

int clampLevel(int level) { return level < 0 || level > 9 ? 6 : level; }

}  // namespace

bool gzipCompress(std::string_view in, std::string& out, int level) {
  out.clear();
  z_stream zs{};
  if (deflateInit2(&zs, clampLevel(level), Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return false;
  bool ok = deflateAll(zs, in, out, Z_FINISH);
  deflateEnd(&zs);
  if (!ok) out.clear();
  return ok;
}

bool gzipDecompress(std::string_view in, std::string& out, size_t maxOutput) {
  out.clear();
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) return false;
  size_t used = 0;
  bool ok = false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  while (used <= maxOutput) {
    if (zs.avail_in == 0 && !in.empty()) {  // next_in already points at the rest of `in`
      size_t piece = std::min(in.size(), kMaxZlibChunk);
      zs.avail_in = static_cast<uInt>(piece);
      in.remove_prefix(piece);
    }
    // Room for one byte past the limit, so that exceeding it is seen.
    size_t spare = std::min({std::max<size_t>(used, 16384), maxOutput - used + 1, kMaxZlibChunk});
    out.resize(used + spare);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(spare);
    int rc = inflate(&zs, Z_NO_FLUSH);
    used += spare - zs.avail_out;
    if (rc == Z_STREAM_END) {
      ok = zs.avail_in == 0 && in.empty() && used <= maxOutput;  // nothing after the member
      break;
    }
    if (rc != Z_OK) break;  // corrupt, or Z_BUF_ERROR: truncated input
  }
  inflateEnd(&zs);
  out.resize(ok ? used : 0);
  return ok;
}

GzipStream::~GzipStream() {
  if (initialised_) deflateEnd(&zs_);
}

bool GzipStream::init(int level) {
  level = clampLevel(level);
  finished_ = false;
  if (initialised_ && level == level_) return deflateReset(&zs_) == Z_OK;
  if (initialised_) deflateEnd(&zs_);
  zs_ = z_stream{};
  initialised_ =
      deflateInit2(&zs_, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  level_ = initialised_ ? level : -1;
  return initialised_;
}

bool GzipStream::write(std::string_view in, std::string& out) {
  if (!active()) return false;
  if (in.empty()) return true;
  return deflateAll(zs_, in, out, Z_NO_FLUSH);
}

bool GzipStream::flush(std::string& out) {
  if (!active()) return false;
  zs_.avail_in = 0;
  return deflateInto(zs_, out, Z_SYNC_FLUSH);
}

bool GzipStream::finish(std::string& out) {
  if (!active()) return false;
  zs_.avail_in = 0;
  finished_ = deflateInto(zs_, out, Z_FINISH);
  return finished_;
}

}  // namespace manifold::http
