#include "model/fmt.h"

#include <errno.h>
#include <langinfo.h>
#include <stdbool.h>
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

/* Length of the valid UTF-8 sequence at s, its code point in *cpp, or 0
 * if invalid (overlongs, surrogates and code points above U+10FFFF are
 * invalid). */
static size_t utf8_decode(const unsigned char *s, unsigned *cpp)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80) {
		*cpp = c;
		return 1;
	}
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
	*cpp = cp;
	return n;
}

/* Characters that change how the text around them is shown: C1 controls
 * (U+0080..U+009F act as escapes on some terminals) and the bidi
 * controls — marks, embeddings, overrides, isolates — which make a
 * terminal draw "txt.exe" of "exe.txt" (Trojan Source). */
static bool cp_unsafe(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The terminal's character set is the LC_CTYPE locale's (main() sets it
 * from the environment): UTF-8 text is kept only when that is UTF-8. In
 * any other locale every byte >= 0x80 is replaced — 0x9B alone is CSI on
 * an 8-bit terminal, and a multibyte character means something else. */
static bool locale_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* In a non-UTF-8 locale, the typographic characters nfpilot's own
 * messages use, in ASCII; any other character is '?' a byte. */
static const char *ascii_of(unsigned cp)
{
	switch (cp) {
	case 0x2013: case 0x2014: return "-";    /* en and em dash */
	case 0x2018: case 0x2019: return "'";
	case 0x201c: case 0x201d: return "\"";
	case 0x2026: return "...";
	case 0x2192: return "->";
	case 0x00a0: return " ";
	default: return NULL;
	}
}

/* One step of sanitising: how many input bytes to consume at s, and what to
 * emit (those bytes when *repl is NULL, else the text *repl). */
static size_t safe_step(const unsigned char *s, bool utf8, const char **repl)
{
	unsigned cp;
	size_t n;

	*repl = NULL;
	if (*s == '\t') {
		*repl = " ";
		return 1;
	}
	if (*s < 0x20 || *s == 0x7f) {
		*repl = "?";
		return 1;
	}
	if (*s < 0x80)
		return 1;
	n = utf8_decode(s, &cp);
	if (n && !utf8 && !cp_unsafe(cp) && (*repl = ascii_of(cp)))
		return n;
	if (n == 0 || !utf8 || cp_unsafe(cp)) {
		/* one '?' a byte, as the live view shows what it cannot decode */
		*repl = "?";
		return 1;
	}
	return n;
}

char *fmt_sanitize(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	bool utf8 = locale_utf8();
	size_t o = 0;

	if (size == 0)
		return dst;
	while (*s) {
		const char *repl;
		size_t n = safe_step(s, utf8, &repl);
		size_t out = repl ? strlen(repl) : n;

		if (o + out >= size)
			break;
		memcpy(dst + o, repl ? repl : (const char *)s, out);
		o += out;
		s += n;
	}
	dst[o] = 0;
	return dst;
}

void fmt_put_safe(FILE *fp, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	bool utf8 = locale_utf8();

	while (*s) {
		const char *repl;
		size_t n = safe_step(s, utf8, &repl);

		if (repl)
			fputs(repl, fp);
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
		unsigned cp;
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
		n = utf8_decode(s, &cp);
		if (n == 0) {
			fputs("\\ufffd", fp);
			s++;
			continue;
		}
		if (cp_unsafe(cp)) {
			/* valid, but not for a terminal: escaped, the same string */
			fprintf(fp, "\\u%04x", cp);
			s += n;
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
