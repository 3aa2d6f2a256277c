/* Unit tests of model/json.c: the one JSON writer of every --json answer.
 * Each case is compared as the exact text written, and every string the
 * kernel may hand over is written as valid JSON: control bytes escaped,
 * invalid UTF-8 as U+FFFD, a valid character as it is. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "model/json.h"

static char *buf;
static size_t len;

static struct json *start(struct json *j)
{
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	json_init(j, fp);
	return j;
}

static const char *done(struct json *j)
{
	fclose(j->fp);
	return buf;
}

static void teardown_buf(void)
{
	free(buf);
	buf = NULL;
}

/* one string member {"s":VAL} as written */
static void check_str(const char *val, const char *want)
{
	struct json j;

	json_object(start(&j), NULL);
	json_str(&j, "s", val);
	json_end(&j);
	assert_string_equal(done(&j), want);
	teardown_buf();
}

static void test_nesting(void **state)
{
	struct json j;

	(void)state;
	json_object(start(&j), NULL);
	json_int(&j, "n", -42);
	json_uint(&j, "u", 18446744073709551615ull);
	json_bool(&j, "t", true);
	json_null(&j, "z");
	json_array(&j, "a");
	json_int(&j, NULL, 1);
	json_object(&j, NULL);
	json_end(&j);
	json_array(&j, NULL);
	json_end(&j);
	json_str(&j, NULL, NULL);
	json_end(&j);
	json_object(&j, "o");
	json_bool(&j, "f", false);
	json_end(&j);
	json_end(&j);
	json_end(&j); /* one too many: nothing */
	assert_string_equal(done(&j),
			    "{\"n\":-42,\"u\":18446744073709551615,\"t\":true,\"z\":null,\"a\":[1,{},[],null],\"o\":{\"f\":false}}");
	teardown_buf();
}

static void test_escapes(void **state)
{
	(void)state;
	check_str("plain", "{\"s\":\"plain\"}");
	check_str("", "{\"s\":\"\"}");
	check_str(NULL, "{\"s\":null}");
	check_str("a\"b\\c/d", "{\"s\":\"a\\\"b\\\\c/d\"}");
	/* every control byte, DEL too: \u escapes, never raw */
	check_str("\x01\t\n\r\x1b[31m\x7f", "{\"s\":\"\\u0001\\u0009\\u000a\\u000d\\u001b[31m\\u007f\"}");
	/* valid UTF-8 stays as it is: é, €, an emoji (4 bytes) */
	check_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5", "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5\"}");
	/* C1 controls and bidi overrides: valid, escaped (the same string) */
	check_str("\xc2\x9b" "x\xe2\x80\xae", "{\"s\":\"\\u009bx\\u202e\"}");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* a lone continuation byte, 0xff, a sequence cut short */
	check_str("a\x80" "b\xff" "c\xe2\x82", "{\"s\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\"}");
	/* overlong '/', a UTF-16 surrogate, past U+10FFFF: refused byte by byte */
	check_str("\xc0\xaf", "{\"s\":\"\\ufffd\\ufffd\"}");
	check_str("\xed\xa0\x80", "{\"s\":\"\\ufffd\\ufffd\\ufffd\"}");
	check_str("\xf4\x90\x80\x80", "{\"s\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}");
	/* a cut sequence does not swallow the quote after it */
	check_str("\xe2\"", "{\"s\":\"\\ufffd\\\"\"}");
}

static void test_keys_and_lines(void **state)
{
	struct json j;

	(void)state;
	json_object(start(&j), NULL);
	json_str(&j, "k\"\x01", "v");       /* keys are escaped the same way */
	json_lines(&j, "l", "one\n\ntwo\n");  /* no empty last line */
	json_lines(&j, "e", "");
	json_lines(&j, "n", NULL);
	json_end(&j);
	assert_string_equal(done(&j),
			    "{\"k\\\"\\u0001\":\"v\",\"l\":[\"one\",\"\",\"two\"],\"e\":[],\"n\":null}");
	teardown_buf();
}

static void test_too_deep(void **state)
{
	struct json j;
	char want[200] = "";
	size_t n = 0;

	(void)state;
	start(&j);
	for (int i = 0; i < JSON_DEPTH_MAX + 3; i++)
		json_array(&j, NULL);
	json_int(&j, NULL, 7);
	for (int i = 0; i < JSON_DEPTH_MAX + 3; i++)
		json_end(&j);
	json_end(&j); /* past the outermost: nothing */
	/* the levels past the limit are not written; their member is */
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		want[n++] = '[';
	want[n++] = '7';
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		want[n++] = ']';
	assert_string_equal(done(&j), want);
	teardown_buf();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_keys_and_lines),
		cmocka_unit_test(test_too_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
