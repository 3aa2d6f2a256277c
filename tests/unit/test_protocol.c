/* Unit tests of probation/protocol: every request, answer and notice
 * written as the guardian and its clients have always read it (a guardian
 * of the previous version may still be running), read back into the same
 * fields, and what is not a message refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probation/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static char buf[4096];

/* what a format wrote in buf (len bytes) is want */
static void written_is(int len, const char *want)
{
	assert_int_equal(len, (int)strlen(want));
	assert_string_equal(buf, want);
}

/* r written is want, and read back into r's fields */
static void request_is(const struct protocol_request *r, const char *want)
{
	struct protocol_request back;

	written_is(protocol_request_format(r, buf, sizeof(buf)), want);
	assert_int_equal(protocol_request_parse(buf, &back), 0);
	assert_int_equal(back.req, r->req);
	assert_int_equal(back.timeout_s, r->timeout_s);
	assert_int_equal(back.strict, r->strict);
	assert_int_equal(back.force, r->force);
	assert_int_equal(back.detach, r->detach);
	assert_int_equal(back.pid, r->pid);
	assert_int_equal(back.kind, r->kind);
#define SAME_STR(f) \
	if (r->f && *r->f) \
		assert_string_equal(back.f, r->f); \
	else \
		assert_true(!back.f || !*back.f);
	SAME_STR(user) SAME_STR(from) SAME_STR(what) SAME_STR(path) SAME_STR(textpath)
	SAME_STR(include)
#undef SAME_STR
}

static void test_requests(void **state)
{
	(void)state;
	request_is(&(struct protocol_request){ .req = REQ_START, .timeout_s = 60, .force = true,
					       .user = "root (sudo from ann)", .from = "10.0.0.2",
					       .what = "nfpilot apply web.nft" },
		   "start 60 0 1\nroot (sudo from ann)\n10.0.0.2\nnfpilot apply web.nft");
	request_is(&(struct protocol_request){ .req = REQ_HOLD, .pid = 4242 }, "hold 4242");
	request_is(&(struct protocol_request){ .req = REQ_HOLD, .pid = 7, .strict = true,
					       .detach = true }, "hold 7 strict detach");
	request_is(&(struct protocol_request){ .req = REQ_RELEASE }, "release");
	request_is(&(struct protocol_request){ .req = REQ_JOIN, .path = "/run/x/join-9.snap" },
		   "join /run/x/join-9.snap");
	request_is(&(struct protocol_request){ .req = REQ_JOIN, .path = "/j", .force = true },
		   "join /j force");
	request_is(&(struct protocol_request){ .req = REQ_COMMIT, .kind = CHANGE_BATCH,
					       .path = "/d/change-1.batch",
					       .textpath = "/d/change-1.txt" },
		   "commit batch /d/change-1.batch /d/change-1.txt");
	request_is(&(struct protocol_request){ .req = REQ_COMMIT, .kind = CHANGE_SCRIPT,
					       .path = "/d/c.nft", .textpath = "/d/c.txt",
					       .include = "/etc/nft" },
		   "commit script /d/c.nft /d/c.txt /etc/nft");
	request_is(&(struct protocol_request){ .req = REQ_COMMIT, .kind = CHANGE_RESTORE,
					       .path = "/h/3.after", .textpath = "/d/t" },
		   "commit restore /h/3.after /d/t");
	request_is(&(struct protocol_request){ .req = REQ_CONFIRM }, "confirm");
	request_is(&(struct protocol_request){ .req = REQ_ROLLBACK }, "rollback");
	request_is(&(struct protocol_request){ .req = REQ_EXTEND }, "extend");
	request_is(&(struct protocol_request){ .req = REQ_STATUS }, "status");
	assert_string_equal(protocol_req_word(REQ_CONFIRM), "confirm");
}

