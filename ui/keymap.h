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
	X(VIEW_RULES, "ruleset", "General", '1', 0, 0, "Show the ruleset: tables, chains, rules and counters") \
	X(VIEW_CONNS, "connections", "General", '2', 0, 0, "Show the tracked connections (conntrack)") \
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
	X(SEARCH, "search", "Finding", '/', KEY_F(3), 0, "Search rule text, comments, chain and table names (connections: filter)") \
	X(SEARCH_NEXT, "search-next", "Finding", 'n', 0, 0, "Next match") \
	X(SEARCH_PREV, "search-prev", "Finding", 'N', 0, 0, "Previous match") \
	X(FILTER, "filter", "Finding", '\\', KEY_F(4), 0, "Show only rules matching a pattern (connections: a filter, e.g. src 10.0.0.0/8 dport 22)") \
	X(SORT, "sort", "Live counters", 's', KEY_F(6), 0, "Sort by packet rate, busiest first / back to real order") \
	X(PAUSE, "pause", "Live counters", 'p', KEY_F(7), 0, "Pause or resume the counter refresh") \
	X(FASTER, "faster", "Live counters", '+', '=', 0, "Refresh more often") \
	X(SLOWER, "slower", "Live counters", '-', 0, 0, "Refresh less often") \
	X(ZERO, "zero", "Live counters", 'z', KEY_F(8), 0, "Zero the counters of the selected rule (in the tree: of the chain)") \
	X(ZERO_TABLE, "zero-table", "Live counters", 'Z', 0, 0, "Zero the counters of every rule in the table") \
	X(INSERT, "insert", "Editing (staged)", 'i', KEY_IC, 0, "Insert a rule above the selected one") \
	X(ADD_BELOW, "add-below", "Editing (staged)", 'a', 0, 0, "Insert a rule below the selected one") \
	X(APPEND, "append", "Editing (staged)", 'A', 0, 0, "Append a rule to the end of the chain") \
	X(EDIT, "edit", "Editing (staged)", 'e', KEY_F(5), 0, "Edit (replace) the selected rule") \
	X(DELETE, "delete", "Editing (staged)", 'd', KEY_DC, 0, "Delete the selected rule, or every marked rule (connections: kill the selected connection)") \
	X(MARK, "mark", "Editing (staged)", 'm', 0, 0, "Mark or unmark the selected rule (for delete)") \
	X(MOVE_UP, "move-up", "Editing (staged)", 'K', 0, 0, "Move the selected rule up one place") \
	X(MOVE_DOWN, "move-down", "Editing (staged)", 'J', 0, 0, "Move the selected rule down one place") \
	X(MOVE_TO, "move-to", "Editing (staged)", 'M', 0, 0, "Move the selected rule to a position") \
	X(POLICY, "policy", "Editing (staged)", 'P', 0, 0, "Toggle the base chain's policy between accept and drop") \
	X(CHAIN_ADD, "add-chain", "Editing (staged)", 'c', 0, 0, "Create a chain in the selected table") \
	X(CHAIN_DELETE, "delete-chain", "Editing (staged)", 'D', 0, 0, "Delete the selected chain (connections: kill every connection shown)") \
	X(CHAIN_FLUSH, "flush-chain", "Editing (staged)", 'F', 0, 0, "Flush (empty) the selected chain") \
	X(TABLE_ADD, "add-table", "Editing (staged)", 'T', 0, 0, "Create a table") \
	X(BLOCK, "block", "Editing (staged)", 'b', 0, 0, "Block an address: a drop rule at the top of the input chain (connections: also kill its connections)") \
	X(ALLOW_PORT, "allow-port", "Editing (staged)", 'o', 0, 0, "Allow a port: an accept rule appended to the table's input chain") \
	X(COUNTER_DEFAULT, "counter-default", "Editing (staged)", 'C', 0, 0, "Turn the default counter on new rules on or off (connections: turn conntrack accounting on)") \
	X(UNDO, "undo", "Staged changes", 'u', 0, 0, "Undo the last staged edit") \
	X(REDO, "redo", "Staged changes", 'U', CTRL_KEY('r'), 0, "Redo an undone edit") \
	X(PENDING, "pending", "Staged changes", 'v', KEY_F(9), 0, "Show the pending changes as nft commands") \
	X(APPLY, "apply", "Staged changes", 'W', 0, 0, "Apply every staged edit as one transaction") \
	X(DISCARD, "discard", "Staged changes", 'X', 0, 0, "Discard every staged edit") \
	X(CONFIRM, "confirm", "Probation", 'Y', 0, 0, "Keep the change on probation (confirm it)") \
	X(ROLLBACK, "revert", "Probation", 'R', 0, 0, "Revert the change on probation now") \
	X(EXTEND, "extend", "Probation", 'E', 0, 0, "Restart the probation's countdown") \
	X(HISTORY, "history", "Probation", 'H', 0, 0, "Changes that ended their probation: confirmed, reverted, why") \
	X(SAVE, "save", "Probation", 'S', 0, 0, "Save the live ruleset to /etc/nftables.conf (loaded at boot)") \
	X(CT_OF_RULE, "rule-connections", "Connections", 'x', 0, 0, "The tracked connections the selected rule would match (a filter from its addresses, ports, protocol)") \
	X(SORT_NEXT, "sort-next", "Connections", '>', 0, 0, "Sort the connections by the next column") \
	X(SORT_PREV, "sort-prev", "Connections", '<', 0, 0, "Sort the connections by the previous column") \
	X(SORT_REVERSE, "sort-reverse", "Connections", 'I', 0, 0, "Reverse the connections' sort order")

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

/* The key keymap_key_name calls name ("Down", "Ctrl-L", "q"), or -1. */
int keymap_key_parse(const char *name);

/* "? F1": every key of an action, for the help screen. */
const char *keymap_keys_text(enum action act, char *buf, size_t size);

#endif
