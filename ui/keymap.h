/* keymap: the single place where actions and their keys are declared. One
 * X-macro gives the action enum, each action's name, help group, the
 * keymaps it is bound in, its keys and its help text; the help screen, the
 * status-line hints and the man page's key lists follow it. A screen looks
 * a key up in its own keymap first, then in the generic one (as tig's
 * keymaps do), so a key means one thing on each screen: d deletes a rule
 * on the ruleset screen and kills a connection on the connections screen.
 * F-keys and letters both work, as in htop. */
#ifndef NFP_KEYMAP_H
#define NFP_KEYMAP_H

#include <curses.h>
#include <stddef.h>

#define CTRL_KEY(c) ((c) & 0x1f)
/* Alt (Meta) with c: Esc and c read at once (ui/tui.c); above every
 * curses key code */
#define KEY_ALT(c) (0x10000 + (c))

/* X(ID, "heading in the help") — the keymaps, in the help's order */
#define KEYMAPS(X) \
	X(GENERIC, "Every screen") \
	X(RULES, "Ruleset screen (1)") \
	X(CONNS, "Connections screen (2)") \
	X(TRACE, "Trace screen (3)") \
	X(SETS, "Set screen (Enter on a set, @ on a rule)") \
	X(PENDING, "Pending changes (v)") \
	X(HISTORY, "History (H)")

enum keymap_bit {
#define KEYMAP_BIT_ENUM(id, title) KMB_##id,
	KEYMAPS(KEYMAP_BIT_ENUM)
#undef KEYMAP_BIT_ENUM
	KM_COUNT
};

/* a set of keymaps: the ones an action is bound in, or a screen's own */
enum {
#define KEYMAP_MASK_ENUM(id, title) KM_##id = 1u << KMB_##id,
	KEYMAPS(KEYMAP_MASK_ENUM)
#undef KEYMAP_MASK_ENUM
};

/* X(ID, "name", "group", KEYMAPS, (KEYS...), "help"); at most KEYMAP_KEYS
 * keys. An action's keys are the same in every keymap it is bound in. */
