// gzip (RFC 1952) content coding with zlib, one-shot and streaming.
//
// The one-shot functions replace `out` (its capacity is reused, so a member string serves as a
// scratch buffer); the streaming ones append to `out`, so compressed pieces can go straight
// after a chunk header already in a buffer.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace manifold::http {

// Compresses `in` as one gzip member (deflateInit2 with windowBits 15+16) at `level` (0-9;
// out of range means 6) into `out` (replaced; must not alias `in`). False only if zlib fails
// (out is then empty).
bool gzipCompress(std::string_view in, std::string& out, int level = 6);

// Decompresses one gzip member into `out` (replaced; must not alias `in`). False (out empty) on
// corrupt or truncated input, bytes after the member, or output beyond maxOutput (a decompression
// bomb).
bool gzipDecompress(std::string_view in, std::string& out, size_t maxOutput = size_t{1} << 28);

// Streaming compressor for bodies too large to compress at once (sent chunked):
//   GzipStream gz; gz.init(6); while (...) gz.write(piece, out); gz.finish(out);
// write(), flush() and finish() append to `out`. write() may produce no output for a while
// (deflate buffers); flush() forces out what it has
// (Z_SYNC_FLUSH), e.g. before a pause in the stream. After finish() call init() again to start
// a new member; init() reuses the zlib state when the level is unchanged. Not copyable.
class GzipStream {
 public:
  GzipStream() = default;
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  bool init(int level = 6);
  bool write(std::string_view in, std::string& out);
  bool flush(std::string& out);
  bool finish(std::string& out);
  bool active() const { return initialised_ && !finished_; }  // between init() and finish()

 private:
  z_stream zs_{};
  int level_ = -1;
  bool initialised_ = false;  // zs_ holds a deflate state that needs deflateEnd()
  bool finished_ = false;
};

}  // namespace manifold::http
