/* tui: the interactive live view (`nfpilot` without a verb): the main loop
 * — one poll() over the terminal, the nftables monitor, the rule dump in
 * progress, the text worker and the refresh timer — and the actions bound
 * in ui/keymap.h. */
#ifndef NFP_TUI_H
#define NFP_TUI_H

#include <stdbool.h>
#include <stddef.h>

struct tui_opts {
	const char *netns;   /* shown in the header; already entered */
	const char *theme;   /* --theme, or NULL for the config's */
	int timeout_s;       /* --timeout: probation seconds, 0 = config's */
	bool strict;         /* --confirm-new-session */
};

/* Runs until the admin quits: 0. Before the screen opens, -errno with err
 * filled: -ENOTTY no terminal, -EINVAL an unusable terminal type, else
 * what opening the ruleset returned. */
int tui_run(const struct tui_opts *o, char *err, size_t errlen);

#endif