#define KEYMAP(X) \
	X(HELP, "help", "General", KM_GENERIC, ('?', KEY_F(1)), "Show this help") \
	X(VIEW_RULES, "ruleset", "General", KM_GENERIC, ('1'), "Show the ruleset: tables, chains, rules and counters") \
	X(VIEW_CONNS, "connections", "General", KM_GENERIC, ('2'), "Show the tracked connections (conntrack)") \
	X(VIEW_TRACE, "trace-screen", "General", KM_GENERIC, ('3'), "Show the trace: traced packets (l), answers to why (w)") \
	X(QUIT, "quit", "General", KM_GENERIC, ('q', KEY_F(10)), "Quit nfpilot") \
	X(REDRAW, "redraw", "General", KM_GENERIC, (CTRL_KEY('l')), "Re-read what the screen shows and redraw it") \
	X(UP, "up", "Moving", KM_GENERIC, (KEY_UP, 'k'), "Previous line") \
	X(DOWN, "down", "Moving", KM_GENERIC, (KEY_DOWN, 'j'), "Next line") \
	X(PAGE_UP, "page-up", "Moving", KM_GENERIC, (KEY_PPAGE, CTRL_KEY('b')), "Previous page") \
	X(PAGE_DOWN, "page-down", "Moving", KM_GENERIC, (KEY_NPAGE, CTRL_KEY('f'), ' '), "Next page") \
	X(FIRST, "first", "Moving", KM_GENERIC, (KEY_HOME, 'g'), "First line") \
	X(LAST, "last", "Moving", KM_GENERIC, (KEY_END, 'G'), "Last line") \
	X(CONFIRM, "confirm", "Probation", KM_GENERIC, ('Y'), "Keep the change on probation (confirm it)") \
	X(ROLLBACK, "revert", "Probation", KM_GENERIC, ('R'), "Revert the change on probation now") \
	X(EXTEND, "extend", "Probation", KM_GENERIC, ('E'), "Restart the probation's countdown") \
	X(HISTORY, "history", "Probation", KM_GENERIC, ('H'), "Changes that ended their probation: confirmed, reverted, why") \
	X(SAVE, "save", "Probation", KM_GENERIC, ('S'), "Save the live ruleset to the boot file") \
	X(PANE, "switch-pane", "Moving", KM_RULES, ('\t', KEY_BTAB), "Switch between the chain tree and the rules") \
	X(ENTER, "open", "Moving", KM_RULES, ('\n', KEY_ENTER, KEY_RIGHT), "Open the chain or the set; on a jump or goto rule its target chain; on another rule, the rule whole") \
	X(OPEN_SET, "open-set", "Moving", KM_RULES, ('@'), "The set or map the selected rule uses (@name): its elements") \
	X(BACK, "back", "Moving", KM_RULES | KM_SETS, (KEY_BACKSPACE, 127, KEY_LEFT), "Back to the chain you came from (from a set: the ruleset)") \
	X(SCROLL_RIGHT, "scroll-right", "Moving", KM_RULES, ('>'), "Scroll the rule text right (a marker shows where it continues)") \
	X(SCROLL_LEFT, "scroll-left", "Moving", KM_RULES, ('<'), "Scroll the rule text back left") \
	X(DETAIL, "rule-detail", "Moving", KM_RULES, ('r'), "The selected rule whole: text, handle, counters, rates, comment, sets, jumps to its chain") \
	X(GOTO_RULE, "goto-rule", "Moving", KM_RULES, (':'), "Go to rule N of the chain (:N, then Enter)") \
	X(IPTABLES, "iptables-view", "Moving", KM_RULES, ('I'), "Show iptables-nft's tables as iptables-save prints them (-A lines), or as nft does") \
	X(TREE, "toggle-tree", "Moving", KM_RULES, ('t', KEY_F(2)), "Show or hide the chain tree") \
	X(SEARCH, "search", "Finding", KM_RULES, ('/', KEY_F(3)), "Search rule text, comments, chain and table names") \
	X(SEARCH_NEXT, "search-next", "Finding", KM_RULES | KM_SETS, ('n'), "Next match") \
	X(SEARCH_PREV, "search-prev", "Finding", KM_RULES | KM_SETS, ('N'), "Previous match") \
	X(FILTER, "filter", "Finding", KM_RULES, ('\\', KEY_F(4)), "Show only rules matching a pattern") \
	X(CT_OF_RULE, "rule-connections", "Finding", KM_RULES, ('x'), "The tracked connections the selected rule would match (a filter from its addresses, ports, protocol)") \
	X(SORT, "sort", "Live counters", KM_RULES, ('s', KEY_F(6)), "Sort by packet rate, busiest first / back to real order") \
	X(PAUSE, "pause", "Live counters", KM_RULES | KM_CONNS | KM_SETS, ('p', KEY_F(7)), "Pause or resume the counter refresh") \
	X(FASTER, "faster", "Live counters", KM_RULES, ('+', '='), "Refresh more often") \
	X(SLOWER, "slower", "Live counters", KM_RULES, ('-'), "Refresh less often") \
	X(ZERO, "zero", "Live counters", KM_RULES, ('z', KEY_F(8)), "Zero the counters of the selected rule (in the tree: of the chain)") \
	X(ZERO_TABLE, "zero-table", "Live counters", KM_RULES, ('Z'), "Zero the counters of every rule in the table") \
	X(INSERT, "insert", "Editing (staged)", KM_RULES, ('i', KEY_IC), "Insert a rule above the selected one") \
	X(ADD_BELOW, "add-below", "Editing (staged)", KM_RULES, ('a'), "Insert a rule below the selected one") \
	X(APPEND, "append", "Editing (staged)", KM_RULES, ('A'), "Append a rule to the end of the chain") \
	X(EDIT, "edit", "Editing (staged)", KM_RULES, ('e', KEY_F(5)), "Edit (replace) the selected rule") \
	X(DELETE, "delete", "Editing (staged)", KM_RULES, ('d', KEY_DC), "Delete the selected rule, or every marked rule") \
	X(MARK, "mark", "Editing (staged)", KM_RULES, ('m'), "Mark or unmark the selected rule (for delete)") \
	X(MOVE_UP, "move-up", "Editing (staged)", KM_RULES, ('K'), "Move the selected rule up one place") \
	X(MOVE_DOWN, "move-down", "Editing (staged)", KM_RULES, ('J'), "Move the selected rule down one place") \
	X(MOVE_TO, "move-to", "Editing (staged)", KM_RULES, ('M'), "Move the selected rule to a position") \
	X(POLICY, "policy", "Editing (staged)", KM_RULES, ('P'), "Toggle the base chain's policy between accept and drop") \
	X(CHAIN_ADD, "add-chain", "Editing (staged)", KM_RULES, ('c'), "Create a chain in the selected table") \
	X(CHAIN_DELETE, "delete-chain", "Editing (staged)", KM_RULES, ('D'), "Delete the selected chain") \
	X(CHAIN_FLUSH, "flush-chain", "Editing (staged)", KM_RULES, ('F'), "Flush (empty) the selected chain") \
	X(TABLE_ADD, "add-table", "Editing (staged)", KM_RULES, ('T'), "Create a table") \
	X(SET_ADD, "add-set", "Editing (staged)", KM_RULES, ('O'), "Create a named set in the selected table (checked by nft when staged)") \
	X(BLOCK, "block", "Editing (staged)", KM_RULES, ('b'), "Block an address: a drop rule at the top of the input chain its packets meet first") \
	X(ALLOW_PORT, "allow-port", "Editing (staged)", KM_RULES, ('o'), "Allow a port: an accept rule in the table's input chain, before the first rule that would drop, reject or count the port's packets") \
	X(EFFECT_FIX, "put-where-it-works", "Editing (staged)", KM_RULES, ('L'), "Move the rule just staged (o, b or typed) to where the effect check says it works (one in each chain that decides, when several do)") \
	X(COUNTER_DEFAULT, "counter-default", "Editing (staged)", KM_RULES, ('C'), "Turn the default counter on new rules on or off") \
	X(UNDO, "undo", "Staged changes", KM_RULES | KM_PENDING | KM_SETS, ('u'), "Undo the last staged edit") \
	X(REDO, "redo", "Staged changes", KM_RULES | KM_PENDING | KM_SETS, ('U', CTRL_KEY('r')), "Redo an undone edit") \
	X(PENDING, "pending", "Staged changes", KM_RULES | KM_SETS, ('v', KEY_F(9)), "Show the pending changes as nft commands") \
	X(RESTORE, "restore", "History", KM_HISTORY, ('r'), "Put back the tables of the selected entry as after its change, on probation (nfpilot restore N)") \
	X(APPLY, "apply", "Staged changes", KM_RULES | KM_PENDING | KM_SETS, ('W'), "Apply every staged edit as one transaction") \
	X(DISCARD, "discard", "Staged changes", KM_RULES | KM_PENDING | KM_SETS, ('X'), "Discard every staged edit") \
	X(CT_FILTER, "connection-filter", "Connections", KM_CONNS, ('\\', KEY_F(4), '/', KEY_F(3)), "Show only the connections a filter matches, e.g. src 10.0.0.0/8 dport 22") \
	X(SORT_NEXT, "sort-next", "Connections", KM_CONNS | KM_SETS, ('>'), "Sort the connections (the elements) by the next column") \
	X(SORT_PREV, "sort-prev", "Connections", KM_CONNS | KM_SETS, ('<'), "Sort the connections (the elements) by the previous column") \
	X(SORT_REVERSE, "sort-reverse", "Connections", KM_CONNS | KM_SETS, ('I'), "Reverse the sort order") \
	X(CT_DETAIL, "connection-detail", "Connections", KM_CONNS, ('\n', KEY_ENTER, 'r'), "The selected connection whole: both directions, NAT, every column") \
	X(KILL, "kill", "Connections", KM_CONNS, ('d', KEY_DC), "Kill the selected connection (its local socket is reset)") \
	X(KILL_ALL, "kill-all", "Connections", KM_CONNS, ('D'), "Kill every connection shown") \
	X(BLOCK_KILL, "block-kill", "Connections", KM_CONNS, ('b'), "Block the selected connection's source (on probation) and kill its connections") \
	X(TRACE, "trace", "Tracing", KM_RULES | KM_CONNS | KM_TRACE, ('l'), "Trace live packets: of the selected rule or connection, or of a filter typed") \
	X(WHY, "why", "Tracing", KM_RULES | KM_CONNS | KM_TRACE, ('w'), "Why: what the rules do with a packet never sent (as nfpilot why); with edits staged, the rules after W") \
	X(TRACE_GOTO, "trace-rule", "Tracing", KM_TRACE, ('\n', KEY_ENTER, KEY_RIGHT), "The rule of the selected step, on the ruleset screen") \
	X(TRACE_STOP, "trace-stop", "Tracing", KM_TRACE, ('x'), "Stop tracing (the packets traced stay)") \
	X(TRACE_CLEAR, "trace-clear", "Tracing", KM_TRACE, ('c'), "Clear the trace screen") \
	X(ACCOUNTING, "accounting", "Connections", KM_CONNS, ('C'), "Turn conntrack accounting on (packet and byte counters)") \
	X(STALE, "not-admitted", "Connections", KM_RULES | KM_CONNS, ('!'), "Show the established connections the live ruleset no longer admits (D kills them)") \
	X(ELEM_OPEN, "open-element", "Elements", KM_SETS, ('\n', KEY_ENTER, KEY_RIGHT), "On a map's jump or goto element: its chain on the ruleset screen") \
	X(ELEM_SEARCH, "element-search", "Elements", KM_SETS, ('/', KEY_F(3)), "Search: an address finds the interval or prefix that holds it; other text, the next element written with it") \
	X(ELEM_FILTER, "element-filter", "Elements", KM_SETS, ('\\', KEY_F(4)), "Show only the elements whose text has a pattern") \
	X(ELEM_ADD, "add-elements", "Elements", KM_SETS, ('a', KEY_IC), "Add elements (staged): one, a list (a, b, c), or <FILE with one a line") \
	X(ELEM_DELETE, "delete-element", "Elements", KM_SETS, ('d', KEY_DC), "Delete the selected element, or every marked one (staged); a dynamic set's element is released") \
	X(ELEM_DELETE_SHOWN, "delete-shown", "Elements", KM_SETS, ('D'), "Delete every element the filter shows (staged)") \
	X(ELEM_MARK, "mark-element", "Elements", KM_SETS, ('m'), "Mark or unmark the selected element (for delete)") \
	X(SET_FLUSH, "flush-set", "Elements", KM_SETS, ('F'), "Flush the set: delete every element (staged)")

