// A test bed of three network namespaces A - EMU - B (tools/wan-emu/tunnel-bed) for the life of
// a test: made in the constructor, removed in the destructor. Its name carries the test
// process's pid and a tag, so parallel runs never meet. A is 10.201.0.1/24, B 10.201.0.2/24.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "t/integration/lib/harness.hpp"

namespace manifold::testing {

class Bed {
 public:
  Bed(const std::string& tag, const std::string& settings) : name_(tag + std::to_string(getpid())) {
    run("tools/wan-emu/tunnel-bed down " + name_ + " 2>&1");
    int rc = 0;
    std::string out = run("tools/wan-emu/tunnel-bed up " + name_ + " " + settings + " 2>&1", &rc);
    up_ = rc == 0;
    if (!up_) ADD_FAILURE() << out;
  }
  ~Bed() { run("tools/wan-emu/tunnel-bed down " + name_ + " 2>&1"); }
  Bed(const Bed&) = delete;
  Bed& operator=(const Bed&) = delete;

  bool up() const { return up_; }
  const std::string& name() const { return name_; }
  // Restarts the emulator with other settings.
  void set(const std::string& settings) {
    int rc = 0;
    std::string out = run("tools/wan-emu/tunnel-bed set " + name_ + " " + settings + " 2>&1", &rc);
    ASSERT_EQ(rc, 0) << out;
  }
  // A shell command line running `command` inside namespace a, b or emu.
  std::string exec(const std::string& side, const std::string& command) const {
    return "tools/wan-emu/tunnel-bed exec " + name_ + " " + side + " " + command;
  }
  // The emulator's counter lines ("wan-emu a->b: received N frames ..., lost N, ...").
  std::string stats() const { return run("tools/wan-emu/tunnel-bed stats " + name_ + " 2>&1"); }

 private:
  std::string name_;
  bool up_ = false;
};

}  // namespace manifold::testing
