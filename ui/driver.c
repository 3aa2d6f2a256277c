#define _GNU_SOURCE
#include "ui/driver.h"

#include "ui/view.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <wchar.h>

enum step { STEP_NONE, STEP_KEYS, STEP_DUMP, STEP_NEXT, STEP_WAIT, STEP_GONE };

static struct {
	int fd, timerfd;             /* -1: inactive */
	char in[4096];               /* commands not yet run */
	size_t nin;
	enum step step;
	char id[32];
	int keys[1024];
	size_t nkeys, kpos;
	bool fed;                    /* a key ran: its screen must be drawn */
	bool drawn;                  /* a redraw since the step (or key) began */
	bool expired;                /* its SECS ran out */
	regex_t re;
	bool have_re;
} drv = { .fd = -1, .timerfd = -1 };

int driver_open(char *err, size_t errlen)
{
	const char *s = getenv("NFPILOT_TEST_FD");
	struct stat st;
	char *end;
	long fd;

	if (!s)
		return 0;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || end == s || *end || fd < 3 || fd > 1 << 20 || fstat((int)fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "NFPILOT_TEST_FD=%.20s: not an open socket (the test "
			 "driver's; unset it to run the live view)", s);
		return -EINVAL;
	}
	drv.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (drv.timerfd < 0) {
		snprintf(err, errlen, "test driver: timerfd: %s", strerror(errno));
		return -errno;
	}
	drv.fd = (int)fd;
	fcntl(drv.fd, F_SETFD, FD_CLOEXEC); /* never a child's: guardian, save --check */
	unsetenv("NFPILOT_TEST_FD");
	return 0;
}

static void end_step(void)
{
	if (drv.have_re)
		regfree(&drv.re);
	drv.have_re = false;
	drv.step = STEP_NONE;
	timerfd_settime(drv.timerfd, 0, &(struct itimerspec){ 0 }, NULL);
}

void driver_close(void)
{
	if (drv.fd < 0)
		return;
	end_step();
	close(drv.fd);
	close(drv.timerfd);
	drv.fd = drv.timerfd = -1;
}

int driver_pollfds(struct pollfd *pfd)
{
	if (drv.fd < 0)
		return 0;
	pfd[0] = (struct pollfd){ .fd = drv.fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = drv.timerfd, .events = POLLIN };
	return 2;
}

/* ---- answering ---- */

