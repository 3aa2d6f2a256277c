/* tui: the interactive live view (`nfpilot` without a verb): the main loop
 * — one poll() over the terminal, the refresh timer, the probation, the
 * test driver and what each screen waits on — the keys every screen
 * shares (quit, help, the screens, probation, save), the prompt and the
 * y/N question. The screens themselves are ui/screen.h's ops tables. */
#define _GNU_SOURCE
#include "ui/tui.h"

#include "ui/driver.h"
#include "ui/prompt.h"
#include "ui/view.h"
#include "util/mono.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_quit_signal;

const struct screen_ops *const screens[] = {
	&rules_screen, &conns_screen, &trace_screen, &history_screen, &pending_screen,
	&help_screen, &detail_screen, &sets_screen, NULL,
};

enum redraw view_text_key(struct view *v, struct list *l, enum action act)
{
	if (!list_action(l, act))
		view_show(v, v->main);
	return REDRAW_ALL;
}

void view_show(struct view *v, const struct screen_ops *s)
{
	if (s == v->scr)
		return;
	if (!s->over && v->main && v->main != s && v->main->leave)
		v->main->leave(v);
	if (v->scr && v->scr->over && v->scr->leave)
		v->scr->leave(v);
	if (!s->over)
		v->main = s;
	v->scr = s;
	v->mode = MODE_BROWSE;
	if (s->enter)
		s->enter(v);
}

void view_ask(struct view *v, enum action act, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->confirm_msg, sizeof(v->confirm_msg), fmt, ap);
	va_end(ap);
	view_show(v, v->main);
	v->confirm_for = act;
	v->mode = MODE_CONFIRM;
}

void view_prompt(struct view *v, enum action act, const char *prefill)
{
	view_show(v, v->main);
	v->mode = MODE_PROMPT;
	v->prompt_for = act;
	v->input_err[0] = 0;
	snprintf(v->input, sizeof(v->input), "%s", prefill ? prefill : "");
	prompt_open(v);
}

void view_input_error(struct view *v, const char *err, const char *text, size_t off,
		      size_t len)
{
	char carets[128];
	size_t n = len < sizeof(carets) - 1 ? len : sizeof(carets) - 1;

	memset(carets, '^', n);
	carets[n] = 0;
	if (snprintf(v->input_err, sizeof(v->input_err), "%.400s\n%.400s\n%*s%s", err, text,
		     (int)off, "", carets) < 0)
		v->input_err[0] = 0;
	v->mode = MODE_PROMPT;
}

void view_prompt_done(struct view *v)
{
	if (v->prompt_for == ACT_SAVE)
		safe_save_prompt_done(v);
	else
		v->scr->prompt_done(v);
}

void view_status(struct view *v, enum theme_role role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->status, sizeof(v->status), fmt, ap);
	va_end(ap);
	v->status_role = role;
	v->status_at = mono_now();
}

/* ms until the message goes, -1: none shown */
static int status_left_ms(const struct view *v)
{
	double life = v->status_role == ROLE_ERROR || v->status_role == ROLE_WARNING
		      ? STATUS_LIFE_ERROR : STATUS_LIFE;
	double left = v->status_at + life - mono_now();

	if (!v->status[0])
		return -1;
	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

void view_set_refresh(struct view *v, double secs)
{
	struct itimerspec its;

	v->cfg.refresh = secs;
	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9);
	its.it_interval = its.it_value;
	timerfd_settime(v->timerfd, 0, &its, NULL);
}

int view_pollfds(struct view *v, struct pollfd *pfd)
{
	int n = 0;

	for (size_t i = 0; screens[i]; i++)
		if (screens[i]->pollfds)
			n += screens[i]->pollfds(v, pfd + n);
	return n + safe_pollfds(v, pfd + n);
}

bool view_busy(const struct view *v)
{
	if (v->tick_now || v->save_fd >= 0)
		return true;
	for (size_t i = 0; screens[i]; i++)
		if (screens[i]->busy && screens[i]->busy(v))
			return true;
	return false;
}

/* ms until a screen or the probation's countdown needs a turn, -1: none */
static int timeout_ms(const struct view *v)
{
	int ms = safe_timeout_ms(v), st = status_left_ms(v);

	if (st >= 0 && (ms < 0 || st < ms))
		ms = st;
	for (size_t i = 0; screens[i]; i++) {
		int s = screens[i]->timeout_ms ? screens[i]->timeout_ms(v) : -1;

		if (s >= 0 && (ms < 0 || s < ms))
			ms = s;
	}
	return ms;
}

