# syncpipe: GNU make.
#
#   make                 build the programs into bin/
#   make check           install missing Debian packages (as root), build,
#                        run the unit tests, fuzz replays and bats suites
#   make SANITIZE=1 ...  the same with ASan and UBSan (objects in build-san/)
#   make demo            replicate a generated store M -> R1 -> R2
#   make bench           measure against tar, rsync and doveadm backup
#   make fuzz            libFuzzer binaries (needs clang) in build-fuzz/
#   make install         PREFIX, BINDIR, MANDIR and DESTDIR are honoured

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=

CFLAGS	?= -O2 -g
PKGS	 = libssl libcrypto zlib libsasl2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || \
	echo -lssl -lcrypto -lz -lsasl2)

SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ifeq ($(SANITIZE),1)
OBJDIR	 = build-san
FLAVOUR	 = san
XFLAGS	 = $(SAN_FLAGS)
else
OBJDIR	 = build
FLAVOUR	 = plain
XFLAGS	 =
endif

SP_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc/lib
SP_CFLAGS = -std=c11 -Wall -Wextra
ALL_CPPFLAGS = $(SP_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS = $(SP_CFLAGS) $(PKG_CFLAGS) $(XFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)

LIB_SRC	 = $(wildcard src/lib/*.c)
LIB_OBJ	 = $(patsubst src/lib/%.c,$(OBJDIR)/lib/%.o,$(LIB_SRC))
LIB	 = $(OBJDIR)/libsyncpipe.a

PROG_SRC = $(wildcard src/*.c)
GEN_SRC	 = $(wildcard share/gen/syncpipe-gen.c)
PROGS	 = $(patsubst src/%.c,bin/%,$(PROG_SRC)) \
	   $(patsubst share/gen/%.c,bin/%,$(GEN_SRC))
TOOLS	 = $(filter-out bin/syncpipe-gen,$(PROGS))
PROG_OBJ = $(patsubst bin/%,$(OBJDIR)/prog/%.o,$(PROGS))

UNIT_SRC = $(wildcard t/unit/test-*.c)
UNITS	 = $(patsubst t/unit/%.c,$(OBJDIR)/t/%,$(UNIT_SRC))
TOOL_SRC = $(wildcard t/tools/*.c)
TESTTOOLS = $(patsubst t/tools/%.c,$(OBJDIR)/t/tools/%,$(TOOL_SRC))
FUZZ_SRC = $(wildcard t/fuzz/fuzz-*.c)
FUZZERS	 = $(patsubst t/fuzz/%.c,$(OBJDIR)/t/%,$(FUZZ_SRC))
LIBFUZZERS = $(patsubst t/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
TEST_OBJ = $(patsubst %,%.o,$(UNITS) $(FUZZERS)) $(OBJDIR)/t/driver.o

MAN1	 = $(wildcard docs/*.1)
MAN5	 = $(wildcard docs/*.5)

# bin/ is shared by both flavours: this stamp relinks the programs when the
# flavour changes.
STAMP	 = bin/.flavour-$(FLAVOUR)

.PHONY: all install uninstall clean check check-run demo bench deps lint \
	fuzz tests
.DELETE_ON_ERROR:
# Objects made on the way to a program or test are kept.
.SECONDARY: $(PROG_OBJ) $(TEST_OBJ)

all: $(PROGS)

$(STAMP):
	@mkdir -p bin
	@rm -f bin/.flavour-*
	@touch $@

$(OBJDIR)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJDIR)/prog/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJDIR)/prog/%.o: share/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJDIR)/t/%.o: t/unit/%.c t/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(OBJDIR)/t/%.o: t/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

bin/%: $(OBJDIR)/prog/%.o $(LIB) $(STAMP)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(LDLIBS)

$(OBJDIR)/t/test-%: $(OBJDIR)/t/test-%.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(LDLIBS)

$(OBJDIR)/t/fuzz-%: $(OBJDIR)/t/fuzz-%.o $(OBJDIR)/t/driver.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJDIR)/t/driver.o \
		$(LIB) $(PKG_LIBS) $(LDLIBS)

# Small programs the bats suites use (found through OBJDIR).
$(OBJDIR)/t/tools/%: t/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) \
		$(PKG_LIBS) $(LDLIBS)

tests: $(UNITS) $(FUZZERS) $(TESTTOOLS)

# The packages are checked first, then make runs again so that pkg-config
# sees anything just installed.  A program that does not build is one
# failure; the tests of everything else still run.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run:
	@$(MAKE) --no-print-directory -k all tests; \
	sh t/run-checks.sh $(OBJDIR) $$?

demo: deps
	@$(MAKE) --no-print-directory all
	@bash share/demo.sh

deps:
	@sh share/deps.sh

# Not part of check: about 15 minutes; the table goes to stdout and to
# bench/results.md (see docs/performance.md).
bench:
	@sh share/deps.sh bench
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh

# mandoc -Tlint, less what depends on the manual pages installed on this
# host (cross-references to pages not installed yet, a stale mandoc.db).
lint:
	@if [ -z "$(MAN1)$(MAN5)" ]; then echo "lint: no manual pages yet"; \
	else mandoc -Tlint $(MAN1) $(MAN5) 2>&1 | \
		grep -v -e 'referenced manual not found' \
		    -e 'outdated mandoc.db' | \
		{ ! grep .; }; fi

# Real libFuzzer binaries: each fuzz target with the library sources, built
# by clang with the fuzzer runtime.
fuzz:
	@if command -v clang >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(LIBFUZZERS); \
	else echo "fuzz: clang not found"; exit 1; fi

build-fuzz/fuzz-%: t/fuzz/fuzz-%.c $(LIB_SRC)
	@mkdir -p $(@D)
	clang $(SP_CPPFLAGS) $(CPPFLAGS) -std=c11 -g -O1 $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) \
		$(PKG_LIBS)

install: all
	install -d $(DESTDIR)$(BINDIR)
	for p in $(TOOLS); do install -m 755 $$p $(DESTDIR)$(BINDIR)/; done
	if [ -n "$(MAN1)" ]; then install -d $(DESTDIR)$(MANDIR)/man1 && \
		install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/; fi
	if [ -n "$(MAN5)" ]; then install -d $(DESTDIR)$(MANDIR)/man5 && \
		install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/; fi

uninstall:
	for p in $(notdir $(TOOLS)); do rm -f $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(notdir $(MAN1)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done
	for m in $(notdir $(MAN5)); do rm -f $(DESTDIR)$(MANDIR)/man5/$$m; done

clean:
	rm -rf build build-san build-fuzz t/tmp
	rm -f bin/.flavour-* $(wildcard bin/*)

-include $(wildcard $(OBJDIR)/*/*.d)
