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

#include <span>
#include <string>
#include <string_view>

namespace manifold::fs {

// False when no body is a multistatus document (out untouched).
bool mergeMultistatus(std::span<const std::string_view> bodies, std::string& out);

}  // namespace manifold::fs
