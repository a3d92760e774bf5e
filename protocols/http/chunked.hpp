// Incremental decoder of the chunked transfer coding (RFC 9112 7.1).
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*"0" [ chunk-ext ] CRLF
// A byte-at-a-time state machine, so input may be split anywhere and nothing is buffered:
// body bytes are handed out as views into the caller's input. Chunk extensions are skipped,
// trailer fields are checked for syntax and dropped. Bare LF is accepted for CRLF (as nginx).
//
// Typical loop:
//   std::string_view buf = ...;  // bytes received after the request head
//   for (;;) {
//     size_t used; std::string_view data;
//     auto st = dec.feed(buf, used, data);
//     buf.remove_prefix(used);
//     if (!data.empty()) consume(data);        // data points into the old buf
//     if (st != ChunkedDecoder::Status::NeedMore) break;  // Done: buf holds the next request
//     if (buf.empty()) break;                  // wait for more bytes
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace manifold::http {

class ChunkedDecoder {
 public:
  enum class Status { NeedMore, Done, Error };

  // Longest chunk-size line (size + extensions) and trailer line, and the trailer section in
  // all; beyond them the stream is refused. They bound the bytes a peer can send that do not
  // count as body, so a body size limit also bounds the whole message.
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxTrailerBytes = 16384;
  // Largest accepted chunk size; larger (or overflowing) hex is an error.
  static constexpr uint64_t kMaxChunkSize = uint64_t{1} << 62;

  // Consumes a prefix of `in`. Stops after yielding one run of body bytes (`data`, a view into
  // `in`; empty if none), at the end of the chunked body (Done: `in` past `consumed` belongs to
  // the next message), at the end of `in`, or at an error. NeedMore with empty data means all
  // of `in` was consumed. After Done or Error, feed consumes nothing and repeats the status.
  Status feed(std::string_view in, size_t& consumed, std::string_view& data);

  void reset() { *this = ChunkedDecoder(); }
  bool done() const { return state_ == State::Done; }
  bool failed() const { return state_ == State::Error; }
  uint64_t bodyBytes() const { return bodyBytes_; }  // data bytes yielded so far

 private:
  enum class State : uint8_t {
    Size,       // hex digits of chunk-size; at least one
    SizeWs,     // BWS after the size, before ';' or CRLF
    Ext,        // chunk-ext: skipped
    ExtQuoted,  // inside a quoted-string of a chunk-ext
    ExtEscape,  // after '\' in a quoted-string
    SizeLf,     // CR seen, LF must follow
    Data,       // remaining_ bytes of chunk-data
    DataCr,     // CRLF after chunk-data
    DataLf,
    TrailerStart,  // at the start of a trailer line (or the final empty line)
    TrailerName,
    TrailerValue,
    TrailerLf,  // CR ending a trailer line
    FinalLf,    // CR of the final empty line
    Done,
    Error
  };

  State state_ = State::Size;
  bool sawDigit_ = false;
  uint64_t remaining_ = 0;  // chunk size being read, then data bytes left in the chunk
  uint64_t bodyBytes_ = 0;
  size_t lineBytes_ = 0;
  size_t trailerBytes_ = 0;
};

}  // namespace manifold::http