static void test_requests_refused(void **state)
{
	static const char *const bad[] = {
		"", "confirm now", "confirmed", "statu", "hold", "hold x", "hold 1 loose",
		"join", "join /a force extra", "join /a please", "commit", "commit batch /a",
		"commit frob /a /b", "commit batch /a /b /c /d", "start 60 0 0\nu\nf",
		"start 5 0 0\nu\nf\nw", "start 60 0\nu\nf\nw", "release\n",
	};
	struct protocol_request r;
	char msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", bad[i]);
		if (protocol_request_parse(msg, &r) != -EINVAL)
			fail_msg("'%s' taken as a request", bad[i]);
	}
	/* a path of two words cannot be said */
	assert_int_equal(protocol_request_format(&(struct protocol_request){
		.req = REQ_JOIN, .path = "/run/a b" }, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(protocol_request_format(&(struct protocol_request){
		.req = REQ_JOIN, .path = "/run/ab" }, buf, 8), -EMSGSIZE);
}

/* a written as the answer to req is want; read back, the same */
static void answer_is(enum protocol_req req, const struct protocol_answer *a, const char *want)
{
	struct protocol_answer back;

	written_is(protocol_answer_format(req, a, buf, sizeof(buf)), want);
	assert_int_equal(protocol_answer_parse(req, buf, &back), 0);
	assert_int_equal(back.ok, a->ok);
	assert_int_equal(back.n, a->n);
	assert_int_equal(back.restore_refused, a->restore_refused);
	assert_int_equal(back.kernel_err, a->kernel_err);
	assert_int_equal(back.batch, a->batch);
	assert_int_equal(back.seq, a->seq);
	if (a->refused)
		assert_string_equal(back.refused, a->refused);
	else
		assert_null(back.refused);
	if (a->text)
		assert_string_equal(back.text, a->text);
	else
		assert_true(!back.text || !*back.text);
}

static void test_answers(void **state)
{
	(void)state;
	answer_is(REQ_START, &(struct protocol_answer){ .ok = true }, "ok ready");
	answer_is(REQ_START, &(struct protocol_answer){ .ok = true, .refused = "table ip t: x" },
		  "ok forced table ip t: x");
	answer_is(REQ_START, &(struct protocol_answer){ .restore_refused = true, .text = "why" },
		  "err refused why");
	answer_is(REQ_START, &(struct protocol_answer){ .text = "no netlink" }, "err no netlink");
	answer_is(REQ_JOIN, &(struct protocol_answer){ .ok = true }, "ok");
	answer_is(REQ_JOIN, &(struct protocol_answer){ .ok = true, .refused = "r" }, "ok refused r");
	answer_is(REQ_JOIN, &(struct protocol_answer){ .restore_refused = true, .text = "w" },
		  "err refused: w");
	answer_is(REQ_COMMIT, &(struct protocol_answer){ .ok = true, .n = 60000,
							 .text = "inet web, ip filter (new)" },
		  "ok 60000\ninet web, ip filter (new)");
	answer_is(REQ_COMMIT, &(struct protocol_answer){ .ok = true, .text = "nothing changed" },
		  "ok 0\nnothing changed");
	answer_is(REQ_COMMIT, &(struct protocol_answer){ .kernel_err = -EINVAL, .batch = true,
							 .seq = 1234, .text = "Invalid argument" },
		  "err batch -22 1234 Invalid argument");
	answer_is(REQ_COMMIT, &(struct protocol_answer){ .kernel_err = -ERESTART,
							 .text = "the ruleset changed" },
		  "err refused -85 the ruleset changed");
	answer_is(REQ_COMMIT, &(struct protocol_answer){ .text = "hold first" }, "err hold first");
	answer_is(REQ_EXTEND, &(struct protocol_answer){ .ok = true, .n = 120000 }, "ok 120000");
	answer_is(REQ_CONFIRM, &(struct protocol_answer){ .ok = true, .n = 7 }, "ok 7");
	answer_is(REQ_CONFIRM, &(struct protocol_answer){ .text = "strict mode: ..." },
		  "err strict mode: ...");
	answer_is(REQ_ROLLBACK, &(struct protocol_answer){ .ok = true, .n = 8 }, "ok 8");
	answer_is(REQ_STATUS, &(struct protocol_answer){ .ok = true,
							 .text = "probation: running\nleft: 5 s\n" },
		  "ok\nprobation: running\nleft: 5 s\n");
	answer_is(REQ_HOLD, &(struct protocol_answer){ .ok = true }, "ok");
	answer_is(REQ_RELEASE, &(struct protocol_answer){ .text = "unknown request" },
		  "err unknown request");
}

static void test_answer_errno(void **state)
{
	(void)state;
	assert_int_equal(protocol_answer_errno(REQ_JOIN, &(struct protocol_answer){
		.restore_refused = true }), -ENOTRECOVERABLE);
	assert_int_equal(protocol_answer_errno(REQ_COMMIT, &(struct protocol_answer){
		.kernel_err = -ENOENT }), -ENOENT);
	assert_int_equal(protocol_answer_errno(REQ_START, &(struct protocol_answer){ 0 }),
			 -EINVAL);
	assert_int_equal(protocol_answer_errno(REQ_CONFIRM, &(struct protocol_answer){ 0 }),
			 -EPERM);
	/* a kernel error that is no errno is still an error */
	snprintf(buf, sizeof(buf), "err refused 5 odd");
	assert_int_equal(protocol_answer_parse(REQ_COMMIT, buf, &(struct protocol_answer){ 0 }),
			 0);
	{
		struct protocol_answer a;

		protocol_answer_parse(REQ_COMMIT, buf, &a);
		assert_int_equal(a.kernel_err, -EIO);
		assert_string_equal(a.text, "odd");
	}
}

static void test_not_answers(void **state)
{
	static const char *const bad[] = { "deadline 5000", "end confirmed 3\nby pid 1", "okay",
					   "error", "err", "" };
	struct protocol_answer a;
	char msg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "%s", bad[i]);
		if (protocol_answer_parse(REQ_CONFIRM, msg, &a) != -EINVAL)
			fail_msg("'%s' taken as an answer", bad[i]);
	}
	/* a long answer is cut to fit */
	assert_int_equal(protocol_answer_format(REQ_STATUS, &(struct protocol_answer){
		.ok = true, .text = "0123456789" }, buf, 8), 7);
	assert_string_equal(buf, "ok\n0123");
}