static void send_all(const char *s, size_t n)
{
	while (n && drv.fd >= 0) {
		ssize_t w = send(drv.fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) { /* the harness is gone: nobody to answer */
			driver_close();
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

static size_t put_utf8(char *out, wchar_t wc)
{
	unsigned c = (unsigned)wc;

	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18 & 7));
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* A line-drawing character (ACS_*) as the terminal shows it. */
static wchar_t acs_char(wchar_t c)
{
	static const char from[] = "xqlkmjtuvwn";
	static const wchar_t to[] = { 0x2502, 0x2500, 0x250c, 0x2510, 0x2514, 0x2518,
				      0x251c, 0x2524, 0x2534, 0x252c, 0x253c };
	const char *p = c > 0 && c < 128 ? strchr(from, (int)c) : NULL;

	return p ? to[p - from] : c;
}

/* Line y of the screen as drawn (curscr): its text, and if marks is not
 * NULL a mark per character (see driver.h). text holds 4 * CCHARW_MAX
 * bytes a column. */
static size_t read_line(const struct view *v, int y, char *text, char *marks)
{
	size_t n = 0, nm = 0;

	for (int x = 0; x < COLS; x++) {
		cchar_t cc;
		wchar_t wc[CCHARW_MAX + 1] = { 0 };
		attr_t a = 0;
		short pair = 0;

		if (mvwin_wch(curscr, y, x, &cc) == ERR || getcchar(&cc, wc, &a, &pair, NULL) == ERR ||
		    !wc[0])
			wc[0] = ' ';
		if (a & A_ALTCHARSET)
			wc[0] = acs_char(wc[0]);
		for (int i = 0; i < CCHARW_MAX && wc[i]; i++)
			n += put_utf8(text + n, wc[i]);
		a = (a & ~(A_COLOR | A_ALTCHARSET)) | COLOR_PAIR(pair);
		if (marks)
			marks[nm++] = a == v->attr[ROLE_SELECTED] ? 'S'
				      : a == v->attr[ROLE_SELECTED_INACTIVE] ? 's' : '.';
		if (wcwidth(wc[0]) == 2)
			x++; /* the right half of a wide character */
	}
	if (marks)
		marks[nm] = 0;
	return n;
}

/* "ID WORD ROWS COLS", the text lines, the mark lines. */
static void answer(const struct view *v, const char *word)
{
	size_t cap = (size_t)COLS * (4 * CCHARW_MAX) + 2;
	char head[96], *text = malloc(cap), *marks = malloc((size_t)COLS + 2);
	char *all = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&all, &len);

	if (!text || !marks || !mem)
		goto out;
	snprintf(head, sizeof(head), "%s %s %d %d\n", drv.id, word, LINES, COLS);
	fputs(head, mem);
	for (int pass = 0; pass < 2; pass++)
		for (int y = 0; y < LINES; y++) {
			size_t nt = read_line(v, y, text, marks);

			fwrite(pass ? marks : text, 1, pass ? strlen(marks) : nt, mem);
			fputc('\n', mem);
		}
	fclose(mem);
	mem = NULL;
	send_all(all, len);
out:
	if (mem)
		fclose(mem);
	free(all);
	free(text);
	free(marks);
	end_step();
}

static void answer_error(const char *fmt, const char *arg)
{
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "%s error ", drv.id);

	snprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, arg);
	strcat(msg, "\n");
	send_all(msg, strlen(msg));
	end_step();
}

/* Whether any line of the screen matches the step's pattern. */
static bool screen_matches(const struct view *v)
{
	size_t cap = (size_t)COLS * (4 * CCHARW_MAX) + 1;
	char *line = malloc(cap);
	bool hit = false;

	for (int y = 0; line && y < LINES && !hit; y++) {
		size_t n = read_line(v, y, line, NULL);

		while (n && line[n - 1] == ' ')
			n--; /* as a person reads it: a line ends at its last character */
		line[n] = 0;
		hit = regexec(&drv.re, line, 0, NULL, 0) == 0;
	}
	free(line);
	return hit;
}

/* ---- idle ---- */

/* Nothing to load, read or answer: what is drawn is what the view knows. */
static bool view_idle(struct view *v)
{
	struct pollfd pfd[16];
	int n = 0;

	if (view_busy(v))
		return false;
	pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	n += view_pollfds(v, pfd + n);
	return poll(pfd, (nfds_t)n, 0) == 0;
}

/* ---- commands ---- */

