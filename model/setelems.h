/* setelems: the elements of one set or map, as read from the kernel
 * (nft/setread.h fills it), stored compactly — one 20-byte row per
 * element, the key bytes (and a range's end, a map's data) in one arena,
 * comments and jump targets in another, counters and timeouts in arrays
 * of their own only when the set has them — and written as nft writes
 * them (`10.0.0.0/8`, `10.0.0.1-10.0.0.9`, `10.0.0.1 . 22`, `: jump x`,
 * `counter packets 1 bytes 60 timeout 1h expires 59m58s`) on demand,
 * one element at a time, so a screen formats only the rows it shows.
 * Rows are in the kernel's dump order; an index of the rows in key
 * order (a radix sort, built whole or a slice at a time so that a screen
 * keeps answering keys) lets setelems_find() answer "which element holds
 * this key" by binary search. Pure: no kernel access. */
#ifndef NFP_SETELEMS_H
#define NFP_SETELEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The set the elements are of (from NFT_MSG_GETSET). */
struct setelems_set {
	uint32_t family;
	char table[256], name[256];
	uint32_t flags;              /* NFT_SET_* */
	uint32_t key_type, key_len;  /* nft datatype (concatenations: 6 bits a field) */
	uint32_t data_type, data_len;/* maps: data_type NFT_DATA_VERDICT for vmaps */
	uint8_t field_len[16];       /* concatenations: each field's length in bytes */
	uint32_t nfields;            /* 1 unless a concatenation */
	uint64_t timeout_ms;         /* the set's default timeout, 0: none */
	bool counters;               /* elements may carry counters */
	bool timeouts;               /* elements carry timeout/expires */
	bool key_typeof;             /* declared by typeof (nft writes that, not
				      * the type): its userdata says so */
};

enum {
	SE_RANGE = 1,     /* key end follows the key (inclusive) */
	SE_CATCHALL = 2,  /* the `*` element */
	SE_JUMP = 4,      /* verdict jump/goto: data is the chain's offset in text */
	SE_COUNTER = 8,   /* it has a counter (set.counters: in counters[]) */
	SE_OBJREF = 16,   /* an object map's: data is the object's name in text */
	SE_COUNTER_FIRST = 32, /* its counter comes before its other statements */
};

struct setelem {
	uint32_t key;        /* offset in keys: key, then key end if SE_RANGE */
	uint32_t data;       /* map data offset in keys; vmap: see verdict */
	uint32_t comment;    /* offset + 1 in text, 0: none */
	int32_t verdict;     /* vmaps: NF_ACCEPT, NF_DROP, NFT_JUMP, ... */
	uint8_t flags;       /* SE_* */
};

struct setelems {
	struct setelems_set set;
	struct setelem *rows;
	size_t n, cap;
	uint8_t *keys;
	size_t keys_len, keys_cap;
	char *text;
	size_t text_len, text_cap;
	uint64_t *counters;      /* 2 a row (packets, bytes) when set.counters */
	uint64_t *times;         /* 2 a row (timeout, expires, ms) when set.timeouts */
	uint32_t *stmts;         /* a row's statements but its counter (a meter's
				  * limit, a quota) as text: offset + 1, or NULL */
	uint32_t *order;         /* rows sorted by key (setelems_find), or NULL */
	size_t norder;           /* rows order holds sorted: s->n once built */
	struct setelems_sort *sorting; /* an index being built, or NULL */
	size_t side_cap;         /* rows the side arrays have room for */
};

/* One element as the reader hands it over. */
struct setelems_elem {
	const uint8_t *key, *key_end;        /* key_end: NULL unless a range */
	const uint8_t *data;                 /* maps (not vmaps): data_len bytes */
	int32_t verdict;                     /* vmaps */
	const char *chain;                   /* jump/goto target, or NULL */
	const char *objref;                  /* object maps: the object's name */
	const char *comment;                 /* or NULL */
	const char *stmts;                   /* its statements but a counter, as nft
					      * writes them: "limit rate 10/second",
					      * "quota 1 mbytes used 12 kbytes"; or NULL */
	bool catchall;
	bool counter;                        /* packets, bytes are its counter's */
	bool counter_first;                  /* ... which comes before stmts */
	uint64_t packets, bytes;
	uint64_t timeout_ms, expires_ms;
};

