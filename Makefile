# coffer top-level Makefile: installs what the build needs, then drives Meson.
# `make` builds, `make check` runs every test (plain and ASan+UBSan builds,
# and the threaded parts again under ThreadSanitizer),
# `make demo` runs the main job end to end, `make bench` runs coffer-bench,
# `make fuzz` runs every libFuzzer target for FUZZ_TIME seconds each.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
# What runs under ThreadSanitizer: the code whose threads share state
# (the logger, the connection layer, cofferd's workers, the client's
# multiplexing).
TSAN_TESTS = log conn tls cofferd client remote-threads remote-session remote-crypto
FUZZ_TIME  ?= 300
MESON_OPTS ?=
DEPS = meson ninja-build pkg-config gcc python3 libssl-dev libsqlite3-dev \
       libp11-kit-dev libcmocka-dev opensc softhsm2 p11-kit \
       clang libclang-rt-14-dev \
       libengine-pkcs11-openssl curl gnutls-bin libnss3-tools \
       openssh-client openssh-server golang-go \
       golang-github-thalesignite-crypto11-dev p11-kit-modules iproute2 \
       groff-base systemd
# `make install` installs under PREFIX (Meson's default, /usr/local; the
# modules in <prefix>/lib/x86_64-linux-gnu/pkcs11). PREFIX=/usr puts them
# in Debian's multiarch PKCS#11 directory, as a package would. Either way
# p11-kit, pkcs11-tool --module libcoffer.so and coffer find libcoffer.so
# (README.md). DESTDIR stages the install.
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps build check fuzz demo bench bench-remote clean install uninstall

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized $(MESON_OPTS)

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dsanitized=true $(MESON_OPTS)

# libFuzzer targets: clang, ASan+UBSan, coverage-instrumented (tests/fuzz).
$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined \
	  -Db_lundef=false --buildtype=debug -Dsanitized=true $(MESON_OPTS)

$(TSAN_BUILD)/build.ninja: | deps
	meson setup $(TSAN_BUILD) --buildtype=debugoptimized -Db_sanitize=thread \
	  -Db_lundef=false $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

check: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja $(FUZZ_BUILD)/build.ninja $(TSAN_BUILD)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	ninja -C $(FUZZ_BUILD) fuzz
	ninja -C $(TSAN_BUILD)
	@rc=0; \
	meson test -C $(BUILD) --print-errorlogs --no-rebuild --num-processes 2 || rc=1; \
	meson test -C $(ASAN_BUILD) --print-errorlogs --no-rebuild --num-processes 2 --suite unit --suite api --suite crash --suite interop || rc=1; \
	meson test -C $(FUZZ_BUILD) --print-errorlogs --no-rebuild --num-processes 2 --suite fuzz || rc=1; \
	meson test -C $(TSAN_BUILD) --print-errorlogs --no-rebuild --num-processes 2 $(TSAN_TESTS) || rc=1; \
	python3 tests/summary.py $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json \
	  $(FUZZ_BUILD)/meson-logs/testlog.json $(TSAN_BUILD)/meson-logs/testlog.json || rc=1; \
	exit $$rc

# Every target for FUZZ_TIME seconds, one after the other, each on a copy
# of its seed corpus (tests/fuzz/run_fuzz.sh).
fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) fuzz
	@rc=0; for f in $(FUZZ_BUILD)/tests/fuzz/fuzz_*; do \
	  [ -x "$$f" ] && [ -f "$$f" ] || continue; \
	  n=$$(basename $$f); echo "== $$n ($(FUZZ_TIME) s)"; \
	  tests/fuzz/run_fuzz.sh $$f tests/fuzz/corpus/$$n $(FUZZ_TIME) || rc=1; \
	done; exit $$rc

demo: build
	./tests/interop/demo.sh $(BUILD)

bench: build
	./bench/run.sh $(BUILD)

bench-remote: build
	./bench/run-remote.sh $(BUILD)

# The prefix is set on the build directory (coffer's default module path
# is compiled in from it). ldconfig lets programs dlopen the modules by
# bare name from a prefix outside the linker's built-in directories.
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

# Removes what the last `make install` from $(BUILD) installed.
uninstall:
	ninja -C $(BUILD) uninstall

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD)
