// The fuzz targets' assertion: a broken invariant stops the run where libFuzzer reports it.
#pragma once

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}