/* ---- keys ---- */

/* The keys every screen shares; the others go to the screen shown. */
static enum redraw browse_key(struct view *v, int key, bool *quit)
{
	enum action act = keymap_lookup(v->scr->keymap, key);

	if (v->scr->over)
		return v->scr->key(v, act, key);
	switch (act) {
	case ACT_QUIT:
		*quit = safe_may_quit(v);
		return REDRAW_STATUS;
	case ACT_HELP:
		view_show(v, &help_screen);
		return REDRAW_ALL;
	case ACT_VIEW_RULES:
		view_show(v, &rules_screen);
		return REDRAW_ALL;
	case ACT_VIEW_CONNS:
		view_show(v, &conns_screen);
		return REDRAW_ALL;
	case ACT_VIEW_TRACE:
		view_show(v, &trace_screen);
		return REDRAW_ALL;
	case ACT_CONFIRM: case ACT_ROLLBACK: case ACT_EXTEND: case ACT_HISTORY: case ACT_SAVE:
		safe_action(v, act);
		return REDRAW_ALL;
	default:
		return v->scr->key(v, act, key);
	}
}

static enum redraw on_key(struct view *v, int key, bool *quit)
{
	if (key == KEY_RESIZE)
		return REDRAW_ALL;
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		if (keymap_lookup(KM_GENERIC, key) == ACT_QUIT)
			*quit = true;
		return REDRAW_ALL;
	}
	/* a key clears the last message */
	v->status[0] = 0;
	switch (v->mode) {
	case MODE_PROMPT:
		return prompt_key(v, key) | REDRAW_STATUS;
	case MODE_CONFIRM: {
		bool alt = v->confirm_alt;

		v->mode = MODE_BROWSE;
		v->confirm_alt = false;
		v->confirm_yes = key == 'y' || key == 'Y';
		if (alt && (key == 'n' || key == 'N')) {
			v->scr->confirmed(v); /* the other way the question offered */
		} else if (!v->confirm_yes) {
			v->apply_force = false;
			view_status(v, ROLE_DIM, "cancelled: nothing staged or changed");
		} else if (v->confirm_for == ACT_SAVE) {
			safe_save_confirmed(v);
		} else if (v->confirm_for == ACT_RESTORE) {
			safe_restore_confirmed(v);
		} else {
			v->scr->confirmed(v);
		}
		return REDRAW_ALL;
	}
	case MODE_BROWSE:
		break;
	}
	return browse_key(v, key, quit) | REDRAW_STATUS;
}

/* ---- terminal set-up and the loop ---- */

