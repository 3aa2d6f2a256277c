/* snaptest: drives nft/snapshot.c for the integration tests.
 *   snaptest NETNS [-g] [-t FAMILY TABLE]... -- COMMAND [ARG...]
 * Enters NETNS, snapshots the tables named (all tables without -t), runs
 * COMMAND in the namespace, then restores the snapshot in one batch (with
 * -g: guarded by the snapshot's generation, which COMMAND has moved on, so
 * the kernel must refuse it). Exit 0 when the restore did what was asked. */
#define _GNU_SOURCE
#include "nft/snapshot.h"
#include "model/ruleset.h"

#include "nft/nl.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct snap_id ids[32];
	struct snapshot snap;
	size_t nids = 0;
	bool guard = false;
	char err[512];
	struct nl nl;
	int i = 2, status, ret;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: snaptest NETNS [-g] [-t FAMILY TABLE]... -- CMD...\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-g") == 0) {
			guard = true;
		} else if (strcmp(argv[i], "-t") == 0 && i + 2 < argc && nids < 32 &&
			   ruleset_family_parse(argv[i + 1], &ids[nids].family) == 0) {
			ids[nids++].name = argv[i + 2];
			i += 2;
		} else {
			fprintf(stderr, "snaptest: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i + 1 >= argc)
		return 2;
	if (nl_open(&nl, err, sizeof(err)) ||
	    snapshot_take(&nl, nids ? ids : NULL, nids, false, &snap, err, sizeof(err))) {
		fprintf(stderr, "snaptest: %s\n", err);
		return 1;
	}
	printf("snapshot of %zu tables at generation %u\n", snap.ntables, snap.genid);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "snaptest: the command failed; restoring anyway\n");
		guard = false;
	}
	ret = snapshot_restore(&nl, &snap, guard ? snap.genid : 0, 0, NULL, err, sizeof(err));
	if (ret)
		printf("restore refused: %s\n", err);
	else
		printf("restored\n");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ret = -1;
	snapshot_free(&snap);
	nl_close(&nl);
	return ret == -1 ? 1 : (ret != 0) == guard ? 0 : 1;
}