static void notice_is(const struct protocol_notice *m, const char *want)
{
	struct protocol_notice back;

	written_is(protocol_notice_format(m, buf, sizeof(buf)), want);
	assert_int_equal(protocol_notice_parse(buf, &back), 0);
	assert_int_equal(back.note, m->note);
	assert_int_equal(back.ms, m->ms);
	if (m->note == NOTE_END) {
		assert_int_equal(back.outcome, m->outcome);
		assert_int_equal(back.history_n, m->history_n);
		assert_string_equal(back.reason, m->reason);
	}
}

static void test_notices(void **state)
{
	struct protocol_notice m;
	char msg[64];

	(void)state;
	notice_is(&(struct protocol_notice){ .note = NOTE_DEADLINE, .ms = 60000 },
		  "deadline 60000");
	notice_is(&(struct protocol_notice){ .note = NOTE_END, .outcome = PROB_CONFIRMED,
					     .history_n = 3, .reason = "confirmed by pid 9" },
		  "end confirmed 3\nconfirmed by pid 9");
	notice_is(&(struct protocol_notice){ .note = NOTE_END, .outcome = PROB_REVERTED,
					     .history_n = 4, .reason = "not confirmed within 10 s" },
		  "end reverted 4\nnot confirmed within 10 s");
	notice_is(&(struct protocol_notice){ .note = NOTE_END, .outcome = PROB_FAILED,
					     .history_n = -1, .reason = "x; the REVERT FAILED" },
		  "end failed -1\nx; the REVERT FAILED");
	/* an end this version does not know is a failure */
	snprintf(msg, sizeof(msg), "end vanished 2\nwhy");
	assert_int_equal(protocol_notice_parse(msg, &m), 0);
	assert_int_equal(m.outcome, PROB_FAILED);
	assert_string_equal(m.reason, "why");
	snprintf(msg, sizeof(msg), "ok 5");
	assert_int_equal(protocol_notice_parse(msg, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_requests_refused),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_answer_errno),
		cmocka_unit_test(test_not_answers),
		cmocka_unit_test(test_notices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
