#include "probation/history.h"

#include "util/safefile.h"
#include "probation/snapfile.h"
#include "model/ruleset.h"
#include "probation/state.h"
#include "util/grow.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* The history folder: under the namespace's lib folder (probation/state.h,
 * checked there), itself root's, mode 0700, never a link. */
static int root(char *buf, size_t len, char *err, size_t errlen)
{
	char lib[3900];
	int ret = state_lib_dir(lib, sizeof(lib), err, errlen);

	if (ret)
		return ret;
	snprintf(buf, len, "%s/history", lib);
	return safefile_mkdirs(buf, buf, 0700, err, errlen);
}

/* While a guardian writes an entry's tables (after it has answered),
 * the entry holds this file with its pid. */
#define WRITING ".writing"

static int entry_path(int n, const char *name, char *buf, size_t len, char *err,
		      size_t errlen)
{
	char dir[4096];
	int ret = root(dir, sizeof(dir), err, errlen);

	if (!ret)
		snprintf(buf, len, "%s/%d/%s", dir, n, name);
	return ret;
}

/* Wait while another process that lives writes entry n's tables: its
 * answer came before them, a reader right after it must not find them
 * missing. A writer that died left the entry as it is. */
static void wait_written(int n)
{
	char path[4200], err[256], buf[32];

	if (entry_path(n, WRITING, path, sizeof(path), err, sizeof(err)))
		return;
	for (;;) {
		FILE *fp = fopen(path, "re");
		long pid = 0;

		if (!fp)
			return;
		if (fgets(buf, sizeof(buf), fp))
			pid = strtol(buf, NULL, 10);
		fclose(fp);
		if (pid <= 0 || pid == (long)getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			return;
		usleep(20000);
	}
}

int history_file(int n, const char *name, char *buf, size_t len, char *err, size_t errlen)
{
	int ret = entry_path(n, name, buf, len, err, errlen);

	if (!ret)
		wait_written(n);
	return ret;
}

int history_load(int n, const char *name, struct snapshot *s, char *err, size_t errlen)
{
	char path[4200];
	int ret = history_file(n, name, path, sizeof(path), err, errlen);

	memset(s, 0, sizeof(*s));
	if (ret)
		return ret;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		snprintf(err, errlen, "change %d: the tables %s it were not recorded (a revert "
			 "that came before they had been read, or a guardian that ended first: "
			 "see syslog)", n, strncmp(name, "before", 6) == 0 ? "before" : "after");
		return -ENOENT;
	}
	return snapfile_load(path, s, err, errlen);
}

/* The numbers in use, sorted. */
static int numbers(const char *dir, int **out, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int *arr = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);

		if (*end || v <= 0 || v > 1000000000)
			continue;
		if (grow(&arr, &cap, n + 1, sizeof(*arr), 64)) {
			free(arr);
			closedir(d);
			return -ENOMEM;
		}
		arr[n++] = (int)v;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++) /* few hundred at most: insertion sort */
		for (size_t j = i; j > 0 && arr[j - 1] > arr[j]; j--) {
			int t = arr[j];

			arr[j] = arr[j - 1];
			arr[j - 1] = t;
		}
	*out = arr;
	*count = n;
	return 0;
}

/* One line value: no newline may end up in the meta file. */
static void put_kv(FILE *fp, const char *k, const char *v)
{
	fprintf(fp, "%s: ", k);
	for (; *v; v++)
		fputc(*v == '\n' || *v == '\r' ? ' ' : *v, fp);
	fputc('\n', fp);
}

/* Every file of the history: written whole through a fresh temporary
 * file, 0600, never through a link (util/safefile.h); the real errno. */
static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
	static const struct safefile_opts o = { .mode = 0600 };

	return safefile_write(path, text ? text : "", text ? strlen(text) : 0, &o, err, errlen);
}

int history_write(int n, const char *name, const char *text, char *err, size_t errlen)
{
	char path[4200];
	int ret;

	if (!*name || strchr(name, '/') || name[0] == '.') {
		snprintf(err, errlen, "'%s': not a history file name", name);
		return -EINVAL;
	}
	ret = entry_path(n, name, path, sizeof(path), err, errlen);
	return ret ? ret : write_text(path, text, err, errlen);
}

int history_add_handles(struct nl *nl, int n, const struct snapshot *restored, uint32_t genid,
			char *err, size_t errlen)
{
	struct snap_id *ids = calloc(restored->ntables + 1, sizeof(*ids));
	struct snapshot now;
	size_t k = 0;
	int ret;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < restored->ntables; i++)
		if (!restored->tables[i].absent)
			ids[k++] = (struct snap_id){ restored->tables[i].family,
						     restored->tables[i].name };
	ret = k ? snapshot_take(nl, ids, k, false, &now, err, errlen) : 0;
	free(ids);
	if (k && !ret && genid && now.genid != genid) {
		snapshot_free(&now);
		snprintf(err, errlen, "the ruleset changed since the revert (generation %u, now %u)",
			 genid, now.genid);
		return -ERESTART;
	}
	if (k && !ret) {
		char *map = snapshot_handle_map(restored, &now);

		ret = !map ? -ENOMEM : *map ? history_write(n, HISTORY_HANDLES, map, err, errlen) : 0;
		free(map);
		snapshot_free(&now);
	}
	return ret;
}

