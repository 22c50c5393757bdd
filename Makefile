# sandpool: `make`, `make test`, `make install` (PREFIX, DESTDIR).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/sandpool
BUILD ?= build

CC ?= cc
# Where sandpool and sandpool-server go (the sanitizer build puts them in its
# build directory).
OUT ?= .
PKG_CONFIG ?= pkg-config
PKGS := libseccomp libcap jansson libarchive nettle yaml-0.1

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wpointer-arith -Wundef
HARDENING := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
CFLAGS ?= -g
override CFLAGS += -std=gnu11 $(WARNINGS) $(HARDENING) -D_GNU_SOURCE \
	-I. -I$(BUILD) $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += -Wl,-z,relro,-z,now,-z,noexecstack

# sandpool is a static PIE: no dynamic loading at start, and fewer mappings
# to copy when a cell forks a step (about 5 ms of every cold run here). Only
# the tar and zip readers and the gzip and zstd filters of libarchive are
# used: the zip reader's methods need lzma and bzip2, and its other formats'
# libraries (xml2, acl, lz4...) are never linked in.
# sandpool-server, which `sandpool serve` runs, also needs hiredis (the
# Redis queue) and civetweb, which Debian ships only as a shared library: it
# links every library statically but civetweb and libc. STATIC=0 links everything dynamically.
STATIC ?= 1
STATIC_LIBS := $(shell $(PKG_CONFIG) --static --libs libseccomp libcap jansson nettle yaml-0.1) \
	-larchive -lnettle -llzma -lbz2 -lzstd -lz
ifeq ($(STATIC),1)
SANDPOOL_LDFLAGS := -static-pie
SANDPOOL_LIBS := $(STATIC_LIBS)
SERVER_LIBS := -Wl,-Bstatic $(STATIC_LIBS) -lhiredis -Wl,-Bdynamic -lcivetweb
else
SANDPOOL_LDFLAGS := -pie
SANDPOOL_LIBS := $(PKG_LIBS)
SERVER_LIBS := $(PKG_LIBS) -lhiredis -lcivetweb
endif

