/* driver: the live view driven by a test script, in the spirit of tig's
 * :save-display. Inactive unless NFPILOT_TEST_FD names an inherited
 * socket (the test harness's end of a socketpair); it then adds nothing a
 * person at the terminal cannot do: keys in, the screen as drawn out.
 *
 * Protocol: one command a line, each answered once the step is done.
 *
 *	ID key NAME...     keys by name (keymap_key_name: Down, PgUp, Enter,
 *	                   Esc, Ctrl-L, F3, q, ...), each run once the view is
 *	                   idle; answered when the last one's screen is drawn
 *	                   and the view is idle again
 *	ID do ACTION       the first key of an action of ui/keymap.h (apply,
 *	                   insert, search-next, ...), as key
 *	ID type TEXT       the rest of the line, byte by byte, as key
 *	ID dump            the screen, once the view is idle
 *	ID next SECS       the screen after the next redraw, once idle
 *	ID wait SECS ERE   until a line of the screen matches ERE (POSIX
 *	                   extended), checked at every redraw
 *	ID gone SECS ERE   until no line matches
 *
 * Idle: no rule dump or text job running, no reload or counter read
 * pending, no conntrack dump, no `save --check`, nothing unread on the
 * terminal, the nftables monitor, the guardian's socket or the conntrack
 * events.
 *
 * Answers: "ID ok ROWS COLS" (or "ID timeout ROWS COLS" when SECS ran out),
 * then the ROWS lines of the screen as UTF-8 text, then ROWS lines of one
 * mark per character: 'S' drawn as the selection (ROLE_SELECTED), 's' as
 * the selection of the pane without focus (ROLE_SELECTED_INACTIVE), '.'
 * otherwise. A bad command: "ID error MESSAGE". The view ending answers
 * nothing: the socket closes. */
#ifndef NFP_DRIVER_H
#define NFP_DRIVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

struct view;

/* Take the socket NFPILOT_TEST_FD names (and remove the variable, so no
 * child sees it). Unset: 0, inactive. Not a socket: -EINVAL with err. */
int driver_open(char *err, size_t errlen);
void driver_close(void);

/* fds to poll (at most 2). */
int driver_pollfds(struct pollfd *pfd);

/* A turn of the main loop, right after the screen was drawn (drawn: it
 * was redrawn this turn): answers the step in progress if it is done,
 * and returns the next key to run as if typed, or ERR. */
int driver_turn(struct view *v, bool drawn);

#endif
