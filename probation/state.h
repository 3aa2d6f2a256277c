/* state: where nfpilot keeps what outlives one process — the probation
 * guardian's state under /run/nfpilot (gone at reboot, as the rules it
 * guards) and the history under /var/lib/nfpilot — one subfolder per
 * network namespace, since each namespace has its own ruleset:
 * "host" for the machine's own, "netns-NAME" for one `ip netns` named,
 * "ns-INODE" for any other. NFPILOT_RUN_DIR and NFPILOT_LIB_DIR move the
 * two roots (the tests use them). */
#ifndef NFP_STATE_H
#define NFP_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* The namespace's key, as above. With inode, a named namespace's key
 * also carries its inode ("netns-NAME.INODE"): a namespace deleted and
 * made again under the same name is another ruleset, and must not find
 * the old one's guardian. */
void state_ns_key(char *buf, size_t len, bool inode);

/* The namespace's name as an admin writes it: NAME for one `ip netns`
 * named, ns-INODE for another; false (buf "") for the machine's own. */
bool state_ns_name(char *buf, size_t len);

/* The run / history folder of this namespace, created (mode 0700) if
 * missing. Every folder on the way is lstat'ed (util/safefile.h,
 * safefile_mkdirs): the root folder and the namespace's must be root's,
 * real folders (no link), and are tightened to 0700; the ones above
 * writable by nobody else (sticky /tmp aside). 0, or -EPERM with err
 * saying which folder is refused and why, or -errno. */
int state_run_dir(char *buf, size_t len, char *err, size_t errlen);
int state_lib_dir(char *buf, size_t len, char *err, size_t errlen);

/* The run folder's path, without making it (for a look only). */
void state_run_path(char *buf, size_t len);

struct sockaddr_un;
/* The address of socket `name` in dir. 0, or -ENAMETOOLONG. */
int state_socket_addr(const char *dir, const char *name, struct sockaddr_un *sa);

/* mkdir -p with mode, every folder checked as safefile_mkdirs does with
 * path all nfpilot's own. 0 or -errno. */
int state_mkdirs(const char *path, unsigned mode);

#endif
