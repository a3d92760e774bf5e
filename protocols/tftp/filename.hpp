// Request filename -> a relative path below the TFTP root.
#pragma once

#include <string>
#include <string_view>

namespace manifold::tftp {

// Normalises the filename of an RRQ/WRQ into `out` (replaced): a relative path with no empty,
// "." or ".." segments, e.g. "boot//./pxelinux.0" -> "boot/pxelinux.0". Fails (false) on:
//  - an empty name or one that is empty after normalisation ("./", "/");
//  - any ".." segment (even one that would stay inside the root: such a request is hostile);
//  - control bytes (below 0x20) or DEL;
//  - a leading '/' unless `allowAbsolute`, which then means "relative to the root"
//    (tftpd-hpa -s behaviour, for PXE firmware that asks for "/pxelinux.0").
// Symlinks are not resolved here: the open below the root (RESOLVE_BENEATH) refuses any that
// lead out of it.
bool normalizeFilename(std::string_view raw, bool allowAbsolute, std::string& out);

}  // namespace manifold::tftp
