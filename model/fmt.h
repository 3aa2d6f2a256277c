/* fmt: pure text helpers shared by every output path — human-readable
 * numbers, terminal-safe strings and JSON string escaping. No I/O but the
 * FILE* the caller hands in; no kernel access. */
#ifndef NFP_FMT_H
#define NFP_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "999", "1.2K", "34M", "5.6G" ... (powers of 1000, like iptables -L -v).
 * Always NUL-terminated; returns buf. size >= 8 is enough for any value. */
char *fmt_human(char *buf, size_t size, uint64_t value);

/* Copy src into dst making it safe for a terminal: C0/C1 controls, DEL,
 * the bidi controls (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069)
 * and invalid UTF-8 become '?' (tab becomes a space). Other valid UTF-8
 * is kept when the LC_CTYPE locale is UTF-8 (nl_langinfo(CODESET); main()
 * sets LC_CTYPE from the environment); in any other locale every byte
 * >= 0x80 is replaced: the dashes, quotes, ellipsis and arrow of
 * nfpilot's own messages by ASCII ("-", "...", "->"), anything else by
 * '?' a byte. Truncates at a character
 * boundary; returns dst. */
char *fmt_sanitize(char *dst, size_t size, const char *src);

/* Write src to fp sanitised as above, without a length limit. */
void fmt_put_safe(FILE *fp, const char *src);

/* Write src to fp as a JSON string literal, quotes included, UTF-8 in any
 * locale. Invalid UTF-8 bytes are written as U+FFFD so the output always
 * parses; controls (C0, C1, bidi) as \uXXXX escapes of themselves. */
void fmt_put_json(FILE *fp, const char *src);

/* Cut leading and trailing white space (in place); returns the start. */
char *fmt_trim(char *s);

/* Name tables: the index of name in names[0..n), or -EINVAL; the name at
 * index i, or NULL when i is out of range. */
int fmt_name_index(const char *const *names, int n, const char *name);
const char *fmt_name_at(const char *const *names, int n, int i);

#endif
