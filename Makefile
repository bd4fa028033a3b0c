# Postern: plain GNU make with pkg-config.
#   make [ASAN=1]     build (ASAN=1: AddressSanitizer + UBSan, in build-asan/)
#   make check        install missing Debian packages, build, run every test
#   make demo         a private Postfix on 127.0.0.1 with Postern plugged in
#   make demo-stop    stop it
#   make bench        benchmarks (bench/), printed as ratios to raw tools
#   make fuzz         libFuzzer targets with clang (t/fuzz/)
#   make install      PREFIX, DESTDIR, SYSCONFDIR, STATEDIR
#   make clean

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/postern
STATEDIR ?= /var/lib/postern
DESTDIR ?=

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
PKGS := libcrypto gpgme sqlite3 libxml-2.0 libqpdf

ifeq ($(ASAN),1)
O := build-asan
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
O := build
SAN :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -D_GNU_SOURCE \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -DSTATEDIR='"$(STATEDIR)"' \
	-Icommon -Imilter -Iencryptor -I$(O)/gen $(PKG_CFLAGS) $(CHECK_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(SAN) -pthread
LIBS := $(PKG_LIBS) -lhpdf -lm

COMMON_SRC := $(filter-out common/schema_gen.c,$(sort $(wildcard common/*.c)))
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o) $(O)/gen/schema_gen.o \
	$(O)/gen/templates_gen.o
LIB := $(O)/libpostern.a

CTL_SRC := $(sort $(wildcard common/ctl/*.c))
MILTER_SRC := $(sort $(wildcard milter/*.c))
ENC_SRC := $(sort $(wildcard encryptor/*.c))
UNIT_SRC := $(sort $(wildcard t/unit/*.c))
SCHEMA := $(sort $(wildcard schema/*.sql))
TEMPLATES := $(sort $(wildcard conf/templates/*.eml))

PROGS := $(if $(CTL_SRC),$(O)/bin/posternctl) \
	$(if $(MILTER_SRC),$(O)/bin/postern-milter) \
	$(if $(ENC_SRC),$(O)/bin/postern-encrypt)

.PHONY: all deps check unit demo demo-stop bench fuzz install clean man
all: $(LIB) $(PROGS)

deps:
	@contrib/install-deps -q

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/gen/schema_gen.c: common/gen-schema.sh $(SCHEMA)
	@mkdir -p $(dir $@)
	common/gen-schema.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(O)/gen/schema_gen.o: $(O)/gen/schema_gen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/gen/templates_gen.c: common/gen-templates.sh $(TEMPLATES)
	@mkdir -p $(dir $@)
	common/gen-templates.sh $(TEMPLATES) > $@.tmp && mv $@.tmp $@

$(O)/gen/templates_gen.o: $(O)/gen/templates_gen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# posternctl commands: every common/ctl/*.c line starting
# "const struct ctl_cmd ctl_cmd_NAME" is one command.
$(O)/gen/ctl_cmds.h: $(CTL_SRC)
	@mkdir -p $(dir $@)
	sed -n 's/^const struct ctl_cmd \(ctl_cmd_[a-z0-9_]*\) .*/\1/p' $(CTL_SRC) | sort | \
	  awk '{ d = d "extern const struct ctl_cmd " $$1 ";\n"; l = l " &" $$1 "," } \
	  END { printf "%s#define CTL_CMDS%s\n", d, l; }' > $@.tmp && mv $@.tmp $@

$(O)/common/ctl/main.o: $(O)/gen/ctl_cmds.h
$(O)/bin/posternctl: $(CTL_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/bin/postern-milter: $(MILTER_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lmilter

$(O)/bin/postern-encrypt: $(ENC_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests: every t/unit/check_*.c exports "Suite *NAME_suite(void)";
# the runner is generated from those, so adding a suite is adding a file.
$(O)/gen/suites.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	grep -ho '^[a-z0-9_]*_suite(void)' $(UNIT_SRC) | sed 's/(void)//' | \
	  awk '{ d = d "Suite *" $$1 "(void);\n"; l = l "\t" $$1 ",\n" } \
	  END { printf "%s#define SUITES \\\n%s", d, l; }' | \
	  sed '$$!s/,$$/, \\/' > $@.tmp && mv $@.tmp $@

$(O)/t/unit/runner.o: $(O)/gen/suites.h
# Program modules that unit tests exercise directly (everything but the
# main() and the libmilter callbacks).
UNIT_PROG_SRC := $(filter-out milter/main.c milter/mlfi.c encryptor/main.c,\
	$(MILTER_SRC) $(ENC_SRC))
$(O)/t/unit/runner: $(UNIT_SRC:%.c=$(O)/%.o) $(UNIT_PROG_SRC:%.c=$(O)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lmilter $(CHECK_LIBS)

unit: $(O)/t/unit/runner

# man/postern-settings.5 is generated from the settings registry and
# committed; t/unit/check_settings.c fails when the two disagree.
man: $(O)/bin/posternctl
	POSTERN_CONF=/dev/null $(O)/bin/posternctl settings man > man/postern-settings.5.tmp
	mv man/postern-settings.5.tmp man/postern-settings.5

check: deps
	$(MAKE) all unit
	O=$(O) ASAN=$(ASAN) t/run-tests.sh

demo: deps
	$(MAKE) all
	O=$(O) t/e2e/demo.sh

demo-stop:
	t/e2e/demo.sh stop

bench: deps
	$(MAKE) all
	O=$(O) bench/run.sh

fuzz:
	$(MAKE) -C t/fuzz

# install: programs in SBINDIR, man pages when present, the sample
# postern.conf (never overwriting an existing one), the state directory 0750.
install: all
	install -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(SYSCONFDIR)"
	install -d -m 0750 "$(DESTDIR)$(STATEDIR)"
	for p in $(PROGS); do install -m 0755 "$$p" "$(DESTDIR)$(SBINDIR)/"; done
	for m in man/*.[0-9]; do [ -f "$$m" ] || continue; \
	  s=$${m##*.}; install -d "$(DESTDIR)$(MANDIR)/man$$s" && \
	  install -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$$s/" || exit 1; done
	if [ -f conf/postern.conf ] && \
	  [ ! -e "$(DESTDIR)$(SYSCONFDIR)/postern.conf" ]; then \
	  install -m 0644 conf/postern.conf "$(DESTDIR)$(SYSCONFDIR)/postern.conf"; fi
	if [ -d conf/templates ]; then \
	  install -d "$(DESTDIR)$(SYSCONFDIR)/templates"; \
	  for t in conf/templates/*; do [ -f "$$t" ] || continue; \
	    [ -e "$(DESTDIR)$(SYSCONFDIR)/templates/$${t##*/}" ] || \
	    install -m 0644 "$$t" "$(DESTDIR)$(SYSCONFDIR)/templates/" || exit 1; done; fi

clean:
	rm -rf build build-asan
	-$(MAKE) -C t/fuzz clean 2>/dev/null

-include $(shell find $(O) -name '*.d' 2>/dev/null)