static void arm(const char *secs)
{
	double s = strtod(secs, NULL);
	struct itimerspec its = { 0 };

	if (!(s > 0 && s < 3600))
		s = 5;
	its.it_value.tv_sec = (time_t)s;
	its.it_value.tv_nsec = (long)((s - (double)(time_t)s) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	timerfd_settime(drv.timerfd, 0, &its, NULL);
}

/* Start the first command of drv.in; false when there is none yet. */
static bool start_command(void)
{
	char *nl = memchr(drv.in, '\n', drv.nin), *verb, *rest, *save = NULL;
	char line[sizeof(drv.in)];
	size_t len;

	if (!nl) {
		if (drv.nin == sizeof(drv.in)) { /* no line fits: drop it */
			drv.nin = 0;
			snprintf(drv.id, sizeof(drv.id), "-");
			answer_error("%s", "line too long");
		}
		return false;
	}
	len = (size_t)(nl - drv.in);
	memcpy(line, drv.in, len);
	line[len] = 0;
	memmove(drv.in, nl + 1, drv.nin - len - 1);
	drv.nin -= len + 1;

	snprintf(drv.id, sizeof(drv.id), "%s", strtok_r(line, " ", &save) ?: "-");
	verb = strtok_r(NULL, " ", &save);
	rest = save ? save : "";
	drv.nkeys = drv.kpos = 0;
	drv.fed = drv.drawn = drv.expired = false;
	if (!verb) {
		answer_error("%s", "no command");
	} else if (strcmp(verb, "key") == 0) {
		char *name;

		drv.step = STEP_KEYS;
		while ((name = strtok_r(NULL, " ", &save)) && drv.nkeys < 1024) {
			int key = keymap_key_parse(name);

			if (key < 0) {
				answer_error("no key named '%.100s'", name);
				return true;
			}
			drv.keys[drv.nkeys++] = key;
		}
	} else if (strcmp(verb, "do") == 0) {
		size_t a = 1;

		while (a < ACT_COUNT && strcmp(keymap[a].name, rest) != 0)
			a++;
		if (a == ACT_COUNT) {
			answer_error("no action named '%.100s' (ui/keymap.h)", rest);
			return true;
		}
		drv.step = STEP_KEYS;
		drv.keys[drv.nkeys++] = keymap[a].keys[0];
	} else if (strcmp(verb, "type") == 0) {
		drv.step = STEP_KEYS;
		for (const char *p = rest; *p && drv.nkeys < 1024; p++)
			drv.keys[drv.nkeys++] = (unsigned char)*p;
	} else if (strcmp(verb, "dump") == 0) {
		drv.step = STEP_DUMP;
	} else if (strcmp(verb, "next") == 0) {
		drv.step = STEP_NEXT;
		arm(rest);
	} else if (strcmp(verb, "wait") == 0 || strcmp(verb, "gone") == 0) {
		char *secs = strtok_r(NULL, " ", &save);
		int ret;

		drv.step = verb[0] == 'w' ? STEP_WAIT : STEP_GONE;
		ret = regcomp(&drv.re, save ? save : "", REG_EXTENDED | REG_NOSUB);
		if (!secs || ret) {
			answer_error("%s", "wait and gone take SECS and an extended regex");
			return true;
		}
		drv.have_re = true;
		arm(secs);
		drv.drawn = true; /* look at the screen as it is first */
	} else {
		answer_error("unknown command '%.100s'", verb);
	}
	return true;
}

static void read_commands(void)
{
	while (drv.fd >= 0 && drv.nin < sizeof(drv.in)) {
		ssize_t n = recv(drv.fd, drv.in + drv.nin, sizeof(drv.in) - drv.nin, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			driver_close(); /* the harness is gone */
			return;
		}
		if (n < 0)
			return;
		drv.nin += (size_t)n;
	}
}

int driver_turn(struct view *v, bool drawn)
{
	uint64_t expirations;

	if (drv.fd < 0)
		return ERR;
	read_commands();
	if (drv.fd < 0)
		return ERR;
	if (read(drv.timerfd, &expirations, sizeof(expirations)) > 0)
		drv.expired = true;
	if (drv.step == STEP_NONE && !start_command())
		return ERR;
	drv.drawn = drv.drawn || drawn;
	switch (drv.step) {
	case STEP_NONE:
		break;
	case STEP_WAIT:
	case STEP_GONE:
		if (drv.drawn && screen_matches(v) == (drv.step == STEP_WAIT))
			answer(v, "ok");
		else if (drv.expired)
			answer(v, "timeout");
		drv.drawn = false;
		break;
	case STEP_NEXT:
		if (drv.drawn && view_idle(v))
			answer(v, "ok");
		else if (drv.expired)
			answer(v, "timeout");
		break;
	case STEP_DUMP:
		if (view_idle(v))
			answer(v, "ok");
		break;
	case STEP_KEYS:
		if ((drv.fed && !drv.drawn) || !view_idle(v))
			break;
		if (drv.kpos == drv.nkeys) {
			answer(v, "ok");
			break;
		}
		drv.fed = true;
		drv.drawn = false;
		return drv.keys[drv.kpos++];
	}
	return ERR;
}
