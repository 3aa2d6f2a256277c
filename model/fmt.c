#include "fmt.h"

#include <errno.h>
#include <string.h>

char *fmt_human(char *buf, size_t size, uint64_t value)
{
	static const char units[] = "KMGTPE";
	double v = (double)value;
	int u = -1;

	if (value < 1000) {
		snprintf(buf, size, "%llu", (unsigned long long)value);
		return buf;
	}
	while (v >= 999.95 && u < (int)sizeof(units) - 2) {
		v /= 1000.0;
		u++;
	}
	/* one decimal below 10 (1.2K), none above (34M), as the eye scans */
	if (v < 9.95)
		snprintf(buf, size, "%.1f%c", v, units[u]);
	else
		snprintf(buf, size, "%.0f%c", v, units[u]);
	return buf;
}

/* Length of the valid UTF-8 sequence at s, or 0 if invalid (overlongs,
 * surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F) act as escapes on some terminals */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return n;
}

/* One step of sanitising: how many input bytes to consume at s, and what to
 * emit (either those bytes, or the single replacement in *repl). */
static size_t safe_step(const unsigned char *s, char *repl)
{
	size_t n;

	if (*s == '\t') {
		*repl = ' ';
		return 1;
	}
	if (*s < 0x20 || *s == 0x7f) {
		*repl = '?';
		return 1;
	}
	n = utf8_len(s);
	if (n == 0) {
		*repl = '?';
		return 1;
	}
	*repl = 0;
	return n;
}

char *fmt_sanitize(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (size == 0)
		return dst;
	while (*s) {
		char repl;
		size_t n = safe_step(s, &repl);
		size_t out = repl ? 1 : n;

		if (o + out >= size)
			break;
		if (repl)
			dst[o] = repl;
		else
			memcpy(dst + o, s, n);
		o += out;
		s += n;
	}
	dst[o] = 0;
	return dst;
}

void fmt_put_safe(FILE *fp, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;

	while (*s) {
		char repl;
		size_t n = safe_step(s, &repl);

		if (repl)
			fputc(repl, fp);
		else
			fwrite(s, 1, n, fp);
		s += n;
	}
}

void fmt_put_json(FILE *fp, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;

	fputc('"', fp);
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\') {
			fputc('\\', fp);
			fputc(*s++, fp);
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(fp, "\\u%04x", *s++);
			continue;
		}
		n = utf8_len(s);
		if (n == 0) {
			/* a C1 control is valid UTF-8 but rejected by utf8_len
			 * for the terminal's sake: in JSON escape it */
			if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
				fprintf(fp, "\\u%04x", s[1]);
				s += 2;
			} else {
				fputs("\\ufffd", fp);
				s++;
			}
			continue;
		}
		fwrite(s, 1, n, fp);
		s += n;
	}
	fputc('"', fp);
}

int fmt_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -EINVAL;
}

const char *fmt_name_at(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : NULL;
}

char *fmt_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}
