# Manifold — one non-recursive Makefile.
#   make            build bin/manifold and bin/manifold-shm (and the tools)
#   make deps       install missing Debian packages (no-op when all are present)
#   make run        deps + build + run in the foreground with etc/manifold.ini
#   make test       deps + build + every suite; last line "tests: N passed, M failed"
#   make fuzz       build the libFuzzer targets in t/fuzz (clang)
#   make bench      run tools/bench/* (not tests: they print ratios)
#   make format     clang-format every C++ file; make format-check: fail on unformatted code
#   make install    binaries, init script, unit, man pages, default config (PREFIX, DESTDIR)
#   make uninstall  removes what install wrote, never configs, logs or caches
#   make deb        build/manifold_VERSION_ARCH.deb (dpkg-deb over an install tree, etc/debian/)
# Sources are found by wildcard, so adding a file or a protocol folder needs no edit here.

CXX      ?= g++
CLANGXX  ?= clang++
CXXFLAGS ?= -O2 -g
# Required flags survive a CXXFLAGS given on the command line (e.g. sanitizer builds).
override CXXFLAGS += -std=c++20 -Wall -Wextra -pthread -I.
DEPFLAGS  = -MMD -MP
LDLIBS   := -lev -linih -lz -lsodium -llzo2 -lssl -lcrypto -lnghttp2 -lpthread -lrt
GTEST    := -lgtest -lpthread

# Debian packages: build, tests, benchmarks, fuzzing.
DEPS_BUILD := g++ make pkg-config libev-dev libinih-dev zlib1g-dev liblzo2-dev libsodium-dev libgtest-dev dpkg-dev \
              libssl-dev libnghttp2-dev
DEPS_TEST  := curl wrk nginx-light libnginx-mod-http-dav-ext clang libclang-rt-14-dev procps iproute2 media-types python3 \
              tftp-hpa atftp tftpd-hpa transmission-cli aria2 opentracker \
              nsd bind9-dnsutils ldnsutils dnsperf bc libwrap0 libpcre2-8-0 clang-format \
              lintian man-db age nodejs chromium fonts-dejavu-core openssl nghttp2-client \
              litmus cadaver \
              iputils-ping iperf3 ethtool
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)
# Only `make bench` needs these (tools/bench/proxy compares the proxy cache with them;
# tools/bench/tunnel the tunnel with wireguard-go and OpenVPN, measured with iperf3;
# tools/bench/tunnel-lossy runs kcptun beside the warp tunnel).
DEPS_BENCH := varnish haproxy wireguard-go wireguard-tools openvpn kcptun

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

.PHONY: all deps run test unit integration fuzz fuzz-smoke bench clean format format-check \
        install uninstall deb
all: $(BINS)

build/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

# Test code (t/unit, t/integration) builds in less than half the time at -Og with line tables
# only; the product objects the tests link keep CXXFLAGS (-O2 -g). -Og keeps the warnings that
# need data flow (-Wmaybe-uninitialized); backtraces still have file:line.
TEST_OPT ?= -Og -g1
build/t/%.o: private override CXXFLAGS += $(TEST_OPT)
# With TEST_PCH=1 (make test sets it) gtest is parsed once, as a precompiled header: 0.6 s less
# per test object. Off by default: ccache does not cache objects built with it.
ifneq ($(TEST_PCH),)
PCH := build/t/pch/gtest_pch.hpp
$(PCH).gch: t/lib/gtest_pch.hpp
	@mkdir -p $(dir $@)
	cp $< $(PCH)
	$(CXX) $(CXXFLAGS) $(TEST_OPT) -x c++-header $< -o $@
$(UNIT_SRC:%.cpp=build/%.o) $(INTEG_SRC:%.cpp=build/%.o): $(PCH).gch
build/t/%.o: private override CXXFLAGS += -Winvalid-pch -include $(PCH)
endif

# The version lives in etc/VERSION only: -v/-V print it and the package takes it.
VERSION := $(shell cat etc/VERSION)
build/master/main.o: etc/VERSION
build/master/main.o: override CXXFLAGS += -DMANIFOLD_VERSION='"$(VERSION)"'

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

# Fuzz targets: clang, libFuzzer + ASan/UBSan, linked against the core objects they reach
# (t/fuzz/core-objects follows the symbols, building those objects), built the same way: about
# half the core, which is all that clang has to compile. Line tables are enough for reports.
FUZZ_FLAGS := -std=c++20 -O1 -gline-tables-only -I. -pthread -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ   := $(FUZZ_SRC:%.cpp=build/fuzz/%.o)
build/fuzz/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) $(DEPFLAGS) -c $< -o $@
bin/fuzz/%: build/fuzz/t/fuzz/%.o
	@mkdir -p bin/fuzz
	$(CLANGXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)
