/* spawn: nfpilot started again, as a process of its own, for one of its
 * internal verbs (`ruletext`, `scratch`), or another program run to its end
 * (iptables-nft's): posix_spawn of this program's
 * path, as /proc/self/exe links to it (valgrind runs a program by the path
 * it answers there; /proc/self/exe itself would be valgrind).
 * Safe from a process with threads (the live view has a worker), where a
 * fork may call nothing but async-signal-safe functions until it execs. */
#ifndef NFP_SPAWN_H
#define NFP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Start nfpilot with argv (argv[0] "nfpilot", argv[1] the verb, NULL at
 * the end), in and out its stdin and stdout (-1: /dev/null), its stderr
 * ours, or /dev/null when quiet. 0 with *pid, or -errno. */
int spawn_self(char *const argv[], int in, int out, bool quiet, pid_t *pid);

/* Run another program (argv[0], looked up in PATH; no shell) to its end:
 * input (inlen bytes, or none) on its stdin, its stdout and stderr whole
 * into *out and *errout (malloc'd, NUL-ended). 0 with *status as waitpid
 * gives it, or -errno (-ENOENT: no such program). */
int spawn_run(char *const argv[], const char *input, size_t inlen, char **out,
	      char **errout, int *status);

#endif
