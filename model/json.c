#define _GNU_SOURCE /* strndup */
#include "model/json.h"

#include "model/fmt.h"

#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, FILE *fp)
{
	memset(j, 0, sizeof(*j));
	j->fp = fp;
}

/* The comma before a member, and its key. */
static void member(struct json *j, const char *key)
{
	if (j->more[j->depth])
		fputc(',', j->fp);
	j->more[j->depth] = true;
	if (key && j->depth > 0 && j->close[j->depth] == '}') {
		fmt_put_json(j->fp, key);
		fputc(':', j->fp);
	}
}

static void open_(struct json *j, const char *key, char open, char close)
{
	if (j->depth >= JSON_DEPTH_MAX) {
		j->too_deep++;
		return;
	}
	member(j, key);
	fputc(open, j->fp);
	j->depth++;
	j->more[j->depth] = false;
	j->close[j->depth] = close;
}

void json_object(struct json *j, const char *key)
{
	open_(j, key, '{', '}');
}

void json_array(struct json *j, const char *key)
{
	open_(j, key, '[', ']');
}

void json_end(struct json *j)
{
	if (j->too_deep) {
		j->too_deep--;
		return;
	}
	if (j->depth == 0)
		return;
	fputc(j->close[j->depth], j->fp);
	j->depth--;
}

void json_str(struct json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		fmt_put_json(j->fp, val);
	else
		fputs("null", j->fp);
}

void json_int(struct json *j, const char *key, long long val)
{
	member(j, key);
	fprintf(j->fp, "%lld", val);
}

void json_uint(struct json *j, const char *key, unsigned long long val)
{
	member(j, key);
	fprintf(j->fp, "%llu", val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->fp);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->fp);
}

void json_lines(struct json *j, const char *key, const char *text)
{
	if (!text) {
		json_null(j, key);
		return;
	}
	json_array(j, key);
	while (*text) {
		size_t n = strcspn(text, "\n");
		char *line = strndup(text, n);

		json_str(j, NULL, line ? line : "");
		free(line);
		text += n + (text[n] == '\n');
	}
	json_end(j);
}
