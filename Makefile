# nfpilot — see README.md. `make check` and `make demo` install what is
# missing first (tests/deps.sh, Debian packages only).

PREFIX    ?= /usr/local
DESTDIR   ?=
VERSION   := 0.1.0
PKGS      := libnftables libnftnl libmnl libnetfilter_conntrack ncursesw

CC        ?= cc
CFLAGS    ?= -O2 -g
# warnings are errors here (make check, CI); `make WERROR=` for a compiler
# or CFLAGS that warn where this one does not
WERROR    ?= -Werror
WARN      := -std=gnu11 -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wno-format-nonliteral
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(CFLAGS) -I. -DNFP_VERSION='"$(VERSION)"' \
             -DNFP_THEMEDIR='"$(PREFIX)/share/nfpilot/themes"' $(PKG_CFLAGS) -pthread -MMD -MP
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

MODEL_SRC := $(wildcard model/*.c)
APP_SRC   := main.c $(wildcard cli*.c) $(MODEL_SRC) \
             $(wildcard apply/*.c) $(wildcard conntrack/*.c) $(wildcard ui/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

# Two builds side by side: build/ (release) and build/asan/ (make check).
OBJ       := $(APP_SRC:%.c=build/%.o)
ASAN_OBJ  := $(APP_SRC:%.c=build/asan/%.o)
LIB_OBJ   := $(filter-out build/asan/main.o,$(ASAN_OBJ))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
TOOL_BIN  := $(patsubst tests/tools/%.c,build/asan/tools/%,$(wildcard tests/tools/*.c))

# quiet by default; `make V=1` shows the commands
Q         := $(if $(V),,@)

.PHONY: all check unit integration bench demo install clean deps deps-demo layers
all: nfpilot

nfpilot: $(OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

build/asan/nfpilot: $(ASAN_OBJ)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

build/asan/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $< $(LIB_OBJ) $(PKG_LIBS) \
		$(shell pkg-config --cflags --libs cmocka) $(LDFLAGS)

# test tools: drive internal modules from the integration tests
build/asan/tools/%: tests/tools/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $< $(LIB_OBJ) $(PKG_LIBS) $(LDFLAGS)

deps:
	@sh tests/deps.sh check

deps-demo:
	@sh tests/deps.sh demo

# Only ui/ may draw: the model, apply and conntrack layers never see ncurses.
layers:
	@! grep -rln 'include <n\?curses' model apply conntrack cli*.c main.c 2>/dev/null \
		|| { echo "ncurses included outside ui/"; exit 1; }

# the release build too: valgrind runs it (it does not mix with the sanitizers)
check: deps
	@$(MAKE) --no-print-directory layers nfpilot build/asan/nfpilot $(UNIT_BIN) $(TOOL_BIN)
	@NFPILOT_RELEASE=$(CURDIR)/nfpilot sh tests/run.sh build/asan/nfpilot $(UNIT_BIN)

# the unit tests alone; the integration scripts alone (T=pattern: some)
unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@T=_none_ sh tests/run.sh build/asan/nfpilot $(UNIT_BIN)

integration: deps
	@$(MAKE) --no-print-directory nfpilot build/asan/nfpilot $(TOOL_BIN)
	@NFPILOT_RELEASE=$(CURDIR)/nfpilot sh tests/run.sh build/asan/nfpilot

bench: deps nfpilot
	@sh tests/bench/run.sh ./nfpilot

demo: deps-demo nfpilot
	@sh tests/demo.sh ./nfpilot

install: nfpilot
	install -D -m 0755 nfpilot $(DESTDIR)$(PREFIX)/sbin/nfpilot
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	sed '1s/"nfpilot[ 0-9.]*"/"nfpilot $(VERSION)"/' docs/nfpilot.8 \
		>$(DESTDIR)$(PREFIX)/share/man/man8/nfpilot.8
	install -d $(DESTDIR)$(PREFIX)/share/nfpilot/themes
	for t in themes/*.theme; do [ -e "$$t" ] || continue; \
		install -m 0644 "$$t" $(DESTDIR)$(PREFIX)/share/nfpilot/themes/; done

clean:
	rm -rf build nfpilot

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
