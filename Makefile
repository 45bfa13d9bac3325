# Chợ Số build. Every dependency through pkg-config; sources found by wildcard so each room
# adds files without touching this file. Test binaries: tests/{unit,integration}/test_*.c.
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
PKGS     := libmicrohttpd libcurl openssl jansson libmariadb libcsv xlsxwriter libutf8proc libqrencode minizip expat pangocairo zlib
SANITIZE ?=
WERROR   ?= $(if $(CI),-Werror,)

# libcsv ships no .pc file on Debian 12: fall back to -lcsv for it alone.
PKG_CFLAGS := $(shell pkg-config --cflags $(filter-out libcsv,$(PKGS)) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libcsv,$(PKGS)) 2>/dev/null) -lcsv

WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wvla -Wpointer-arith -Wno-format-truncation
OPT      ?= -O2 -g
CFLAGS   += $(OPT) -std=c17 -D_GNU_SOURCE $(WARN) $(WERROR) -I. $(PKG_CFLAGS) -pthread -fno-strict-aliasing
LDLIBS   += $(PKG_LIBS) -lcmocka -pthread -lm
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
BUILD    := $(BUILD)-san
endif

CORE_SRC  := $(wildcard core/*.c)
CX_SRC    := $(wildcard connectors/*.c)
# The simulators: test and training infrastructure, never in the production library or binary.
SBX_SRC   := $(filter-out sandbox/main.c,$(wildcard sandbox/*.c))
JOBS_SRC  := $(wildcard jobs/*.c)
SVC_SRC   := $(wildcard service/*.c)
CLI_SRC   := $(filter-out cli/main.c,$(wildcard cli/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
TSUP_SRC  := $(wildcard tests/support/*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
SCRIPT_TESTS := $(wildcard tests/scripts/test_*.sh)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBCORE := $(BUILD)/libchoso-core.a
LIBCX   := $(BUILD)/libchoso-cx.a
LIBSBX  := $(BUILD)/libchoso-sandbox.a
LIBJOBS := $(BUILD)/libchoso-jobs.a
LIBSVC  := $(BUILD)/libchoso-svc.a
LIBCLI  := $(BUILD)/libchoso-cli.a
LIBTSUP := $(BUILD)/libchoso-testsupport.a
# Link order: higher rooms first (cli → service, jobs → connectors → core).
LIBS_ALL := $(LIBCLI) $(LIBSVC) $(LIBJOBS) $(LIBCX) $(LIBCORE)
# Tests and benches also drive the simulators in-process; the sandbox sits on connectors/sign.
LIBS_TEST := $(LIBCLI) $(LIBSVC) $(LIBJOBS) $(LIBSBX) $(LIBCX) $(LIBCORE)

UNIT_BIN  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(INTEG_SRC))
BENCH_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(BENCH_SRC))
FUZZ_BIN  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(FUZZ_SRC))

.PHONY: all test test-unit test-quick run clean clean-var install fuzz valgrind format bootstrap bench bench-api bench-import bench-sync bench-targets bench-orders bench-phone bench-showcase check-banned bench-recheck
all: $(BUILD)/choso $(BUILD)/choso-sandbox

Q := $(if $(V),,@)
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<",true)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBCORE): $(call obj,$(CORE_SRC))
$(LIBCX):   $(call obj,$(CX_SRC))
$(LIBSBX):  $(call obj,$(SBX_SRC))
$(LIBJOBS): $(call obj,$(JOBS_SRC))
$(LIBSVC):  $(call obj,$(SVC_SRC))
$(LIBCLI):  $(call obj,$(CLI_SRC))
$(LIBTSUP): $(call obj,$(TSUP_SRC))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/choso: $(BUILD)/cli/main.o $(LIBS_ALL)
	@$(if $(Q),echo "  LINK    $@",true)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIBS_ALL) -Wl,--end-group $(LDLIBS)

# The simulators' own binary; `choso sandbox` execs it from the same directory.
$(BUILD)/choso-sandbox: $(BUILD)/sandbox/main.o $(LIBSBX) $(LIBCX) $(LIBCORE)
	@$(if $(Q),echo "  LINK    $@",true)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIBSBX) $(LIBCX) $(LIBCORE) -Wl,--end-group $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBTSUP) $(LIBS_TEST)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@",true)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(LIBTSUP) $(LIBS_TEST) -Wl,--end-group $(LDLIBS)

tests-build: $(BUILD)/choso $(BUILD)/choso-sandbox $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_BIN) $(BENCH_BIN)
tests-build: $(BUILD)/tests/fault/libfakeclock.so

# The wall-clock stepper the clock fault test preloads (tests/fault/fakeclock.c); no sanitizer:
# it runs inside whichever build it is preloaded into.
$(BUILD)/tests/fault/libfakeclock.so: tests/fault/fakeclock.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -std=c17 -D_GNU_SOURCE $(WARN) $(WERROR) -fPIC -shared -o $@ $< -ldl

# `make test` installs the browser-test group too (Chromium, playwright-core), so the README's
# two commands do all the set-up; `make run` needs only the base packages.
bootstrap:
	@scripts/bootstrap $(BOOTSTRAP_GROUPS)
test: BOOTSTRAP_GROUPS = browser

# The whole suite: a throwaway MariaDB, every unit and integration binary, one summary line.
test: bootstrap check-banned
	$(MAKE) tests-build
	BUILD=$(BUILD) scripts/run-tests $(UNIT_BIN) $(FUZZ_BIN) $(SCRIPT_TESTS) $(INTEG_BIN)

test-unit: tests-build
	BUILD=$(BUILD) scripts/run-tests --no-db $(UNIT_BIN) $(FUZZ_BIN) $(SCRIPT_TESTS)

# The unit tests (no database) under valgrind's memcheck: any error or leak fails the run.
valgrind: tests-build
	BUILD=$(BUILD) TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	  scripts/run-tests --no-db $(UNIT_BIN) $(FUZZ_BIN)

# The threaded parts under ThreadSanitizer (clang, its own build dir build-tsan): the worker and
# its handler threads, the status cache, the transport's limiter, the import's helper thread,
# the server under concurrent requests; the fault scripts run the tsan-built choso (serve,
# worker: the import's helper and bulk-sealing threads) and fail on any report in its logs.
TSAN_BIN := $(addprefix build-tsan/tests/,unit/test_status_cache unit/test_cx_transport \
  integration/test_status_cache integration/test_jobs_worker integration/test_import \
  integration/test_api_concurrency integration/test_http_core integration/test_flows)
TSAN_SCRIPTS := tests/scripts/test_fault_kill.sh tests/scripts/test_fault_db.sh
.PHONY: tsan
tsan:
	$(MAKE) BUILD=build-tsan CC=clang SANITIZE=thread OPT="-O1 -g" build-tsan/choso \
	  build-tsan/choso-sandbox build-tsan/tests/bench/bench_import $(TSAN_BIN)
	BUILD=build-tsan TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4" \
	  scripts/run-tests $(TSAN_BIN) $(TSAN_SCRIPTS)

# Coverage-guided fuzzing with libFuzzer (clang): `make fuzz FUZZ=sheet SECONDS=300`.
# `make test` only replays each harness's corpus (tests/fuzz/corpus/<name>/).
FUZZ ?= cx_parse
SECONDS ?= 60
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SANITIZE=fuzzer,address,undefined \
	  OPT="-O1 -g -DCHOSO_LIBFUZZER" build-fuzz/tests/fuzz/fuzz_$(FUZZ)
	mkdir -p build-fuzz/corpus-$(FUZZ) && cp -n tests/fuzz/corpus/$(FUZZ)/* build-fuzz/corpus-$(FUZZ)/ || true
	build-fuzz/tests/fuzz/fuzz_$(FUZZ) -max_total_time=$(SECONDS) build-fuzz/corpus-$(FUZZ)

# Every harness built for libFuzzer (clang, ASan+UBSan), then each run RUNS executions (default
# 10 million) or MAX_SECONDS seconds: `make fuzz-long`, `make fuzz-long RUNS=1000000`. Not in CI;
# figures in build-fuzz/fuzz-long.txt (README "Hostile input and faults"). Needs
# `scripts/bootstrap bench`.
.PHONY: fuzz-build fuzz-long
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang SANITIZE=fuzzer,address,undefined \
	  OPT="-O1 -g -DCHOSO_LIBFUZZER" $(patsubst tests/%.c,build-fuzz/tests/%,$(FUZZ_SRC))
fuzz-long: fuzz-build
	RUNS=$(or $(RUNS),10000000) MAX_SECONDS=$(or $(MAX_SECONDS),0) scripts/fuzz-long

run: bootstrap
	$(MAKE) all
	BUILD=$(BUILD) scripts/run-demo

.PHONY: run-cluster test-cluster
# The same demo on a 3-node Galera cluster (scripts/devcluster), 2 serve behind nginx, 2 workers.
run-cluster: BOOTSTRAP_GROUPS = cluster
run-cluster: bootstrap
	$(MAKE) all
	BUILD=$(BUILD) CHOSO_DEMO_CLUSTER=1 CHOSO_DEMO_VAR=$${CHOSO_DEMO_VAR:-var/cluster-demo} scripts/run-demo

# Kill a database node, a serve and a worker under load; then check nothing was lost
# (scripts/test-cluster). Run by .ci/run.
test-cluster: BOOTSTRAP_GROUPS = cluster
test-cluster: bootstrap
	$(MAKE) all $(BUILD)/tests/bench/bench_sync
	BUILD=$(BUILD) scripts/test-cluster

bench: bench-api bench-import bench-sync bench-targets bench-orders bench-phone bench-showcase
bench-api bench-import bench-sync bench-targets bench-orders bench-recheck: bootstrap
	$(MAKE) tests-build
	BUILD=$(BUILD) scripts/$@

# API requests/s through nginx with 2 serve against 1 on a 3-node Galera cluster, and image reads
# from a node's cache against a miss (scripts/bench-cluster).
.PHONY: bench-cluster
bench-cluster: BOOTSTRAP_GROUPS = cluster bench
bench-cluster: bootstrap
	$(MAKE) all
	BUILD=$(BUILD) scripts/bench-cluster

# The public showcase's list page with 5,000 live products: server time and nginx side by side.
bench-showcase: bootstrap
	$(MAKE) all
	BUILD=$(BUILD) scripts/bench-showcase

# The house's own rules too (scripts/check-house): no SQL in service/ or cli/, no include running
# upward, no column read by bare position.
check-banned:
	@scripts/check-banned
	@scripts/check-house

install: $(BUILD)/choso $(BUILD)/choso-sandbox
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/choso
	install -m 0755 $(BUILD)/choso $(DESTDIR)$(PREFIX)/bin/choso
	cp -r schemas $(DESTDIR)$(PREFIX)/share/choso/
	if [ -d web ]; then cp -r web $(DESTDIR)$(PREFIX)/share/choso/; fi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# What CI checks (.ci/run): every tracked C file exactly as `make format` would leave it; a
# drift fails, naming file:line (clang-format 14, Debian 12's, with the root .clang-format).
.PHONY: format-check
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san

# The demo's private database, keys and media (make run keeps them between runs).
clean-var:
	-scripts/devdb stop var/db 2>/dev/null
	rm -rf var

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The volunteer page on an emulated slow-3G phone (issue 13): a benchmark, not a test.
bench-phone: BOOTSTRAP_GROUPS = browser
bench-phone: bootstrap
	$(MAKE) all
	BUILD=$(BUILD) scripts/bench-phone
