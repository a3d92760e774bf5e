// Accept-Encoding negotiation (RFC 9110 12.5.3).
#pragma once

#include <string_view>

namespace manifold::http {

// True when a gzip-coded response is acceptable: "gzip" (or its alias "x-gzip") is listed
// with a non-zero qvalue, or is not listed and "*" is, with a non-zero qvalue. Codings and
// the "q" parameter are case-insensitive; "identity" plays no part. A malformed qvalue counts
// as 0 (as nginx does). An empty header means no preference; we answer false, since old
// clients that send nothing may not decode gzip.
bool acceptsGzip(std::string_view acceptEncoding);

// The qvalue of one list member's parameters (";q=0.5"), in thousandths: 1000 when absent,
// -1 when malformed. Exposed for other negotiations (e.g. br later).
int parseQvalue(std::string_view params);

}  // namespace manifold::http
