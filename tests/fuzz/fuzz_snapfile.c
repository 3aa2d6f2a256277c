/* fuzz_snapfile: the snapshot reader (probation/snapfile.h) under libFuzzer,
 * built by `make fuzz` and run bounded in time by
 * tests/integration/fuzz_snapfile.sh. The input is read as a snapshot
 * file; what is read is digested, written and read again. A failure is
 * anything libFuzzer and the sanitizers catch — a crash, an exit (libnftnl
 * exits on bytes it does not expect), a leak, undefined behaviour — and
 * also: an error other than "damaged: ..." for bytes in memory, libnftnl
 * refusing a message the check let through (a gap in nft/nlcheck.c),
 * and a snapshot that was read but does not read back once written. */
#include "probation/snapfile.h"
#include "nft/snapshot.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_snapfile: %s: %s\n", what, err);
	abort();
}

static int read_bytes(const void *data, size_t size, struct snapshot *s, char *err,
		      size_t errlen)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	int ret;

	if (!fp) {
		memset(s, 0, sizeof(*s));
		snprintf(err, errlen, "damaged: (no input)");
		return -EINVAL;
	}
	ret = snapfile_read(fp, s, err, errlen);
	fclose(fp);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot s, again;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *out;
	int ret = read_bytes(data, size, &s, err, sizeof(err));

	if (ret) {
		if (ret != -EINVAL || strncmp(err, "damaged: ", 9) != 0)
			fail("not refused as damaged", err);
		if (strstr(err, "libnftnl refused it"))
			fail("a gap in the check", err);
		return 0;
	}
	for (size_t i = 0; i < s.ntables; i++)
		(void)snapfile_digest(&s.tables[i]);
	for (size_t d = 0; d < s.ntables; d++) {
		if (!s.tables[d].delta)
			continue;
		for (size_t w = 0; w < s.ntables; w++) {
			struct snapshot one = { .tables = &s.tables[w], .ntables = 1 }, copy;

			if (s.tables[w].delta || s.tables[w].absent || snapfile_copy(&one, &copy))
				continue;
			(void)snapshot_undo(&copy.tables[0], &s.tables[d]);
			snapshot_free(&copy);
		}
	}
	out = open_memstream(&buf, &len);
	if (!out)
		abort();
	ret = snapfile_write(&s, out);
	fclose(out);
	if (ret)
		fail("written", strerror(-ret));
	if (read_bytes(buf, len, &again, err, sizeof(err)))
		fail("read, written, and not read back", err);
	snapshot_free(&again);
	snapshot_free(&s);
	free(buf);
	return 0;
}