int history_add(const struct history_entry *e, const char *change, int *n, char *err,
		size_t errlen)
{
	char dir[4000], entry[4096], path[4200], pid[32], *meta = NULL;
	int *nums = NULL, ret, next;
	size_t count = 0, metalen = 0;
	FILE *fp;

	ret = root(dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	ret = numbers(dir, &nums, &count);
	if (ret) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	next = count ? nums[count - 1] + 1 : 1;
	free(nums);
	/* two guardians may end at once (one writes its tables while the
	 * next probation ends): mkdir takes the number */
	for (;; next++) {
		snprintf(entry, sizeof(entry), "%s/%d", dir, next);
		if (mkdir(entry, 0700) == 0)
			break;
		if (errno != EEXIST) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", entry, strerror(errno));
			return ret;
		}
	}
	*n = next;
	snprintf(path, sizeof(path), "%s/%s", entry, WRITING);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	ret = write_text(path, pid, err, errlen);
	if (ret)
		return ret;
	fp = open_memstream(&meta, &metalen);
	if (!fp)
		return -ENOMEM;
	fprintf(fp, "when: %lld\n", (long long)e->when);
	put_kv(fp, "user", e->user);
	put_kv(fp, "from", e->from);
	put_kv(fp, "outcome", e->outcome);
	put_kv(fp, "reason", e->reason);
	put_kv(fp, "tables", e->tables);
	put_kv(fp, "what", e->what);
	if (fclose(fp) || !meta) {
		free(meta);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/meta", entry);
	ret = write_text(path, meta, err, errlen);
	free(meta);
	snprintf(path, sizeof(path), "%s/change.nft", entry);
	if (!ret)
		ret = write_text(path, change, err, errlen);
	return ret;
}

int history_add_tables(int n, const struct snapshot *before, const struct snapshot *after,
		       char *err, size_t errlen)
{
	char path[4200], scratch[256];
	int ret = 0;

	err[0] = 0;
	if (before && !(ret = entry_path(n, "before.snap", path, sizeof(path), err, errlen)))
		ret = snapfile_save(before, path, err, errlen);
	if (!ret && after && !(ret = entry_path(n, "after.snap", path, sizeof(path), err, errlen)))
		ret = snapfile_save(after, path, err, errlen);
	if (ret && !err[0])
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	/* done, or as done as it will be: readers go on */
	if (!entry_path(n, WRITING, path, sizeof(path), scratch, sizeof(scratch)))
		unlink(path);
	return ret;
}

static void read_meta(const char *path, struct history_entry *e)
{
	FILE *fp = fopen(path, "re");
	char line[1024];

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		char *v = strstr(line, ": ");

		if (!v)
			continue;
		*v = 0;
		v += 2;
		v[strcspn(v, "\n")] = 0;
		if (strcmp(line, "when") == 0)
			e->when = (time_t)strtoll(v, NULL, 10);
#define FIELD(f) else if (strcmp(line, #f) == 0) snprintf(e->f, sizeof(e->f), "%s", v)
		FIELD(user);
		FIELD(from);
		FIELD(outcome);
		FIELD(reason);
		FIELD(tables);
		FIELD(what);
#undef FIELD
	}
	fclose(fp);
}

static char *read_all(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!fp)
		return NULL;
	FILE *mem = open_memstream(&buf, &len);
	char chunk[4096];
	size_t got;

	while (mem && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		fwrite(chunk, 1, got, mem);
	if (mem)
		fclose(mem);
	fclose(fp);
	return buf;
}

int history_lookup(int n, struct history_entry *e, char **change, char *err, size_t errlen)
{
	char dir[4000], path[4200];
	struct stat st;
	int ret = root(dir, sizeof(dir), err, errlen);

	if (ret)
		return ret;
	memset(e, 0, sizeof(*e));
	snprintf(path, sizeof(path), "%s/%d/meta", dir, n);
	if (n <= 0 || stat(path, &st) < 0) {
		snprintf(err, errlen, "no change %d in the history (nfpilot history lists them)",
			 n);
		return -ENOENT;
	}
	e->n = n;
	read_meta(path, e);
	if (change) {
		snprintf(path, sizeof(path), "%s/%d/change.nft", dir, n);
		*change = read_all(path);
	}
	return 0;
}

int history_entries(struct history_entry **out, size_t *count, char *err, size_t errlen)
{
	char dir[4096];
	int *nums = NULL;
	size_t n = 0;
	int ret = root(dir, sizeof(dir), err, errlen);

	*out = NULL;
	*count = 0;
	if (ret)
		return ret;
	ret = numbers(dir, &nums, &n);
	if (ret) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	*out = calloc(n + 1, sizeof(**out));
	if (!*out) {
		free(nums);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		history_lookup(nums[i], &(*out)[(*count)++], NULL, err, errlen);
	free(nums);
	return 0;
}

char *history_read(int n, const char *name)
{
	char path[4200], err[256];

	if (history_file(n, name, path, sizeof(path), err, sizeof(err)))
		return NULL;
	return read_all(path);
}

uint64_t history_renamed(const char *map, uint32_t family, const char *table,
			 const char *chain, uint64_t handle)
{
	const char *fam = ruleset_family_name(family);
	char want[700];
	size_t wl;

	if (!map || !fam)
		return 0;
	wl = (size_t)snprintf(want, sizeof(want), "%s\t%s\t%s\t%llu\t", fam, table, chain,
			      (unsigned long long)handle);
	for (const char *l = map; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, want, wl) == 0)
			return strtoull(l + wl, NULL, 10);
	return 0;
}
