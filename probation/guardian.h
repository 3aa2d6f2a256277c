/* guardian: the process that keeps a probation (probation/probation.h). Runs
 * in its own session with no terminal (or as a transient systemd unit),
 * ignores SIGHUP, reverts on SIGTERM, holds the run folder's lock for its
 * whole life and the restore point of every table the change touched. It
 * makes the change itself, so that a change reaches the kernel only while
 * its restore point is held. It restores the tables at the deadline, on
 * "rollback", or at once when a process holding the probation ends
 * without confirming or releasing; on "confirm" it records the change in
 * the history and ends. Every end is logged to syslog and the history.
 *
 * Its start: `nfpilot guardian DIR` listens on DIR/start.sock; the applier
 * connects and sends "start TIMEOUT STRICT FORCE\nUSER\nFROM\nWHAT" with
 * the lock (SCM_RIGHTS); the guardian reads DIR/restore.snap, has the
 * kernel prove its restore (a batch without its end), and answers "ok
 * ready", "ok forced REFUSED" or "err [refused] REASON"; ready, it renames
 * its socket DIR/sock, where every later client connects (root only, both
 * ways: SO_PEERCRED).
 *
 * Control messages (one per SOCK_SEQPACKET message, text):
 *   hold PID [strict] [detach]  this connection holds the probation (detach:
 *                         on record only, its end reverts nothing)
 *   release               ... no longer (a detached apply)
 *   join PATH [force]     keep the tables of snapshot file PATH not kept yet
 *                         (proven first; a table kept as an inverse is made
 *                         whole)
 *   commit KIND PATH TEXT [INCLUDE]  make the change: KIND batch (the bytes
 *                         of a built batch), script (an nft file) or restore
 *                         (a snapshot file); TEXT a file of the change as
 *                         nft commands; the guardian keeps only the tables
 *                         it really changed
 *   confirm | rollback | extend | status
 * Answers start with "ok" or "err"; on its own it sends holders
 * "deadline MS" and "end confirmed|reverted|failed N\nREASON". */
#ifndef NFP_GUARDIAN_H
#define NFP_GUARDIAN_H

/* nfpilot guardian DIR: the hidden verb the applier starts. Returns the
 * exit status. */
int guardian_main(int argc, char **argv);

#endif
