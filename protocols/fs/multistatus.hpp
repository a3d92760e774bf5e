// Merging the WebDAV multistatus answers (RFC 4918 13) of a stage's nodes to one PROPFIND, so a
// client browsing the store sees every file whichever nodes hold it (pure, fuzzed).
//
// Each body is scanned, not parsed as a whole XML document: its <P:response> elements (P the
// prefix the body binds to "DAV:", possibly empty) are taken whole, and deduplicated by the
// text of their <P:href>; the first body's prologue (XML declaration and the multistatus start
// tag) and epilogue frame the result. A body whose prefix differs from the first body's, or
// that has no multistatus element, is left out (its responses could not be placed in the first
// body's namespace bindings without rewriting them).
#pragma once

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace manifold::fs {

// False when no body is a multistatus document (out untouched).
bool mergeMultistatus(std::span<const std::string_view> bodies, std::string& out);

// One resource of a node's listing (the repairer's walk): its href reduced to a path (a
// "scheme://authority" prefix dropped), as sent, still percent-encoded. Responses whose href
// is no absolute path, or holds a space or control byte (it is put back into request lines),
// are left out.
struct ListingEntry {
  std::string_view path;
  bool collection = false;
  int64_t size = -1;  // getcontentlength; -1 when absent or not a number
  time_t mtime = 0;   // getlastmodified; 0 when absent or not an HTTP-date
};
// The responses of one multistatus body (views into it). False when it is not one.
bool parseListing(std::string_view body, std::vector<ListingEntry>& out);

}  // namespace manifold::fs
