# nfpilot — see README.md. `make check` and `make demo` install what is
# missing first (tests/deps.sh, Debian packages only).

PREFIX    ?= /usr/local
DESTDIR   ?=
VERSION   := 0.2.0
PKGS      := libnftables libnftnl libmnl libnetfilter_conntrack ncursesw readline

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

# The layers, each a folder, and what each may include (an archive per
# layer, linked in this order: a layer only uses those after it). `make
# layers` checks every #include "..." of the program against this table.
LAYERS       := cli ui apply probation sandbox conntrack nft model util
DEPS_main    := cli ui apply probation nft model util
DEPS_cli     := apply probation sandbox conntrack nft model util
DEPS_ui      := apply probation sandbox conntrack nft model util
DEPS_apply   := probation nft model util
DEPS_probation := nft model util
DEPS_sandbox := conntrack nft model util
DEPS_conntrack := model util
DEPS_nft     := model util
DEPS_model   := util
DEPS_util    :=
# a unit test links its layer and those below it only
TEST_LAYER_test_changeset := apply
TEST_LAYER_test_config    := model
TEST_LAYER_test_errmsg    := util
TEST_LAYER_test_ct        := conntrack
TEST_LAYER_test_ct_rule   := conntrack
TEST_LAYER_test_grow      := util
TEST_LAYER_test_json      := model
TEST_LAYER_test_list      := ui
TEST_LAYER_test_model     := model
TEST_LAYER_test_packet    := sandbox
TEST_LAYER_test_quick     := apply
TEST_LAYER_test_rate      := model
TEST_LAYER_test_ruletext  := nft
TEST_LAYER_test_elemkeys  := nft
TEST_LAYER_test_safefile  := util
TEST_LAYER_test_protocol  := probation
TEST_LAYER_test_setelems  := model
TEST_LAYER_test_snapfile  := probation
TEST_LAYER_test_staged    := apply
TEST_LAYER_test_theme     := ui
TEST_LAYER_test_trace     := nft
TEST_LAYER_test_ui_keys   := ui
TEST_LAYER_test_xtables   := nft

layer_src  = $(wildcard $(1)/*.c)
# its objects, in the build folder $(2)
layer_obj  = $(patsubst %.c,$(2)/%.o,$(call layer_src,$(1)))
APP_SRC   := main.c $(foreach l,$(LAYERS),$(call layer_src,$(l)))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

# Two builds side by side: build/ (release) and build/asan/ (make check).
OBJ       := $(APP_SRC:%.c=build/%.o)
ASAN_OBJ  := $(APP_SRC:%.c=build/asan/%.o)
LIBS      := $(LAYERS:%=build/lib/%.a)
ASAN_LIBS := $(LAYERS:%=build/asan/lib/%.a)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
TOOL_BIN  := $(patsubst tests/tools/%.c,build/asan/tools/%,$(wildcard tests/tools/*.c))
# the archives a unit test links: its layer's and those below it
test_libs  = $(foreach l,$(TEST_LAYER_$(1)) $(DEPS_$(TEST_LAYER_$(1))),build/asan/lib/$(l).a)

# The snapshot reader's fuzzer (tests/fuzz/, libFuzzer): the same objects
# built a third time, by clang, with coverage, ASan and UBSan (build/fuzz/).
# `make fuzz` runs it FUZZ_TIME seconds (600 unless told); make check, 60.
FUZZ_CC   ?= clang-14
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJ  := $(filter-out build/fuzz/main.o,$(APP_SRC:%.c=build/fuzz/%.o))
FUZZ_BIN  := build/fuzz/fuzz_snapfile
HAVE_FUZZ := $(shell command -v $(FUZZ_CC) >/dev/null 2>&1 && echo yes)
# FUZZ_LIBNFTNL=.../libnftnl.a: link a libnftnl built with the same flags
# (its own memory errors then show, and its branches guide the fuzzer)
FUZZ_LIBNFTNL ?=

# quiet by default; `make V=1` shows the commands
Q         := $(if $(V),,@)

.PHONY: all check unit integration bench demo install clean deps deps-demo layers fuzz
all: nfpilot

nfpilot: build/main.o $(LIBS)
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

# one archive per layer (rebuilt whole: a removed file leaves no object);
# its objects are kept (not intermediate files make deletes), so that a
# second make rebuilds only what changed
.SECONDARY:
.SECONDEXPANSION:
build/lib/%.a: $$(call layer_obj,$$*,build)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
build/asan/lib/%.a: $$(call layer_obj,$$*,build/asan)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

build/asan/nfpilot: build/asan/main.o $(ASAN_LIBS)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

build/asan/tests/%: tests/unit/%.c $$(call test_libs,$$*)
	@mkdir -p $(dir $@)
	@test -n "$(TEST_LAYER_$*)" || { echo "$<: give it a layer (TEST_LAYER_$* in the Makefile)"; exit 1; }
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $< $(call test_libs,$*) $(PKG_LIBS) \
		$(shell pkg-config --cflags --libs cmocka) $(LDFLAGS)

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC fuzz $<"
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -O1 -c -o $@ $<

$(FUZZ_BIN): tests/fuzz/fuzz_snapfile.c $(FUZZ_OBJ)
	@echo "  LD fuzz $@"
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -O1 -o $@ $< $(FUZZ_OBJ) \
		$(FUZZ_LIBNFTNL) $(PKG_LIBS) $(LDFLAGS)

# test tools: drive internal modules from the integration tests
build/asan/tools/%: tests/tools/%.c $(ASAN_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $< $(ASAN_LIBS) $(PKG_LIBS) $(LDFLAGS)

deps:
	@sh tests/deps.sh check

deps-demo:
	@sh tests/deps.sh demo

# every #include "..." against the table above; only ui/ draws (ncurses)
layers:
	@sh tests/layers.sh "main: $(DEPS_main)" $(foreach l,$(LAYERS),"$(l): $(DEPS_$(l))")

# the release build too: valgrind runs it (it does not mix with the sanitizers)
check: deps
	@$(MAKE) --no-print-directory layers nfpilot build/asan/nfpilot $(UNIT_BIN) $(TOOL_BIN) \
		$(if $(HAVE_FUZZ),$(FUZZ_BIN))
	@NFPILOT_RELEASE=$(CURDIR)/nfpilot sh tests/run.sh build/asan/nfpilot $(UNIT_BIN)

# the unit tests alone; the integration scripts alone (T=pattern: some)
unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@T=_none_ sh tests/run.sh build/asan/nfpilot $(UNIT_BIN)

integration: deps
	@$(MAKE) --no-print-directory nfpilot build/asan/nfpilot $(TOOL_BIN) \
		$(if $(HAVE_FUZZ),$(FUZZ_BIN))
	@NFPILOT_RELEASE=$(CURDIR)/nfpilot sh tests/run.sh build/asan/nfpilot

fuzz: deps
	@$(MAKE) --no-print-directory build/asan/nfpilot build/asan/tools/snapseeds $(FUZZ_BIN)
	@FUZZ_TIME=$${FUZZ_TIME:-600} T=fuzz_snapfile sh tests/run.sh build/asan/nfpilot

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

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
