#include "ui/keymap.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define KEYS_OF(...) { __VA_ARGS__ }

const struct keybinding keymap[ACT_COUNT] = {
#define KEYMAP_ENTRY(id, nm, grp, km, k, hlp) \
	[ACT_##id] = { .name = nm, .group = grp, .maps = km, .keys = KEYS_OF k, .help = hlp },
	KEYMAP(KEYMAP_ENTRY)
#undef KEYMAP_ENTRY
};

const char *const keymap_title[KM_COUNT] = {
#define KEYMAP_TITLE(id, title) [KMB_##id] = title,
	KEYMAPS(KEYMAP_TITLE)
#undef KEYMAP_TITLE
};

static enum action lookup_in(unsigned maps, int key)
{
	for (int a = 1; a < ACT_COUNT; a++)
		for (int i = 0; i < KEYMAP_KEYS && (keymap[a].maps & maps); i++)
			if (keymap[a].keys[i] == key)
				return (enum action)a;
	return ACT_NONE;
}

enum action keymap_lookup(unsigned mine, int key)
{
	enum action a = ACT_NONE;

	if (key == 0)
		return ACT_NONE;
	if (key == '\r' || key == CTRL_KEY('h')) /* terminals differ */
		key = key == '\r' ? '\n' : KEY_BACKSPACE;
	if (mine & ~(unsigned)KM_GENERIC)
		a = lookup_in(mine & ~(unsigned)KM_GENERIC, key);
	return a ? a : lookup_in(KM_GENERIC, key);
}

static const struct {
	int key;
	const char *name;
} key_names[] = {
	{ KEY_UP, "Up" },       { KEY_DOWN, "Down" },   { KEY_LEFT, "Left" },
	{ KEY_RIGHT, "Right" }, { KEY_PPAGE, "PgUp" },  { KEY_NPAGE, "PgDn" },
	{ KEY_HOME, "Home" },   { KEY_END, "End" },     { '\t', "Tab" },
	{ KEY_BTAB, "S-Tab" },  { '\n', "Enter" },      { KEY_ENTER, "Enter" },
	{ KEY_BACKSPACE, "Bksp" }, { 127, "Bksp" },     { ' ', "Space" },
	{ 27, "Esc" },          { KEY_IC, "Insert" },   { KEY_DC, "Delete" },
};

const char *keymap_key_name(int key, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (key_names[i].key == key) {
			snprintf(buf, size, "%s", key_names[i].name);
			return buf;
		}
	if (key >= KEY_F(1) && key <= KEY_F(12))
		snprintf(buf, size, "F%d", key - KEY_F(0));
	else if (key > 0 && key < 32)
		snprintf(buf, size, "Ctrl-%c", key + 'A' - 1);
	else if (key > KEY_ALT(32) && key < KEY_ALT(127))
		snprintf(buf, size, "Alt-%c", key - KEY_ALT(0));
	else if (key > 32 && key < 127)
		snprintf(buf, size, "%c", key);
	else
		snprintf(buf, size, "key%d", key);
	return buf;
}

int keymap_key_parse(const char *name)
{
	char *end;
	long f;

	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (strcmp(key_names[i].name, name) == 0)
			return key_names[i].key;
	if (name[0] == 'F' && name[1] >= '1' && name[1] <= '9') {
		f = strtol(name + 1, &end, 10);
		if (!*end && f <= 12)
			return KEY_F(f);
	}
	if (strncmp(name, "Ctrl-", 5) == 0 && name[5] && !name[6] &&
	    toupper((unsigned char)name[5]) >= 'A' && toupper((unsigned char)name[5]) <= 'Z')
		return CTRL_KEY(toupper((unsigned char)name[5]));
	if (strncmp(name, "Alt-", 4) == 0 && name[4] > 32 && name[4] < 127 && !name[5])
		return KEY_ALT(name[4]);
	if (name[0] > 32 && name[0] < 127 && !name[1])
		return name[0];
	return -1;
}

const char *keymap_keys_text(enum action act, char *buf, size_t size)
{
	char names[KEYMAP_KEYS][16];
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < KEYMAP_KEYS && act > ACT_NONE && act < ACT_COUNT; i++) {
		int key = keymap[act].keys[i];
		bool dup = false;

		names[i][0] = 0;
		if (!key)
			continue;
		keymap_key_name(key, names[i], sizeof(names[i]));
		/* two keys with one name (Enter, Bksp) are listed once */
		for (int j = 0; j < i; j++)
			dup = dup || strcmp(names[j], names[i]) == 0;
		if (!dup && n < size)
			n += snprintf(buf + n, size - n, "%s%s", n ? " " : "", names[i]);
	}
	return buf;
}
