/* spawn: nfpilot started again, as a process of its own, for one of its
 * internal verbs (`ruletext`, `scratch`): posix_spawn of this program's
 * path, as /proc/self/exe links to it (valgrind runs a program by the path
 * it answers there; /proc/self/exe itself would be valgrind); and another
 * program run with an argument vector, never a shell, its output read
 * back (`iptables-translate`).
 * Safe from a process with threads (the live view has a worker), where a
 * fork may call nothing but async-signal-safe functions until it execs. */
#ifndef NFP_SPAWN_H
#define NFP_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Start nfpilot with argv (argv[0] "nfpilot", argv[1] the verb, NULL at
 * the end), in and out its stdin and stdout (-1: /dev/null), its stderr
 * ours, or /dev/null when quiet. 0 with *pid, or -errno. */
int spawn_self(char *const argv[], int in, int out, bool quiet, pid_t *pid);

/* Run program (looked up in PATH) with argv (argv[0] its name, NULL at the
 * end), stdin /dev/null; wait for it. Its standard output and error, up to
 * 64 KiB each, in *out and *errout (malloc'd, NUL-terminated: free both),
 * its exit status (or 128 + signal) in *status. 0, or -errno: -ENOENT when
 * program is not installed. */
int spawn_run(const char *program, char *const argv[], char **out, char **errout,
	      int *status);

#endif