# Objects by folder, one folder per layer, each calling only those below it
# (DESIGN.md, "Folders and layers"; tools/check-layers checks it):
# sandbox/base and sandbox, rootfs: libsandbox.a; server/job: the job model
# both programs share; server/engine: the running server; server/http: its
# HTTP and WebSocket API; server/: the two programs and their command lines.
SANDBOX_SRC := $(sort $(wildcard sandbox/base/*.c sandbox/*.c rootfs/*.c))
JOB_SRC := $(sort $(wildcard server/job/*.c))
ENGINE_SRC := $(sort $(wildcard server/engine/*.c))
HTTP_SRC := $(sort $(wildcard server/http/*.c))
PROGRAM_SRC := $(sort $(wildcard server/*.c))
SERVER_SRC := $(JOB_SRC) $(ENGINE_SRC) $(HTTP_SRC) $(PROGRAM_SRC)
SANDBOX_OBJ := $(SANDBOX_SRC:%.c=$(BUILD)/%.o)
JOB_OBJ := $(JOB_SRC:%.c=$(BUILD)/%.o)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
HTTP_OBJ := $(HTTP_SRC:%.c=$(BUILD)/%.o)
# `sandpool`: every command but serve, which runs `sandpool-server`.
CLI_OBJ := $(filter-out $(BUILD)/server/server_main.o $(BUILD)/server/cmd_serve.o, \
	$(PROGRAM_SRC:%.c=$(BUILD)/%.o))
SERVE_OBJ := $(BUILD)/server/server_main.o $(BUILD)/server/cmd_serve.o
LIBSANDBOX := $(BUILD)/libsandbox.a

# Unit tests, in the folder of the layer they test, link that layer and
# those below it only: a call up is a link error.
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
SECURITY_SRC := $(sort $(wildcard tests/security/*.c))
SECURITY_BIN := $(SECURITY_SRC:%.c=$(BUILD)/%)

.PHONY: FORCE all tests-build test test-unit test-integration test-vm install clean format format-check bench \
	fuzz-build fuzz-smoke sanitize soak-sanitize

# The loader of a prepared Java runtime (languages/prepare/): a JVM TI agent,
# built where a JDK's jvmti.h is (openjdk-17-jdk-headless); without it Java
# jobs start their JVM as they come.
JVMTI_H := $(firstword $(wildcard /usr/lib/jvm/java-17-openjdk-*/include/jvmti.h /usr/lib/jvm/*/include/jvmti.h))
ifneq ($(JVMTI_H),)
PREPARE_AGENT := languages/prepare/jvm_agent.so
endif

all: $(OUT)/sandpool $(OUT)/sandpool-server $(PREPARE_AGENT)


languages/prepare/jvm_agent.so: languages/prepare/jvm_agent.c
	@echo "  CC      $@"
	@$(CC) -shared -fPIC -O2 -g -Wall -Wextra -Werror -I$(dir $(JVMTI_H)) -I$(dir $(JVMTI_H))linux \
		-o $@ $<

$(OUT)/sandpool: $(CLI_OBJ) $(JOB_OBJ) $(LIBSANDBOX)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) $(SANDPOOL_LDFLAGS) -o $@ $^ $(SANDPOOL_LIBS)

# the server serves the languages, the Java loader among them
$(OUT)/sandpool-server: $(SERVE_OBJ) $(HTTP_OBJ) $(ENGINE_OBJ) $(JOB_OBJ) $(LIBSANDBOX) | $(PREPARE_AGENT)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $^ $(SERVER_LIBS)

$(LIBSANDBOX): $(SANDBOX_OBJ)
	@mkdir -p $(dir $@)
	@$(AR) rcs $@ $^

# Settings compiled in. Rewritten only when they change, so that
# `make install PREFIX=...` rebuilds what depends on them.
$(BUILD)/build_config.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define SANDPOOL_DATADIR "%s"\n' '$(DATADIR)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/server/job/paths.o: $(BUILD)/build_config.h

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

UNIT_LIBS := $(PKG_LIBS) -lhiredis -lpthread $(shell $(PKG_CONFIG) --libs cmocka)

$(BUILD)/tests/unit/sandbox/%: tests/unit/sandbox/%.c $(LIBSANDBOX)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(LIBSANDBOX) $(UNIT_LIBS)

$(BUILD)/tests/unit/job/%: tests/unit/job/%.c $(JOB_OBJ) $(LIBSANDBOX)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(JOB_OBJ) $(LIBSANDBOX) $(UNIT_LIBS)

$(BUILD)/tests/unit/engine/%: tests/unit/engine/%.c $(ENGINE_OBJ) $(JOB_OBJ) $(LIBSANDBOX)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(ENGINE_OBJ) $(JOB_OBJ) $(LIBSANDBOX) $(UNIT_LIBS)

$(BUILD)/tests/unit/http/%: tests/unit/http/%.c $(HTTP_OBJ) $(ENGINE_OBJ) $(JOB_OBJ) $(LIBSANDBOX)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -pie -o $@ $< $(HTTP_OBJ) $(ENGINE_OBJ) $(JOB_OBJ) \
		$(LIBSANDBOX) -lcivetweb $(UNIT_LIBS)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIBSANDBOX)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) $(SANDPOOL_LDFLAGS) -o $@ $< $(LIBSANDBOX) $(SANDPOOL_LIBS)

# Hostile programs: static, so that they run in any rootfs.
$(BUILD)/tests/security/%: tests/security/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) -O1 -g -static -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $< -lpthread

# libFuzzer harnesses (tests/fuzz/fuzz_*.c): clang with ASan and UBSan (every
# UBSan report fatal), over the project's own sources compiled again with the
# same flags in $(FUZZ_BUILD), apart from the normal build.
FUZZ_CC ?= clang-14
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(WARNINGS) $(FUZZ_SAN) -D_GNU_SOURCE -DSP_FUZZ \
	-I. -I$(BUILD) $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
# The WebSocket frame reader is a server object with no civetweb in it.
FUZZ_LIB_OBJ := $(patsubst $(BUILD)/%,$(FUZZ_BUILD)/%,$(SANDBOX_OBJ) $(JOB_OBJ) \
	$(BUILD)/server/http/http_ws_frame.o)
FUZZ_LIB := $(FUZZ_BUILD)/libsandpool-fuzz.a

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/server/job/paths.o: $(BUILD)/build_config.h

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DSP_SOURCE_DIR='"$(CURDIR)"' -o $@ $< \
		$(FUZZ_LIB) $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# Each harness for about 20 s from its seeds; fails when one crashes.
fuzz-smoke: fuzz-build
	tools/run-tests fuzz

BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)

tests-build: sandpool sandpool-server $(UNIT_BIN) $(SECURITY_BIN) $(BENCH_BIN) fuzz-build

test: tests-build
	tools/run-tests

test-unit: $(UNIT_BIN)
	tools/run-tests unit

test-integration: sandpool sandpool-server $(SECURITY_BIN)
	tools/run-tests integration

test-vm: sandpool $(SECURITY_BIN)
	tools/run-tests vm

bench: sandpool
	tools/bench-run

# sandpool and sandpool-server with AddressSanitizer (LeakSanitizer included)
# and UndefinedBehaviorSanitizer, linked dynamically (ASan cannot be static),
# in their own build directory. `make soak-sanitize` runs tools/soak on them.
SANITIZE_BUILD ?= build-sanitize
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
sanitize:
	@$(MAKE) --no-print-directory BUILD=$(SANITIZE_BUILD) OUT=$(SANITIZE_BUILD) STATIC=0 \
		CFLAGS="-g $(SANITIZE_FLAGS)" LDFLAGS="$(SANITIZE_FLAGS)" all

# AddressSanitizer keeps freed memory aside (its quarantine, 256 MiB): the
# server's RSS grows with it, so only leaks and errors count here.
soak-sanitize: sanitize
	tools/soak --jobs 2000 --faults --tolerance 100000 --sandpool $(SANITIZE_BUILD)/sandpool

install: sandpool sandpool-server
	install -D -m 0755 sandpool $(DESTDIR)$(BINDIR)/sandpool
	install -D -m 0755 sandpool-server $(DESTDIR)$(BINDIR)/sandpool-server
	install -d $(DESTDIR)$(DATADIR)/policies $(DESTDIR)$(DATADIR)/languages $(DESTDIR)$(DATADIR)/web
	install -m 0644 web/* $(DESTDIR)$(DATADIR)/web/
	install -m 0644 policies/*.json $(DESTDIR)$(DATADIR)/policies/
	install -m 0644 languages/*.json $(DESTDIR)$(DATADIR)/languages/
	install -d $(DESTDIR)$(DATADIR)/languages/prepare
	install -m 0644 $(wildcard languages/prepare/*.py languages/prepare/*.js languages/prepare/*.so) \
		$(DESTDIR)$(DATADIR)/languages/prepare/

format:
	clang-format -i languages/prepare/jvm_agent.c $(SANDBOX_SRC) $(SERVER_SRC) $(wildcard sandbox/base/*.h sandbox/*.h rootfs/*.h server/*.h server/*/*.h) $(UNIT_SRC) $(SECURITY_SRC) $(BENCH_SRC) $(FUZZ_SRC) $(wildcard tests/fuzz/*.h)

format-check:
	clang-format --dry-run -Werror languages/prepare/jvm_agent.c $(SANDBOX_SRC) $(SERVER_SRC) $(wildcard sandbox/base/*.h sandbox/*.h rootfs/*.h server/*.h server/*/*.h) $(UNIT_SRC) $(SECURITY_SRC) $(BENCH_SRC) $(FUZZ_SRC) $(wildcard tests/fuzz/*.h)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) sandpool sandpool-server languages/prepare/jvm_agent.so

FORCE:

-include $(SANDBOX_OBJ:.o=.d) $(SERVER_SRC:%.c=$(BUILD)/%.d) $(FUZZ_LIB_OBJ:.o=.d)
