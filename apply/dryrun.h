/* dryrun: what an nft script would change, found out on a copy of every
 * live table in a scratch namespace (apply/scratch.h): the script runs
 * there and each table is compared before and after with the digest the
 * guardian uses (probation/snapfile.h), so "nothing would change" means
 * what "nothing changed" means when the script is applied for real. */
#ifndef NFP_DRYRUN_H
#define NFP_DRYRUN_H

#include "nft/nl.h"

#include <stddef.h>

/* Run script path (nft -f; includes looked up in include, or NULL) on a
 * copy of the live tables. *changed (malloc'd) gets the tables it would
 * change, as the guardian names them: "inet web, ip nat (new)" (a table
 * it would delete: "(deleted)"), "" for none. 0, or -errno with err: the
 * copy cannot be made there (a table naming a device the scratch
 * namespace lacks), or the script fails on it. */
int dryrun_script(struct nl *nl, const char *path, const char *include, char **changed,
		  char *err, size_t errlen);

#endif