static void on_crash(int sig)
{
	endwin(); /* give the admin a usable terminal back */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_quit_signal(int sig)
{
	(void)sig;
	got_quit_signal = 1;
}

static void install_signals(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quit_signal; /* no SA_RESTART: poll() wakes up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_crash;
	for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		sigaction(crash[i], &sa, NULL);
}

struct warnings {
	char first[512];
	int count;
};

static void collect_warning(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (!w->count++)
		snprintf(w->first, sizeof(w->first), "%s", msg);
}

static bool terminal_gone(void)
{
	char c;
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	ssize_t n;

	fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	n = read(STDIN_FILENO, &c, 1);
	fcntl(STDIN_FILENO, F_SETFL, fl);
	if (n == 1)
		ungetch((unsigned char)c);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Esc with a key read at once (as a terminal sends Alt-b) is KEY_ALT('b');
 * Esc alone waited the escape delay already. */
static int alt_key(int key)
{
	int next;

	if (key != 27 || (next = getch()) == ERR)
		return key;
	if (next > 32 && next < 127)
		return KEY_ALT(next);
	ungetch(next);
	return key;
}

static void loop(struct view *v)
{
	bool quit = false;
	enum redraw dirty = REDRAW_ALL;

	while (!quit && !got_quit_signal) {
		struct pollfd pfd[16];
		int n = 0, ready, nsafe, key;

		if (dirty)
			draw_screen(v, dirty);
		/* a test script's next key, once the view is idle (ui/driver.h) */
		key = driver_turn(v, dirty != REDRAW_NONE);
		dirty = key != ERR ? on_key(v, key, &quit) : REDRAW_NONE;
		pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = v->timerfd, .events = POLLIN };
		nsafe = safe_pollfds(v, pfd + n);
		n += nsafe;
		for (size_t i = 0; screens[i]; i++)
			if (screens[i]->pollfds)
				n += screens[i]->pollfds(v, pfd + n);
		n += driver_pollfds(pfd + n);
		ready = poll(pfd, (nfds_t)n, dirty ? 0 : timeout_ms(v));
		if (safe_timeout_ms(v) >= 0)
			dirty |= REDRAW_ALL; /* the probation's countdown */
		if (status_left_ms(v) == 0) {
			v->status[0] = 0; /* the message has been read, or is old */
			dirty |= REDRAW_STATUS;
		}
		if (ready > 0 && safe_events(v, pfd + 2, nsafe))
			dirty |= REDRAW_ALL;
		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
			break; /* the terminal went away */
		/* also after EINTR: a SIGWINCH becomes KEY_RESIZE here */
		if (ready != 0) {
			int keys = 0;

			while (keys < 256 && !got_quit_signal && (key = getch()) != ERR) {
				key = alt_key(key);
				dirty |= on_key(v, key, &quit);
				keys++;
			}
			/* readable yet no key: a hung-up terminal reads EOF or EIO */
			if (!keys && (pfd[0].revents & POLLIN) && terminal_gone())
				break;
		}
		if (ready > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t expirations;

			if (read(v->timerfd, &expirations, sizeof(expirations)) > 0 && !v->paused)
				v->tick_now = true;
		}
		if (v->tick_now && COLS >= MIN_COLS && LINES >= MIN_LINES) {
			for (size_t i = 0; screens[i]; i++)
				if (screens[i]->tick)
					dirty |= screens[i]->tick(v);
			safe_tick(v);
		}
		v->tick_now = false;
		for (size_t i = 0; screens[i]; i++)
			if (screens[i]->step)
				dirty |= screens[i]->step(v);
	}
}

int tui_run(const struct tui_opts *o, char *err, size_t errlen)
{
	struct view *v = calloc(1, sizeof(*v));
	struct warnings warns = { 0 };
	struct theme_spec spec;
	char werr[512];
	const char *theme;
	SCREEN *scr;
	int ret;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		free(v);
		snprintf(err, errlen, "the live view needs a terminal (for scripts: nfpilot list)");
		return -ENOTTY;
	}
	ret = driver_open(err, errlen);
	if (ret) {
		free(v);
		return ret;
	}
	setlocale(LC_ALL, "");
	v->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	config_load(&v->cfg, collect_warning, &warns);
	if (o->timeout_s)
		v->cfg.timeout = o->timeout_s;
	v->netns = o->netns;
	gethostname(v->host, sizeof(v->host) - 1);
	v->timerfd = -1;

	ret = live_open(&v->live, v->cfg.numeric, err, errlen);
	if (ret) {
		driver_close();
		free(v);
		return ret;
	}
	safe_init(v, o->strict);
	theme = theme_no_color() ? "mono" : o->theme ? o->theme : v->cfg.theme;
	if (theme_load(&spec, theme, werr, sizeof(werr)) < 0)
		collect_warning(&warns, werr);

	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		driver_close();
		live_close(&v->live);
		free(v);
		snprintf(err, errlen, "cannot use terminal type '%s'",
			 getenv("TERM") ? getenv("TERM") : "(unset)");
		return -EINVAL;
	}
	install_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	if (has_colors() && !theme_no_color()) {
		start_color();
		use_default_colors();
	}
	theme_apply(&spec, has_colors() && !theme_no_color(), v->attr);
	bkgdset(v->attr[ROLE_NORMAL]);
	if (warns.count)
		view_status(v, ROLE_WARNING, "%s%s", warns.first,
		       warns.count > 1 ? " (and more: check the config)" : "");

	v->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	view_set_refresh(v, v->cfg.refresh);
	view_show(v, &rules_screen);
	loop(v);

	endwin();
	delscreen(scr);
	driver_close();
	close(v->timerfd);
	safe_free(v); /* a probation of ours not confirmed: reverted now */
	for (size_t i = 0; screens[i]; i++)
		if (screens[i]->free)
			screens[i]->free(v);
	live_close(&v->live);
	edit_free(v);
	prompt_free();
	free(v);
	return 0;
}
