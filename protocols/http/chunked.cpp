#include "protocols/http/chunked.hpp"

#include "protocols/ascii.hpp"
#include "protocols/http/request.hpp"

namespace manifold::http {

namespace {

// Field content of extensions and trailers: no controls but HTAB (so no bare CR).
inline bool isFieldByte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return (c >= 0x20 && c != 0x7f) || c == '\t';
}

}  // namespace

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, size_t& consumed,
                                            std::string_view& data) {
  data = {};
  consumed = 0;
  if (state_ == State::Done) return Status::Done;
  if (state_ == State::Error) return Status::Error;

  size_t i = 0;
  auto fail = [&] {
    state_ = State::Error;
    consumed = i;
    return Status::Error;
  };
  // End of a chunk-size line: a zero size starts the trailer section.
  auto endSizeLine = [&] {
    lineBytes_ = 0;
    sawDigit_ = false;
    state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
  };

  while (i < in.size()) {
    if (state_ == State::Data) {
      uint64_t avail = in.size() - i;
      size_t take = static_cast<size_t>(remaining_ < avail ? remaining_ : avail);
      data = in.substr(i, take);
      i += take;
      remaining_ -= take;
      bodyBytes_ += take;
      if (remaining_ == 0) state_ = State::DataCr;
      consumed = i;
      return Status::NeedMore;
    }

    const char c = in[i++];
    switch (state_) {
      case State::Size:
      case State::SizeWs:
      case State::Ext:
      case State::ExtQuoted:
      case State::ExtEscape:
      case State::SizeLf:
        if (++lineBytes_ > kMaxLineBytes) return fail();
        break;
      case State::TrailerStart:
      case State::TrailerName:
      case State::TrailerValue:
      case State::TrailerLf:
      case State::FinalLf:
        if (++trailerBytes_ > kMaxTrailerBytes) return fail();
        break;
      default:
        break;
    }

    switch (state_) {
      case State::Size:
        if (int d = ascii::hexValue(c); d >= 0) {
          if (remaining_ > (kMaxChunkSize - d) / 16) return fail();  // overflow / oversize
          remaining_ = remaining_ * 16 + d;
          sawDigit_ = true;
        } else if (!sawDigit_) {
          return fail();
        } else if (c == ' ' || c == '\t') {
          state_ = State::SizeWs;
        } else if (c == ';') {
          state_ = State::Ext;
        } else if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          endSizeLine();
        } else {
          return fail();
        }
        break;
      case State::SizeWs:
        if (c == ';')
          state_ = State::Ext;
        else if (c == '\r')
          state_ = State::SizeLf;
        else if (c == '\n')
          endSizeLine();
        else if (c != ' ' && c != '\t')
          return fail();
        break;
      case State::Ext:
        if (c == '"')
          state_ = State::ExtQuoted;
        else if (c == '\r')
          state_ = State::SizeLf;
        else if (c == '\n')
          endSizeLine();
        else if (!isFieldByte(c))
          return fail();
        break;
      case State::ExtQuoted:
        if (c == '"')
          state_ = State::Ext;
        else if (c == '\\')
          state_ = State::ExtEscape;
        else if (!isFieldByte(c))
          return fail();
        break;
      case State::ExtEscape:
        if (!isFieldByte(c)) return fail();
        state_ = State::ExtQuoted;
        break;
      case State::SizeLf:
        if (c != '\n') return fail();
        endSizeLine();
        break;
      case State::DataCr:
        if (c == '\r')
          state_ = State::DataLf;
        else if (c == '\n')
          state_ = State::Size;
        else
          return fail();
        break;
      case State::DataLf:
        if (c != '\n') return fail();
        state_ = State::Size;
        break;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::FinalLf;
        } else if (c == '\n') {
          state_ = State::Done;
          consumed = i;
          return Status::Done;
        } else if (isTchar(static_cast<unsigned char>(c))) {
          state_ = State::TrailerName;
        } else {
          return fail();  // includes obs-fold (a line starting with whitespace)
        }
        break;
      case State::TrailerName:
        if (c == ':')
          state_ = State::TrailerValue;
        else if (!isTchar(static_cast<unsigned char>(c)))
          return fail();
        break;
      case State::TrailerValue:
        if (c == '\r')
          state_ = State::TrailerLf;
        else if (c == '\n')
          state_ = State::TrailerStart;
        else if (!isFieldByte(c))
          return fail();
        break;
      case State::TrailerLf:
        if (c != '\n') return fail();
        state_ = State::TrailerStart;
        break;
      case State::FinalLf:
        if (c != '\n') return fail();
        state_ = State::Done;
        consumed = i;
        return Status::Done;
      case State::Data:
      case State::Done:
      case State::Error:
        break;  // handled above
    }
  }
  consumed = i;
  return Status::NeedMore;
}

}  // namespace manifold::http
