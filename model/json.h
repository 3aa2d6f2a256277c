/* json: a streaming JSON writer on a FILE*: objects and arrays nested up
 * to JSON_DEPTH_MAX, the commas between members written for the caller,
 * every string through fmt_put_json (model/fmt.h: UTF-8, controls and
 * bidi escaped, invalid bytes as U+FFFD). Compact: one line, no spaces.
 * A member's key is given inside an object and NULL inside an array (and
 * for the outermost value). */
#ifndef NFP_JSON_H
#define NFP_JSON_H

#include <stdbool.h>
#include <stdio.h>

/* The format version of every JSON answer ("nfpilot": 1): members are only
 * added; renaming or removing one raises it (docs/nfpilot.8). */
#define NFP_JSON_VERSION 1

#define JSON_DEPTH_MAX 16

struct json {
	FILE *fp;
	int depth;
	bool more[JSON_DEPTH_MAX + 1]; /* a member already written at this depth */
	char close[JSON_DEPTH_MAX + 1]; /* '}' or ']' */
	int too_deep;           /* opened past JSON_DEPTH_MAX, not written */
};

void json_init(struct json *j, FILE *fp);

/* Open an object or an array; json_end closes the innermost one. One
 * deeper than JSON_DEPTH_MAX is not written (its members go to the one
 * around it), and neither is its end. */
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
void json_end(struct json *j);

/* A member: a string (NULL writes null), a number, true/false, null. */
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, long long val);
void json_uint(struct json *j, const char *key, unsigned long long val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);

/* text as an array of its lines (without their newlines; no empty last
 * line); NULL writes null. */
void json_lines(struct json *j, const char *key, const char *text);

#endif
