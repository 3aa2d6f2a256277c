/* safe: the live view's side of the safe-apply protocol, on every screen
 * — the probation of the edits applied with W (banner, confirm, revert,
 * extend, what happens on quit), saving to the boot-time file and the
 * "not saved" indicator. The history view is ui/history.c. */
#define _GNU_SOURCE
#include "ui/view.h"

#include "probation/history.h"
#include "apply/save.h"
#include "probation/state.h"
#include "model/fmt.h"
#include "util/mono.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* `nfpilot save --check` in the background: its exit status tells. It
 * loads the file in a scratch namespace and dumps the ruleset, which takes
 * seconds for a big one: never on the screen's time, and never back to
 * back: the next starts SAVE_CHECK_GAP seconds after the last ended, or
 * three times as long as it took, whichever is later. */
#define SAVE_CHECK_GAP 1.0
static bool ours(const struct view *v);

static void start_save_check(struct view *v)
{
	char exe[4096];
	int fds[2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;

	v->save_pid = v->save_fd = -1;
	v->save_gen = v->live.rs.genid;
	v->save_started = mono_now();
	if (!v->save_file[0]) {
		v->save_state = SAVE_NOFILE; /* a namespace none was given for */
		return;
	}
	if (n < 0 || pipe2(fds, O_CLOEXEC) < 0)
		return;
	exe[n] = 0;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* the pipe's write end stays open until the check exits */
		fcntl(fds[1], F_SETFD, 0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(exe, "nfpilot", "save", "--check", v->save_file, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return;
	}
	v->save_pid = pid;
	v->save_fd = fds[0];
}

static void end_save_check(struct view *v)
{
	double now = mono_now(), took = now - v->save_started;
	int status = 0;

	v->save_next = now + (3 * took > SAVE_CHECK_GAP ? 3 * took : SAVE_CHECK_GAP);
	close(v->save_fd);
	v->save_fd = -1;
	if (waitpid(v->save_pid, &status, 0) == v->save_pid && WIFEXITED(status)) {
		int rc = WEXITSTATUS(status);

		/* shown in the header: the key hints stay on the status line */
		v->save_state = rc == 0 ? SAVE_SAME : rc == 1 ? SAVE_DIFFERS
			       : rc == 3 ? SAVE_NOFILE : SAVE_UNKNOWN;
	}
	v->save_pid = -1;
}

void safe_init(struct view *v, bool strict)
{
	const char *file;

	v->prob.fd = -1;
	v->popts.timeout_s = v->cfg.timeout;
	v->popts.strict = strict;
	v->popts.what = "nfpilot live view";
	{
		char dir[256];

		/* only looked at: made when a probation starts */
		state_run_path(dir, sizeof(dir));
		snprintf(v->prob_sock, sizeof(v->prob_sock), "%s/%s", dir, PROB_SOCK);
	}
	/* a namespace never gets the machine's boot file */
	file = config_save_file(&v->cfg, state_ns_name(v->ns_name, sizeof(v->ns_name))
				? v->ns_name : NULL);
	snprintf(v->save_file, sizeof(v->save_file), "%s", file ? file : "");
	start_save_check(v);
	safe_tick(v);
}

void safe_tick(struct view *v)
{
	struct stat st;

	v->other_prob = !ours(v) && v->prob_sock[0] && stat(v->prob_sock, &st) == 0;
	/* the ruleset moved (anyone's change, a restore, a revert): is the
	 * boot file still what it holds? (until it is known: safe_saved) */
	if (v->save_fd < 0 && v->live.rs.genid != v->save_gen && mono_now() >= v->save_next)
		start_save_check(v);
}

const char *safe_saved(const struct view *v)
{
	if (v->save_gen != v->live.rs.genid)
		return "[save: rechecking]";
	return v->save_state == SAVE_DIFFERS || v->save_state == SAVE_NOFILE
	       ? "[not saved: lost at reboot]" : "";
}

void safe_free(struct view *v)
{
	probation_close(&v->prob); /* a probation of ours still running reverts */
	if (v->save_fd >= 0) {
		kill(v->save_pid, SIGTERM);
		end_save_check(v);
	}
	free(v->renames);
}

static bool ours(const struct view *v)
{
	return v->prob.fd >= 0 && v->prob.outcome == PROB_RUNNING;
}

/* The guardian said how it ended: tell, and show what the kernel has. */
static void ended(struct view *v)
{
	char why[300];

	fmt_sanitize(why, sizeof(why), v->prob.why);
	v->quit_armed = false;
	v->live.dirty = true;
	if (v->prob.outcome == PROB_CONFIRMED) {
		v->save_state = SAVE_DIFFERS;
		view_status(v, ROLE_NORMAL, "confirmed (history %d). Not saved yet: S saves it%s%s",
			    v->prob.history_n, v->save_file[0] ? " to " : "", v->save_file);
	} else if (v->prob.outcome == PROB_REVERTED) {
		struct place here;
		char now[80] = "";

		/* the revert re-added the rules: they have new handles */
		free(v->renames);
		v->renames = v->prob.history_n ? history_read(v->prob.history_n, HISTORY_HANDLES)
					       : NULL;
		view_place(v, &here);
		if (here.chain[0] && here.handle) {
			uint64_t h = history_renamed(v->renames, here.family, here.table, here.chain,
						     here.handle);

			if (h)
				snprintf(now, sizeof(now), "; rule %llu is now %llu",
					 (unsigned long long)here.handle, (unsigned long long)h);
		}
		view_status(v, ROLE_ERROR, "REVERTED: %s — the tables are as before the change%s "
			    "(H: history)", why, now);
	} else {
		view_status(v, ROLE_ERROR, "PROBATION FAILED: %s", why);
	}
	probation_close(&v->prob);
}

void safe_applied(struct view *v, struct probation *p, size_t nedits)
{
	if (v->prob.fd >= 0) {
		/* we joined our own probation: the new connection holds it now */
		char err[256];

		probation_send(&v->prob, REQ_RELEASE, NULL, NULL, err, sizeof(err));
		probation_close(&v->prob);
	}
	v->prob = *p;
	p->fd = -1;
	if (v->prob.fd < 0) {
		view_status(v, ROLE_NORMAL, "applied %zu edit%s: nothing changed, no probation",
			    nedits, nedits == 1 ? "" : "s");
		return;
	}
	if (v->popts.strict)
		view_status(v, ROLE_WARNING, "applied %zu edit%s on probation (strict): confirm from "
			    "a NEW login with `nfpilot confirm`; R reverts now", nedits,
			    nedits == 1 ? "" : "s");
	else
		view_status(v, ROLE_WARNING, "applied %zu edit%s on probation: Y keeps %s, R reverts "
			    "now, E extends; unconfirmed, reverted", nedits, nedits == 1 ? "" : "s",
			    nedits == 1 ? "it" : "them");
	/* what the change stopped admitting still flows: say so */
	conns_check_start(v, false);
}

static void tell_guardian(struct view *v, enum protocol_req req)
{
	char err[512];
	struct probation *p = ours(v) ? &v->prob : NULL;
	long long n = 0;
	int ret = probation_send(p, req, NULL, &n, err, sizeof(err));

	if (ret) {
		view_status(v, ret == -ENOENT ? ROLE_DIM : ROLE_ERROR, "%s", err);
		return;
	}
	if (req == REQ_EXTEND) {
		/* the new deadline comes to holders as the guardian's own word */
		view_status(v, ROLE_NORMAL, "extended: %lld s left", n / 1000);
		return;
	}
	if (p) {
		ended(v);
		return;
	}
	/* another login's probation */
	v->live.dirty = true;
	view_status(v, ROLE_NORMAL, "%s (history %lld)", req == REQ_CONFIRM
		    ? "confirmed the change on probation" : "reverted the change on probation", n);
}

void safe_save_confirmed(struct view *v)
{
	char err[1024], skipped[256];
	const char *file = v->save_ask;
	int ret = save_write(&v->live.nl, file, v->cfg.save_mode, skipped,
			     sizeof(skipped), err, sizeof(err));

	if (ret) {
		view_status(v, ROLE_ERROR, "not saved: %s", err);
		return;
	}
	/* the file given for a namespace is its file from now on */
	if (file != v->save_file)
		snprintf(v->save_file, sizeof(v->save_file), "%s", file);
	v->save_state = SAVE_SAME;
	v->save_gen = v->live.rs.genid;
	if (skipped[0])
		view_status(v, ROLE_WARNING, "saved to %s, without the iptables-nft tables (%s): "
			    "save those with iptables-save", file, skipped);
	else
		view_status(v, ROLE_NORMAL, "saved to %s (the previous file, if any, is %s.bak)",
			    file, file);
}

/* The question before S writes file: the namespace named, if one. */
static void ask_save(struct view *v, const char *file)
{
	snprintf(v->save_ask, sizeof(v->save_ask), "%s", file);
	if (v->ns_name[0])
		view_ask(v, ACT_SAVE, "Save namespace %s's live ruleset to %s (the previous file "
			 "kept as .bak)?", v->ns_name, file);
	else
		view_ask(v, ACT_SAVE, "Save the live ruleset to %s (the previous file kept as "
			 ".bak)?", file);
}

void safe_save_prompt_done(struct view *v)
{
	const char *file = v->input + strspn(v->input, " ");

	if (file[0] != '/' || strlen(file) >= sizeof(v->save_ask) || strpbrk(file, " \t")) {
		snprintf(v->input_err, sizeof(v->input_err), "the file's absolute path, e.g. "
			 "/etc/nft/%s.nft", v->ns_name);
		return;
	}
	v->input_err[0] = 0;
	ask_save(v, file);
}

const char *safe_save_help(const struct view *v, char *buf, size_t len)
{
	if (v->save_file[0])
		snprintf(buf, len, "%s: %s (loaded at boot)", keymap[ACT_SAVE].help, v->save_file);
	else
		snprintf(buf, len, "%s: namespace %s has none, S asks (config: save_file.%s)",
			 keymap[ACT_SAVE].help, v->ns_name, v->ns_name);
	return buf;
}

void safe_restore_confirmed(struct view *v)
{
	struct probation_opts o = v->popts;
	struct probation prob;
	char err[1024];
	int n = v->hist.restore_n;
	int ret = probation_restore(&v->live.nl, n, false, &o, &prob, err, sizeof(err));

	for (char *p = err; *p; p++) /* one status line */
		if (*p == '\n')
			*p = ' ';
	if (ret) {
		view_status(v, ROLE_ERROR, "not restored: %s", err);
		return;
	}
	v->live.dirty = true; /* show what the kernel has now */
	safe_applied(v, &prob, 1);
	if (v->prob.fd >= 0)
		view_status(v, ROLE_WARNING, "restored the tables of history entry %d on probation: "
			    "%s", n, v->popts.strict ? "confirm from a NEW login (nfpilot confirm)"
						      : "Y keeps it, R reverts now, E extends");
}

void safe_action(struct view *v, enum action act)
{
	switch (act) {
	case ACT_CONFIRM:
		if (ours(v) && v->prob.strict) {
			view_status(v, ROLE_WARNING, "strict mode: this session cannot confirm. Log in "
				    "again (a NEW SSH session) and run `nfpilot confirm`");
			return;
		}
		tell_guardian(v, REQ_CONFIRM);
		break;
	case ACT_ROLLBACK:
		tell_guardian(v, REQ_ROLLBACK);
		break;
	case ACT_EXTEND:
		tell_guardian(v, REQ_EXTEND);
		break;
	case ACT_HISTORY:
		view_show(v, &history_screen);
		break;
	case ACT_SAVE: {
		char err[1024];

		if (ours(v)) {
			view_status(v, ROLE_WARNING, "a change is on probation: confirm it (Y) before "
				    "saving");
			return;
		}
		/* any probation of this namespace, another login's too: the boot
		 * file must not keep what may still be reverted (save_write
		 * checks again when it writes) */
		if (save_probation_check(err, sizeof(err))) {
			view_status(v, ROLE_WARNING, "not saved: %s", err);
			return;
		}
		if (v->save_file[0])
			ask_save(v, v->save_file);
		else
			view_prompt(v, ACT_SAVE, NULL); /* a namespace: which file? */
		break;
	}
	default:
		break;
	}
}

int safe_pollfds(struct view *v, struct pollfd *pfd)
{
	int n = 0;

	if (v->prob.fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = v->prob.fd, .events = POLLIN };
	if (v->save_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = v->save_fd, .events = POLLIN };
	return n;
}

bool safe_events(struct view *v, const struct pollfd *pfd, int n)
{
	bool changed = false;

	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == v->prob.fd && probation_poll(&v->prob)) {
			if (v->prob.outcome != PROB_RUNNING)
				ended(v);
			changed = true;
		} else if (pfd[i].fd == v->save_fd) {
			end_save_check(v);
			changed = true;
		}
	}
	return changed;
}

int safe_timeout_ms(const struct view *v)
{
	if (!ours(v))
		return -1;
	return (int)(probation_left_ms(&v->prob) % 1000) + 1;
}

bool safe_may_quit(struct view *v)
{
	if (!ours(v) || v->quit_armed)
		return true;
	v->quit_armed = true;
	view_status(v, ROLE_WARNING, "the change is on probation: quitting REVERTS it. "
		    "Y keeps it, then q; or q again to quit and revert");
	return false;
}
