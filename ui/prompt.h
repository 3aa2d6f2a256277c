/* prompt: the line editor of every prompt — GNU readline's callback
 * interface (rl_callback_handler_install / rl_callback_read_char) fed the
 * keys the loop reads and drawn into the status line by ui/draw.c
 * (readline never touches the terminal: ncurses owns it). Emacs keys as
 * readline has them (~/.inputrc applies): cursor keys, Home/End,
 * Ctrl-A/E/K/U/W/Y, Alt-B/F/D; Up/Down the history of this kind of prompt
 * (rules, filters, searches, chains, ...), kept across runs in
 * $XDG_STATE_HOME/nfpilot/history-KIND (~/.local/state/nfpilot when
 * unset; mode 0600, written by util/safefile.h); Tab completes nft
 * keywords and the ruleset's table, chain and set names. Esc cancels. */
#ifndef NFP_PROMPT_H
#define NFP_PROMPT_H

#include "ui/screen.h"

struct view;

/* Start editing v->input (the prefill) for v->prompt_for. */
void prompt_open(struct view *v);
/* A key typed while the prompt is open (a curses key, or KEY_ALT(c)). */
enum redraw prompt_key(struct view *v, int key);
/* The byte offset of the cursor in v->input. */
size_t prompt_point(void);
/* What readline shows before the line instead of the prompt's label
 * ("(reverse-i-search)`ssh': " while Ctrl-R searches), "" if nothing. */
const char *prompt_label(void);
/* What Tab offered when there was more than one word ("" if none). */
const char *prompt_matches(void);
/* The kind of prompt act is ("rule", "filter", ...): its history file. */
const char *prompt_kind(enum action act);
void prompt_free(void);

#endif
