/* keymap: the single place where actions and their keys are declared. One
 * X-macro gives the action enum, each action's name, help group, keys and
 * help text; the help screen and the status-line hints are generated from
 * it. F-keys and letters both work, as in htop. */
#ifndef NFP_KEYMAP_H
#define NFP_KEYMAP_H

#include <curses.h>
#include <stddef.h>

#define CTRL_KEY(c) ((c) & 0x1f)

/* X(ID, "name", "group", key1, key2, key3, "help"); 0 = no key */
#define KEYMAP(X) \
	X(HELP, "help", "General", '?', KEY_F(1), 0, "Show this help") \
	X(QUIT, "quit", "General", 'q', KEY_F(10), 0, "Quit nfpilot") \
	X(REDRAW, "redraw", "General", CTRL_KEY('l'), 0, 0, "Re-read the ruleset and redraw the screen") \
	X(UP, "up", "Moving", KEY_UP, 'k', 0, "Previous line") \
	X(DOWN, "down", "Moving", KEY_DOWN, 'j', 0, "Next line") \
	X(PAGE_UP, "page-up", "Moving", KEY_PPAGE, CTRL_KEY('b'), 0, "Previous page") \
	X(PAGE_DOWN, "page-down", "Moving", KEY_NPAGE, CTRL_KEY('f'), ' ', "Next page") \
	X(FIRST, "first", "Moving", KEY_HOME, 'g', 0, "First line") \
	X(LAST, "last", "Moving", KEY_END, 'G', 0, "Last line") \
	X(PANE, "switch-pane", "Moving", '\t', KEY_BTAB, 0, "Switch between the chain tree and the rules") \
	X(ENTER, "open", "Moving", '\n', KEY_ENTER, KEY_RIGHT, "Open the chain; on a jump or goto rule, open its target chain") \
	X(BACK, "back", "Moving", KEY_BACKSPACE, 127, KEY_LEFT, "Back to the chain you came from") \
	X(TREE, "toggle-tree", "Moving", 't', KEY_F(2), 0, "Show or hide the chain tree") \
	X(SEARCH, "search", "Finding", '/', KEY_F(3), 0, "Search rule text, comments, chain and table names") \
	X(SEARCH_NEXT, "search-next", "Finding", 'n', 0, 0, "Next match") \
	X(SEARCH_PREV, "search-prev", "Finding", 'N', 0, 0, "Previous match") \
	X(FILTER, "filter", "Finding", '\\', KEY_F(4), 0, "Show only rules matching a pattern (empty: all)") \
	X(SORT, "sort", "Live counters", 's', KEY_F(6), 0, "Sort by packet rate, busiest first / back to real order") \
	X(PAUSE, "pause", "Live counters", 'p', KEY_F(7), 0, "Pause or resume the counter refresh") \
	X(FASTER, "faster", "Live counters", '+', '=', 0, "Refresh more often") \
	X(SLOWER, "slower", "Live counters", '-', 0, 0, "Refresh less often") \
	X(ZERO, "zero", "Live counters", 'z', KEY_F(8), 0, "Zero the counters of the selected rule (in the tree: of the chain)") \
	X(ZERO_TABLE, "zero-table", "Live counters", 'Z', 0, 0, "Zero the counters of every rule in the table")

enum action {
	ACT_NONE = 0,
#define KEYMAP_ENUM(id, name, group, k1, k2, k3, help) ACT_##id,
	KEYMAP(KEYMAP_ENUM)
#undef KEYMAP_ENUM
	ACT_COUNT
};

struct keybinding {
	const char *name;
	const char *group;
	int keys[3];
	const char *help;
};

/* indexed by enum action; keymap[ACT_NONE] is empty */
extern const struct keybinding keymap[ACT_COUNT];

/* The action bound to key, or ACT_NONE. */
enum action keymap_lookup(int key);

/* "F1", "?", "Up", "Tab", "Ctrl-L", "Space", ...; returns buf. */
const char *keymap_key_name(int key, char *buf, size_t size);

/* "? F1": every key of an action, for the help screen. */
const char *keymap_keys_text(enum action act, char *buf, size_t size);

#endif
