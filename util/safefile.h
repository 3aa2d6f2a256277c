/* safefile: how nfpilot, running as root, writes a file and makes a folder
 * without handing a local user a root-owned file. Every file nfpilot
 * writes goes through safefile_write: a fresh temporary file in the
 * target's folder (mkostemp: O_EXCL, never through a link), written,
 * fsync'ed, given its mode, checked if the caller wants, then renamed over
 * the target (the folder fsync'ed too) — the target is never half
 * written, and never written through a link planted in its place.
 *
 * What is trusted: a folder only root (or nfpilot's own user) owns and
 * nobody else can write; an ancestor further up may be world-writable
 * when it is sticky (/tmp). Refused, with a message saying what to fix:
 * a target that is a symbolic link or not a regular file, a target or a
 * folder owned by another user or writable by one (group write counts
 * unless the group is root), a symbolic link among the folders nfpilot
 * makes (safefile_mkdirs), and a mode with set-id, sticky, group-write or
 * other-write bits. */
#ifndef NFP_SAFEFILE_H
#define NFP_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The most a written file may be: rwxr-xr-x. Set-id and sticky bits, and
 * write for anyone but the owner, are never given. */
#define SAFEFILE_MODE_MAX 0755

struct safefile_opts {
	mode_t mode;            /* the new file's mode, within SAFEFILE_MODE_MAX */
	bool backup;            /* keep the file it replaces as PATH.bak (a copy,
				 * written the same safe way, with this mode) */
	/* called on the written temporary file (its path) before it replaces
	 * the target; nonzero: nothing is replaced, that is the error */
	int (*check)(const char *tmp, void *arg, char *err, size_t errlen);
	void *arg;
};

/* Write len bytes of data to path as above. 0, or -errno with err filled:
 * the real errno (ENOSPC is "No space left on device"), -EPERM for a
 * target or folder refused as above. The target is untouched on error. */
int safefile_write(const char *path, const void *data, size_t len,
		   const struct safefile_opts *o, char *err, size_t errlen);

/* The same, the content written by fn to fp (stdio; a big snapshot need
 * not be in memory twice): fn returns 0 or -errno (err may be filled);
 * a write error is the write's own errno. */
int safefile_write_stream(const char *path, int (*fn)(FILE *fp, void *arg), void *arg,
			  const struct safefile_opts *o, char *err, size_t errlen);

/* May nfpilot write into folder dir (which must exist)? Every folder from
 * / down to it, as above: along the path as given (a link there is as
 * trusted as the folder it is in) and along the real path the links lead
 * to. 0 or -EPERM/-errno with err filled. */
int safefile_check_dir(const char *dir, char *err, size_t errlen);

/* mkdir -p path (absolute) for nfpilot's own state: each folder from /
 * down is lstat'ed, never followed if a symbolic link, and must be owned
 * by root (or nfpilot's user). The folders from `ours` down (a prefix of
 * path: /run/nfpilot) and any it makes are nfpilot's: made with mode and
 * tightened to it if looser; those above must be writable by nobody
 * else (sticky ones aside). 0 or -errno with err filled (-EPERM: a folder
 * refused, and why). */
int safefile_mkdirs(const char *path, const char *ours, mode_t mode, char *err,
		    size_t errlen);

#endif
