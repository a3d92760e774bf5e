// Conditional requests (RFC 9110 13): preconditions, If-Range, and entity-tag construction.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "protocols/http/request.hpp"

namespace manifold::http {

enum class Precondition {
  Proceed,      // perform the method (then look at Range / If-Range)
  NotModified,  // 304 (GET/HEAD only)
  Failed,       // 412
};

// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of
// RFC 9110 13.2.2 against the selected representation:
//   etag          its entity-tag with quotes, e.g. "\"5f3a1b2c-400\"" (W/"..." allowed: then it
//                 never matches If-Match); empty when the resource does not exist, so that
//                 "If-None-Match: *" (create-only PUT) proceeds and "If-Match: *" fails;
//   lastModified  its modification time, or -1 if it has none (date conditions are ignored).
// If-Match uses the strong comparison, If-None-Match the weak one; both accept "*" and lists,
// and every field line of the header counts (the parsed field and any repeated header line in
// req.headers). If-Modified-Since is only looked at for GET and HEAD, and only when there is
// no If-None-Match; a matching If-None-Match on other methods fails (412). Unparseable dates
// are ignored, as the RFC asks, and so is an If-Modified-Since later than `now` (the server's
// clock; -1: not checked): RFC 9110 13.1.3 calls such a date invalid, and honouring it would
// answer 304 for a file changed after the client's bogus date.
Precondition evaluatePreconditions(const Request& req, std::string_view etag, time_t lastModified,
                                   time_t now = -1);

// If-Range (RFC 9110 13.1.5): true when the Range header may be honoured. Call it only when the
// request has an If-Range field (Request::ifRangePresent); an empty value then never allows.
// An entity-tag must match `etag` strongly (weak tags never do); a date must equal
// lastModified exactly. Anything else (malformed, no lastModified) is false: send the whole
// representation.
bool ifRangeAllows(std::string_view ifRange, std::string_view etag, time_t lastModified);

// Strong validator from file metadata, replacing `out`: "\"<mtime s>-<size>\"" in lowercase hex
// (nginx's form) when mtime nanoseconds and inode are both 0, otherwise
// "\"<mtime s>-<size>-<mix>\"" where mix is 8 hex digits hashed from the inode and the
// nanoseconds (a rewrite within the same second or an atomic rename changes the tag).
void makeEtag(uint64_t mtimeNs, uint64_t size, uint64_t ino, std::string& out);

// True when `list` (an If-Match / If-None-Match value: "*" or 1#entity-tag) matches etag.
// Parsing stops at the first malformed member.
bool etagListMatches(std::string_view list, std::string_view etag, bool strong);

}  // namespace manifold::http