/* The fields of a concatenated datatype: their lengths in len[], their
 * number returned (1 when type is no concatenation of known types). */
uint32_t setelems_field_lens(uint32_t type, uint8_t len[16]);

/* Empty s for another read of the same set: no rows, no index (the
 * memory kept for the next). */
void setelems_clear(struct setelems *s);
/* Append one element. 0 or -ENOMEM (nothing appended). */
int setelems_add(struct setelems *s, const struct setelems_elem *e);
void setelems_free(struct setelems *s);
/* Give back what growing left unused (once all rows are in). */
void setelems_trim(struct setelems *s);

/* Bytes held: rows, arenas, side arrays and index (the tests' budget:
 * after setelems_trim, 32 an IPv4 range, 64 with counters and timeouts,
 * plus 4 for the index). */
size_t setelems_bytes(const struct setelems *s);

/* Element i written as nft writes it in a listing: the key (with its
 * range or prefix), its statements in their order (limit, quota,
 * counter), timeout,
 * expires and comment. Kernel strings come out as they are: sanitise
 * before a terminal (fmt_put_safe). Returns buf. */
char *setelems_format(const struct setelems *s, size_t i, char *buf, size_t len);
/* Only the key (with its range), or only the data/verdict ("" if none),
 * or only the statements but the counter ("" if none). */
char *setelems_format_key(const struct setelems *s, size_t i, char *buf, size_t len);
char *setelems_format_data(const struct setelems *s, size_t i, char *buf, size_t len);
char *setelems_format_stmts(const struct setelems *s, size_t i, char *buf, size_t len);
/* Field `field` of the key of a concatenation (0 the first, its range
 * too: "22-25"), for a screen's columns; "" past the last. */
char *setelems_format_field(const struct setelems *s, size_t i, unsigned field, char *buf,
			    size_t len);
/* The set's type as nft writes it: "ipv4_addr . inet_service", a map's
 * "ipv4_addr : verdict" (a type it does not know: "type 42"). Returns buf. */
char *setelems_type_text(const struct setelems_set *set, char *buf, size_t len);
/* nft's way of writing a time: "1d2h3m4s5ms", "0s" for 0. */
char *setelems_format_time(uint64_t ms, char *buf, size_t len);

/* Does the key (set.key_len bytes) fall in element i (equal, or inside
 * its range field by field)? */
bool setelems_holds(const struct setelems *s, size_t i, const uint8_t *key);
/* The element that holds key: its row, or -ENOENT; -ENOMEM. The index
 * of the rows (4 bytes a row) is built first if it is not; ranges are
 * found by binary search (a range set's elements never overlap), a
 * concatenation of ranges by a walk. Call again after adding rows: the
 * index is rebuilt. */
long setelems_find(struct setelems *s, const uint8_t *key);
/* Where row i is in the index (s->order[k] == i): k, by the key's binary
 * search; -ENOENT when the index is not built. */
long setelems_position(const struct setelems *s, size_t i);
/* The index setelems_find uses (s->order: the rows in key order, the
 * catch-all last), built now if it is not: a screen's rows in key order.
 * 0 or -ENOMEM. */
int setelems_index(struct setelems *s);
/* The same a slice at a time: at most `rows` rows' work a call (each of
 * the sort's passes, a byte of the key, goes over every row twice).
 * 1: more to do, 0: built, -ENOMEM. Rows added meanwhile start it again. */
int setelems_index_step(struct setelems *s, size_t rows);
bool setelems_indexed(const struct setelems *s);

#endif