#define KEYMAP_KEYS 4

enum action {
	ACT_NONE = 0,
#define KEYMAP_ENUM(id, name, group, maps, keys, help) ACT_##id,
	KEYMAP(KEYMAP_ENUM)
#undef KEYMAP_ENUM
	ACT_COUNT
};

struct keybinding {
	const char *name;
	const char *group;
	unsigned maps;             /* KM_*: the keymaps it is bound in */
	int keys[KEYMAP_KEYS];     /* 0: none */
	const char *help;
};

/* indexed by enum action; keymap[ACT_NONE] is empty */
extern const struct keybinding keymap[ACT_COUNT];

/* "Every screen", "Ruleset screen (1)": the help's heading of keymap bit b */
extern const char *const keymap_title[KM_COUNT];

/* The action bound to key in the keymaps of mine (a screen's own, KM_*),
 * else in the generic one; ACT_NONE if none. */
enum action keymap_lookup(unsigned mine, int key);

/* "F1", "?", "Up", "Tab", "Ctrl-L", "Space", ...; returns buf. */
const char *keymap_key_name(int key, char *buf, size_t size);

/* The key keymap_key_name calls name ("Down", "Ctrl-L", "q"), or -1. */
int keymap_key_parse(const char *name);

/* "? F1": every key of an action, for the help screen. */
const char *keymap_keys_text(enum action act, char *buf, size_t size);

#endif