fuzz: $(FUZZ_BIN)
# Each target's core objects, read again whenever an object changes; only when fuzz targets
# are wanted, so plain builds never need it.
ifneq ($(filter fuzz bin/fuzz/%,$(MAKECMDGOALS)),)
.PRECIOUS: build/fuzz/%.o
build/fuzz/links.mk: t/fuzz/core-objects $(FUZZ_OBJ) $(CORE_OBJ)
	t/fuzz/core-objects "$(MAKE) --no-print-directory" $(FUZZ_OBJ) -- $(CORE_OBJ) > $@.tmp
	mv $@.tmp $@
include build/fuzz/links.mk
endif

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  for s in nginx tftpd-hpa opentracker nsd varnish haproxy; do service $$s stop >/dev/null 2>&1 || true; done; \
	fi

# deps first, then a parallel build: packages must be in place before anything compiles.
NPROC := $(shell nproc 2>/dev/null || echo 2)
run: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	bin/manifold -c etc/manifold.ini

# Each suite prints its own lines; t/run-suites sums them into the one line CI reads.
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all bin/unit-tests bin/integration-tests fuzz TEST_PCH=1
	@t/run-suites

bench:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) $(DEPS_BENCH)"
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@for b in tools/bench/*; do [ -x "$$b" ] && "$$b"; done

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

# The style check make test runs (t/run-suites): every tracked C++ file as .clang-format says.
format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build bin

# Install: FHS paths under PREFIX, the configuration under SYSCONFDIR (/etc, where the init
# script and /etc/default are read whatever PREFIX is), state under LOCALSTATEDIR.
PREFIX        ?= /usr/local
DESTDIR       ?=
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
SBINDIR       := $(PREFIX)/sbin
BINDIR        := $(PREFIX)/bin
DATADIR       := $(PREFIX)/share/manifold
MANDIR        := $(PREFIX)/share/man
UNITDIR       ?= $(PREFIX)/lib/systemd/system
MANIFOLD_USER ?= manifold
INSTALL_BINS  := bin/manifold bin/manifold-shm bin/manifold-fs
# User commands (bin/, section 1 pages in etc/man/NAME.1).
USER_BINS     := bin/manifold-pack bin/manifold-seal bin/manifold-tunnel
USER_MANS     := $(patsubst bin/%,%.1,$(USER_BINS))
# Placeholders in the installed files, filled with the paths above.
SUBST := sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
             -e 's|@VERSION@|$(VERSION)|g' -e 's|/etc/|$(SYSCONFDIR)/|g'
D := $(DESTDIR)

install: $(INSTALL_BINS) $(USER_BINS)
	install -d $(D)$(SBINDIR) $(D)$(BINDIR) $(D)$(DATADIR)/www $(D)$(MANDIR)/man1 \
	  $(D)$(MANDIR)/man5 $(D)$(MANDIR)/man8 \
	  $(D)$(SYSCONFDIR)/init.d $(D)$(SYSCONFDIR)/default $(D)$(SYSCONFDIR)/logrotate.d \
	  $(D)$(SYSCONFDIR)/manifold $(D)$(UNITDIR) \
	  $(D)$(LOCALSTATEDIR)/cache/manifold $(D)$(LOCALSTATEDIR)/log/manifold
	install -m 755 -s $(INSTALL_BINS) $(D)$(SBINDIR)/
	install -m 755 -s $(USER_BINS) $(D)$(BINDIR)/
	install -m 644 etc/www/* $(D)$(DATADIR)/www/
	$(SUBST) etc/init.d/manifold > $(D)$(SYSCONFDIR)/init.d/manifold
	chmod 755 $(D)$(SYSCONFDIR)/init.d/manifold
	$(SUBST) etc/manifold.service > $(D)$(UNITDIR)/manifold.service
	$(SUBST) etc/default/manifold > $(D)$(SYSCONFDIR)/default/manifold
	$(SUBST) etc/logrotate.d/manifold > $(D)$(SYSCONFDIR)/logrotate.d/manifold
	@# Never overwrite an operator's configuration.
	[ -e $(D)$(SYSCONFDIR)/manifold/manifold.ini ] || \
	  $(SUBST) etc/system.ini > $(D)$(SYSCONFDIR)/manifold/manifold.ini
	chmod 644 $(D)$(UNITDIR)/manifold.service $(D)$(SYSCONFDIR)/default/manifold \
	  $(D)$(SYSCONFDIR)/logrotate.d/manifold $(D)$(SYSCONFDIR)/manifold/manifold.ini
	for m in $(patsubst bin/%,%.8,$(INSTALL_BINS)); do \
	  $(SUBST) etc/man/$$m | gzip -9n > $(D)$(MANDIR)/man8/$$m.gz; done
	for m in $(USER_MANS); do \
	  $(SUBST) etc/man/$$m | gzip -9n > $(D)$(MANDIR)/man1/$$m.gz; done
	tools/man/ini5 README.md $(VERSION) | gzip -9n > $(D)$(MANDIR)/man5/manifold.ini.5.gz
	chmod 644 $(D)$(MANDIR)/man5/*.gz $(D)$(MANDIR)/man8/manifold*.gz \
	  $(addprefix $(D)$(MANDIR)/man1/,$(addsuffix .gz,$(USER_MANS)))
	@# The worker user owns the cache and the logs when it exists (the package creates it).
	if [ -z "$(D)" ] && id $(MANIFOLD_USER) >/dev/null 2>&1; then \
	  chown $(MANIFOLD_USER): $(LOCALSTATEDIR)/cache/manifold $(LOCALSTATEDIR)/log/manifold; fi

uninstall:
	rm -f $(addprefix $(D)$(SBINDIR)/,$(notdir $(INSTALL_BINS))) \
	  $(addprefix $(D)$(BINDIR)/,$(notdir $(USER_BINS))) \
	  $(addprefix $(D)$(MANDIR)/man1/,$(addsuffix .gz,$(USER_MANS))) \
	  $(D)$(SYSCONFDIR)/init.d/manifold $(D)$(UNITDIR)/manifold.service \
	  $(D)$(SYSCONFDIR)/default/manifold $(D)$(SYSCONFDIR)/logrotate.d/manifold \
	  $(addprefix $(D)$(MANDIR)/man8/,$(addsuffix .gz,$(patsubst bin/%,%.8,$(INSTALL_BINS)))) \
	  $(D)$(MANDIR)/man5/manifold.ini.5.gz
	rm -rf $(D)$(DATADIR)

# The package: an install tree with PREFIX=/usr, control files from etc/debian/, library
# dependencies from dpkg-shlibdeps over the installed binaries (never typed by hand).
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB      := build/manifold_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT := build/deb/root
# A fresh machine needs only the build packages for this: make deb is the first command of README.
deb:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS_BUILD)"
	@$(MAKE) --no-print-directory -j$(NPROC) $(DEB)
$(DEB): $(INSTALL_BINS) $(USER_BINS) etc/VERSION README.md $(wildcard etc/debian/* etc/man/* etc/default/* etc/logrotate.d/*) \
        etc/system.ini etc/init.d/manifold etc/manifold.service tools/man/ini5
	rm -rf build/deb && mkdir -p $(DEB_ROOT)/DEBIAN build/deb/debian
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_ROOT) PREFIX=/usr UNITDIR=/lib/systemd/system
	install -d $(DEB_ROOT)/usr/share/doc/manifold
	install -m 644 etc/debian/copyright $(DEB_ROOT)/usr/share/doc/manifold/copyright
	printf 'manifold (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- Manifold developers <manifold@localhost>  %s\n' \
	  $(VERSION) $(VERSION) "$$(date -R -d @0)" | gzip -9n > $(DEB_ROOT)/usr/share/doc/manifold/changelog.gz
	@# dpkg-shlibdeps wants a source tree's debian/control; an empty one is enough.
	touch build/deb/debian/control
	cd build/deb && dpkg-shlibdeps -O $(addprefix root/usr/sbin/,$(notdir $(INSTALL_BINS))) \
	  $(addprefix root/usr/bin/,$(notdir $(USER_BINS))) \
	  | sed -n 's/^shlibs:Depends=//p' > depends
	@test -s build/deb/depends || { echo "dpkg-shlibdeps found no dependency" >&2; exit 1; }
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
	    -e "s|@SIZE@|$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" \
	    -e "s|@DEPENDS@|$$(cat build/deb/depends)|" etc/debian/control > $(DEB_ROOT)/DEBIAN/control
	install -m 644 etc/debian/conffiles $(DEB_ROOT)/DEBIAN/
	install -m 755 etc/debian/postinst etc/debian/prerm etc/debian/postrm $(DEB_ROOT)/DEBIAN/
	cd $(DEB_ROOT) && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' \
	  | sort -z | xargs -0 md5sum > DEBIAN/md5sums
	chmod 644 $(DEB_ROOT)/DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@

-include $(shell find build -name '*.d' -type f 2>/dev/null)
