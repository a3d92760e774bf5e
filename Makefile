# Manifold — one non-recursive Makefile.
#   make            build bin/manifold and bin/manifold-shm (and the tools)
#   make deps       install missing Debian packages (no-op when all are present)
#   make run        deps + build + run in the foreground with etc/manifold.ini
#   make test       deps + build + every suite; last line "tests: N passed, M failed"
#   make fuzz       build the libFuzzer targets in t/fuzz (clang)
#   make bench      run tools/bench/* (not tests: they print ratios)
#   make format     clang-format every C++ file; make format-check: fail on unformatted code
# Sources are found by wildcard, so adding a file or a protocol folder needs no edit here.

CXX      ?= g++
CLANGXX  ?= clang++
CXXFLAGS ?= -O2 -g
# Required flags survive a CXXFLAGS given on the command line (e.g. sanitizer builds).
override CXXFLAGS += -std=c++20 -Wall -Wextra -pthread -I.
DEPFLAGS  = -MMD -MP
LDLIBS   := -lev -linih -lz -lsodium -llzo2 -lpthread -lrt
GTEST    := -lgtest -lpthread

# Debian packages: build, tests, benchmarks, fuzzing.
DEPS_BUILD := g++ make pkg-config libev-dev libinih-dev zlib1g-dev liblzo2-dev libsodium-dev libgtest-dev
DEPS_TEST  := curl wrk nginx-light clang libclang-rt-14-dev procps iproute2 media-types python3 \
              tftp-hpa atftp tftpd-hpa transmission-cli aria2 opentracker \
              nsd bind9-dnsutils dnsperf bc libwrap0 libpcre2-8-0 clang-format
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)

CORE_SRC := $(wildcard shm/*.cpp worker/*.cpp protocols/*.cpp protocols/*/*.cpp protocols/*/*/*.cpp) \
            $(filter-out master/main.cpp,$(wildcard master/*.cpp))
CORE_OBJ := $(CORE_SRC:%.cpp=build/%.o)

UNIT_SRC   := $(wildcard t/unit/*.cpp)
INTEG_SRC  := $(wildcard t/integration/*.cpp t/integration/*/*.cpp)
FUZZ_SRC   := $(wildcard t/fuzz/*.cpp)
FUZZ_BIN   := $(FUZZ_SRC:t/fuzz/%.cpp=bin/fuzz/%)

# Tools: tools/NAME/*.cpp (with a main.cpp) -> bin/manifold-NAME (shm inspector, load generators,
# the UDP ceiling responder)
TOOLS := $(patsubst tools/%/main.cpp,bin/manifold-%,$(wildcard tools/*/main.cpp))

tool_objects = $(patsubst %.cpp,build/%.o,$(wildcard tools/$(1)/*.cpp))

BINS := bin/manifold $(TOOLS)

.PHONY: all deps run test unit integration fuzz fuzz-smoke bench clean format format-check
all: $(BINS)

build/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

bin/manifold: build/master/main.o $(CORE_OBJ)
	@mkdir -p bin
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# Tool objects are found through a function, so make would see them as intermediate and delete them.
.PRECIOUS: build/%.o
.SECONDEXPANSION:
bin/manifold-%: $$(call tool_objects,$$*) $(CORE_OBJ)
	@mkdir -p bin
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

bin/unit-tests: $(UNIT_SRC:%.cpp=build/%.o) $(CORE_OBJ)
	@mkdir -p bin
	$(CXX) $(CXXFLAGS) $^ -o $@ $(GTEST) -lgtest_main $(LDLIBS)

bin/integration-tests: $(INTEG_SRC:%.cpp=build/%.o) $(CORE_OBJ)
	@mkdir -p bin
	$(CXX) $(CXXFLAGS) $^ -o $@ $(GTEST) -lgtest_main $(LDLIBS)

# Fuzz targets: clang, libFuzzer + ASan/UBSan, linked against the core built the same way.
FUZZ_FLAGS := -std=c++20 -O1 -g -I. -pthread -fsanitize=fuzzer-no-link,address,undefined
FUZZ_CORE  := $(CORE_SRC:%.cpp=build/fuzz/%.o)
build/fuzz/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) $(DEPFLAGS) -c $< -o $@
bin/fuzz/%: build/fuzz/t/fuzz/%.o $(FUZZ_CORE)
	@mkdir -p bin/fuzz
	$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)
fuzz: $(FUZZ_BIN)

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  for s in nginx tftpd-hpa opentracker nsd; do service $$s stop >/dev/null 2>&1 || true; done; \
	fi

# deps first, then a parallel build: packages must be in place before anything compiles.
NPROC := $(shell nproc 2>/dev/null || echo 2)
run: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	bin/manifold -c etc/manifold.ini

# Each suite prints its own lines; t/run-suites sums them into the one line CI reads.
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all bin/unit-tests bin/integration-tests fuzz
	@t/run-suites

bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@for b in tools/bench/*; do [ -x "$$b" ] && "$$b"; done

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

# The style check make test runs (t/run-suites): every tracked C++ file as .clang-format says.
format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
