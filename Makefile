# coffer top-level Makefile: installs what the build needs, then drives Meson.
# `make` builds, `make check` runs every test (plain and ASan+UBSan builds),
# `make demo` runs the main job end to end, `make bench` runs coffer-bench.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?=
DEPS = meson ninja-build pkg-config gcc python3 libssl-dev libsqlite3-dev \
       libp11-kit-dev libcmocka-dev opensc softhsm2 p11-kit

.PHONY: all deps build check demo bench clean install

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

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

check: deps $(BUILD)/build.ninja $(ASAN_BUILD)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	@rc=0; \
	meson test -C $(BUILD) --print-errorlogs --no-rebuild --num-processes 2 || rc=1; \
	meson test -C $(ASAN_BUILD) --print-errorlogs --no-rebuild --num-processes 2 --suite unit --suite api --suite crash --suite interop || rc=1; \
	python3 tests/summary.py $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json || rc=1; \
	exit $$rc

demo: build
	./tests/interop/demo.sh $(BUILD)

bench: build
	./bench/run.sh $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
