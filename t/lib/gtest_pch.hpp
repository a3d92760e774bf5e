// What every test object parses first, precompiled once by `make test` (Makefile: TEST_PCH).
// Only ever given with -include, once per object: no include guard (it is compiled as a main
// file, where #pragma once warns).
#include <gtest/gtest.h>

#include <string>
#include <vector>
