# chatmail-c: every program into build/, sanitizer builds into build/asan/, fuzzers into $(BUILD)/fuzz/.
# Programs are listed once in PROGRAMS with their sources in <name>_SRC, extra libraries in
# <name>_LIBS and, when it links otherwise, <name>_LDLIBS; <name>_STATIC and <name>_STATIC_LIBS
# link the normal build (not the sanitizer build) statically. A program whose sources do not
# exist yet is skipped.

CC       ?= gcc
CFLAGS   ?= -O2 -g
WARNINGS  = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -Ilib $(WARNINGS) $(CFLAGS)
SANITIZE  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS    = -lsqlite3 -lcrypt -lm
PREFIX   ?= /usr/local
DESTDIR  ?=
FUZZ_SECONDS ?= 20
# Another BUILD lets several people build and test in one tree at once.
BUILD    ?= build

PROGRAMS = doveauth newemail filtermail chatmail-expire chatmailctl chatmail-render mxdeliv mxdeliv-send
PROGRAMS += chatmail-metadata chatmail-notifier
doveauth_SRC        = $(wildcard auth/doveauth.c)
# doveauth starts for every login: sqlite and libcrypt linked in (Debian ships both archives)
# spare the dynamic loader most of its work; glibc stays shared, as its NSS needs.
doveauth_LDLIBS     = -Wl,-Bstatic -lsqlite3 -lcrypt -Wl,-Bdynamic -lm
newemail_SRC        = $(wildcard cgi/newemail.c cgi/fcgi_serve.c)
newemail_LIBS       = -lfcgi
mxdeliv_SRC         = $(wildcard cgi/mxdeliv.c cgi/fcgi_serve.c)
mxdeliv_LIBS        = -lfcgi -lopendkim -lcrypto
# Postfix's pipe(8) transport for other domains: /mxdeliv over HTTPS, else back to SMTP.
mxdeliv-send_SRC    = $(wildcard transport/mxdeliv-send.c)
mxdeliv-send_LIBS   = -lssl -lcrypto -lresolv
filtermail_SRC      = $(wildcard filters/*.c)
filtermail_LIBS     = -lopendkim
# Postfix spawns filtermail per connection: linked statically, it starts in ~0.5M instructions
# instead of ~4M in the dynamic loader (libopendkim pulls in libcrypto, libdb, libbsd). The
# static libraries need these too (libcrypto's own as pkg-config says: zlib and zstd on Debian 13);
# the sanitizer build stays dynamic. The linker warns that
# libcrypto and lib/mailstore.o could call NSS (getaddrinfo, getpwnam_r): filtermail calls neither.
filtermail_STATIC   = -static-pie
filtermail_STATIC_LIBS = $(shell pkg-config --static --libs-only-l libcrypto) -ldb -lbsd -lresolv
chatmail-expire_SRC = $(wildcard admin/chatmail-expire.c admin/expire-quota.c)
chatmailctl_SRC     = $(wildcard admin/chatmailctl.c)
chatmail-render_SRC = $(wildcard admin/chatmail-render.c)
# push and METADATA (README "Push notifications, METADATA and TURN"): the dict server computes
# TURN passwords (HMAC-SHA1), the notifier POSTs over TLS.
chatmail-metadata_SRC = $(wildcard push/chatmail-metadata.c)
chatmail-metadata_LIBS = -lcrypto
# Started for every dict connection (every delivery to an account with tokens): linked statically,
# as filtermail, it spares the dynamic loader. The linker warns that libcrypto and
# lib/mailstore.o could call NSS: only --turn-secret (getpwnam_r, run once by root) does.
# libcrypto's static library needs its own (zlib and zstd on Debian 13), as filtermail's.
chatmail-metadata_STATIC = -static-pie
chatmail-metadata_STATIC_LIBS = $(shell pkg-config --static --libs-only-l libcrypto)
chatmail-notifier_SRC = $(wildcard push/chatmail-notifier.c)
chatmail-notifier_LIBS = -lssl -lcrypto

BUILT     = $(foreach p,$(PROGRAMS),$(if $($(p)_SRC),$(p)))
LIB_SRC   = $(wildcard lib/*.c)
LIB_HDR   = $(wildcard lib/*.h)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)

all: $(addprefix $(BUILD)/,$(BUILT)) $(BUILD)/chatmail-setup

# chatmail-setup is a bash script: the copy in a build directory uses this tree's conf/, www/ and
# admin/chatmail-setup-dns.sh (its dns and check commands), an installed one finds them in
# ../share/chatmail.
$(BUILD)/chatmail-setup $(BUILD)/asan/chatmail-setup: admin/chatmail-setup.sh
	@mkdir -p $(dir $@)
	sed 's|^SHARE_TREE=$$|SHARE_TREE=$(CURDIR)|' $< >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

# $(1): output dir, $(2): extra flags
define variant
$(1)/obj/%.o: %.c $$(LIB_HDR) | $(1)/obj
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/libchatmail.a: $$(patsubst %.c,$(1)/obj/%.o,$$(LIB_SRC))
	rm -f $$@ && ar rcs $$@ $$^
$(1)/obj:
	mkdir -p $$@
endef
$(eval $(call variant,$(BUILD),))
$(eval $(call variant,$(BUILD)/asan,$(SANITIZE)))

define program
$(BUILD)/$(1): $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRC)) $(BUILD)/libchatmail.a
	$$(CC) $$(ALL_CFLAGS) $$($(1)_STATIC) -o $$@ $$^ $$($(1)_LIBS) \
		$$(or $$($(1)_LDLIBS),$$(LDLIBS)) $$($(1)_STATIC_LIBS)
$(BUILD)/asan/$(1): $$(patsubst %.c,$(BUILD)/asan/obj/%.o,$$($(1)_SRC)) $(BUILD)/asan/libchatmail.a
	$$(CC) $$(ALL_CFLAGS) $$(SANITIZE) -o $$@ $$^ $$($(1)_LIBS) $$(or $$($(1)_LDLIBS),$$(LDLIBS))
endef
$(foreach p,$(BUILT),$(eval $(call program,$(p))))
# chatmail-expire's two parts share a header of their own.
$(foreach v,$(BUILD) $(BUILD)/asan,$(patsubst %.c,$(v)/obj/%.o,$(chatmail-expire_SRC))): \
	admin/chatmail-expire.h

# A unit test's extra libraries are in test_<name>_LIBS.
test_dkim_check_LIBS = -lopendkim -lcrypto
test_http_client_LIBS = -lssl -lcrypto
$(BUILD)/asan/test_%: $(BUILD)/asan/obj/tests/unit/test_%.o $(BUILD)/asan/libchatmail.a
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -o $@ $^ $(test_$*_LIBS) $(LDLIBS)

UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRC))

# The differential oracle (tests/oracle/, run like a unit test) and its fuzz target are the only
# programs that link GMime 3: an independent MIME reader to check our policy against, never a
# part of filtermail or lib/. Its headers are system headers to our warnings.
ORACLE_SRC       = $(wildcard tests/oracle/*.c)
ORACLE_CHECK_SRC = $(filter-out tests/oracle/main.c tests/oracle/mutations.c,$(ORACLE_SRC))
ORACLE_BIN       = $(if $(ORACLE_SRC),$(BUILD)/asan/oracle)
GMIME_CFLAGS     = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags gmime-3.0))
GMIME_LIBS       = $(shell pkg-config --libs gmime-3.0)
$(foreach v,$(BUILD) $(BUILD)/asan,$(v)/obj/tests/oracle/%.o): ALL_CFLAGS += $(GMIME_CFLAGS)
$(foreach v,$(BUILD) $(BUILD)/asan,$(patsubst %.c,$(v)/obj/%.o,$(ORACLE_SRC))): \
	$(wildcard tests/oracle/*.h)
$(BUILD)/asan/oracle: $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(ORACLE_SRC)) $(BUILD)/asan/libchatmail.a
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -o $@ $^ $(GMIME_LIBS) $(LDLIBS)

# Test helpers (tests/tools/*.c): programs the bats suites (sanitizer build) and the
# benchmarks (normal build) drive, linked with the library for its stream layer.
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(patsubst tests/tools/%.c,$(BUILD)/asan/tools/%,$(TOOL_SRC))
# A tool's extra libraries are in tool_<name>_LIBS.
tool_imapidle_LIBS = -lssl -lcrypto
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libchatmail.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(tool_$*_LIBS) $(LDLIBS)
$(BUILD)/asan/tools/%: tests/tools/%.c $(BUILD)/asan/libchatmail.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -o $@ $^ $(tool_$*_LIBS) $(LDLIBS)

deps:
	@scripts/deps

# What the bats suites run: the sanitizer builds, chatmail-setup, the test tools; and the normal
# build, which make install takes.
bats-programs: all $(addprefix $(BUILD)/asan/,$(BUILT)) $(BUILD)/asan/chatmail-setup $(TOOL_BIN)

# The whole suite: unit tests and bats tests run the sanitizer builds of every program; then the
# real-daemon suites again on Debian 13 (scripts/debian13), whatever the first part gave.
check: deps bats-programs clang $(UNIT_BIN) $(ORACLE_BIN)
	@status=0; CHATMAIL_BIN=$(abspath $(BUILD)/asan) scripts/check $(UNIT_BIN) $(ORACLE_BIN) || status=1; \
		scripts/debian13 check || status=1; exit $$status

# The real-daemon suites on Debian 13 (Dovecot 2.4) in a cached debootstrap root below build/.
check-debian13:
	@scripts/debian13 check

# The house style promises a clean build under clang too: the programs and unit tests, unrun.
clang:
	@$(MAKE) -s BUILD=$(BUILD)/clang CC=clang all $(patsubst $(BUILD)/%,$(BUILD)/clang/%,$(UNIT_BIN) $(ORACLE_BIN))

unit: $(UNIT_BIN) $(ORACLE_BIN)
	@scripts/check --unit-only $(UNIT_BIN) $(ORACLE_BIN)

# libFuzzer targets: each links the library sources directly, built with clang, so each needs
# every library's libraries.
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(BUILD)/fuzz
	clang -std=c17 -D_GNU_SOURCE -Ilib -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB_SRC) -lopendkim -lssl -lcrypto $(LDLIBS)

# The oracle's target also links GMime and the oracle's own readers.
$(BUILD)/fuzz/fuzz_oracle: tests/fuzz/fuzz_oracle.c $(ORACLE_CHECK_SRC) $(wildcard tests/oracle/*.h) $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(BUILD)/fuzz
	clang -std=c17 -D_GNU_SOURCE -Ilib -Itests/oracle $(GMIME_CFLAGS) -g -O1 \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(ORACLE_CHECK_SRC) $(LIB_SRC) \
		$(GMIME_LIBS) -lopendkim -lssl -lcrypto $(LDLIBS)

# Every target runs even when one fails; a crashing input is kept as $(BUILD)/fuzz/<target>-crash-*.
fuzz: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
	@failed=; for f in $^; do name=$${f##*/}; mkdir -p $(BUILD)/fuzz/corpus/$$name; \
		seeds=tests/fuzz/corpus/$$name; [ -d $$seeds ] || seeds=; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=$(BUILD)/fuzz/$$name- \
			$(BUILD)/fuzz/corpus/$$name $$seeds 2>$(BUILD)/fuzz/$$name.log || \
			{ tail -40 $(BUILD)/fuzz/$$name.log; failed="$$failed $$name"; continue; }; \
		grep -E '^(Done|#[0-9]+ *DONE)' $(BUILD)/fuzz/$$name.log | tail -1; done; \
	[ -z "$$failed" ] || { echo "fuzz: failed:$$failed"; exit 1; }

BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

# The floor of a spawned filter is a static program, as filtermail is.
$(BUILD)/bench/responder: bench/responder.c
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -static -o $@ $<

# The send rate limiter's cost is measured on the library itself.
$(BUILD)/bench/ratelimit-cost: bench/ratelimit-cost.c $(BUILD)/libchatmail.a
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# What incoming DKIM costs, on the library, its keys served by the unit tests' DNS server.
$(BUILD)/bench/dkim-cost: bench/dkim-cost.c $(BUILD)/libchatmail.a tests/unit/dkim_signer.h tests/unit/dns_server.h
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libchatmail.a -lopendkim -lcrypto $(LDLIBS)

bench: all $(BENCH_BIN) $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
	@CHATMAIL_BIN=$(abspath $(BUILD)) scripts/bench

run: deps all
	@CHATMAIL_BIN=$(abspath $(BUILD)) $(if $(INSTANT_IDLE),$(INSTANT_RUN)) scripts/run

# Opt-in: Debian's dovecot rebuilt with instant IDLE (admin/chatmail-instant-idle.sh), built once
# into build/dovecot-instant for every BUILD (a long build, at the lowest priority), then the
# relay suites and tests/instant-idle/ on it. `make run INSTANT_IDLE=1` and bench/instant-idle.sh
# use it; the build's Dovecot takes the system's place only for them (a private mount namespace).
INSTANT_CACHE = build/dovecot-instant
INSTANT_RUN = admin/chatmail-instant-idle.sh run --cache $(INSTANT_CACHE)
instant-idle: deps all $(addprefix $(BUILD)/asan/,$(BUILT)) $(BUILD)/asan/chatmail-setup $(TOOL_BIN)
	@INSTANT_IDLE_JOBS=2 admin/chatmail-instant-idle.sh build --cache $(INSTANT_CACHE) --local
	@CHATMAIL_BIN=$(abspath $(BUILD)/asan) $(INSTANT_RUN) scripts/check
	@CHATMAIL_BIN=$(abspath $(BUILD)/asan) $(INSTANT_RUN) bats tests/instant-idle

# Programs and chatmail-setup into bin/; the templates, pages, the layout (render values, port
# map, the shell chatmail-setup shares with scripts/relay) and chatmail-setup's DNS part (files
# it sources, not commands) into share/chatmail/, where an installed chatmail-setup looks; the
# manual pages into share/man/man8/.
SHARE_FILES = $(shell find conf www layout -type f ! -name '.*')
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/chatmail $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(addprefix $(BUILD)/,$(BUILT)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 admin/chatmail-setup.sh $(DESTDIR)$(PREFIX)/bin/chatmail-setup
	install -m 0755 admin/chatmail-instant-idle.sh $(DESTDIR)$(PREFIX)/bin/chatmail-instant-idle
	rm -rf $(addprefix $(DESTDIR)$(PREFIX)/share/chatmail/,conf www layout)
	for f in $(SHARE_FILES); do install -D -m 0644 $$f $(DESTDIR)$(PREFIX)/share/chatmail/$$f || exit 1; done
	install -m 0644 admin/chatmail-setup-dns.sh $(DESTDIR)$(PREFIX)/share/chatmail/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf $(BUILD)

.PHONY: all deps check check-debian13 bats-programs clang unit fuzz bench run install clean instant-idle
.SECONDARY:
