/* guardian: the process that keeps a probation (apply/probation.h). Runs
 * in its own session with no terminal, ignores SIGHUP, holds the run
 * folder's lock for its whole life and the snapshot of every table the
 * change touched. It restores them in one batch at the deadline, on
 * "rollback", or at once when a process holding the probation ends
 * without confirming or releasing; on "confirm" it records the change in
 * the history and ends. Every end is logged to syslog and the history.
 *
 * Control messages (one per SOCK_SEQPACKET message, text):
 *   hold PID [strict] [detach]  this connection holds the probation (detach:
 *                         on record only, its end reverts nothing)
 *   release               ... no longer (a detached apply)
 *   tables                the tables already kept: "ok\nFAMILY NAME\n..."
 *   join PATH             keep the tables of snapshot file PATH not kept yet
 *   applied 0|1\nCHANGE   the change went in (1) or not (0); the guardian
 *                         keeps only the tables it really changed
 *   confirm | rollback | extend | status
 * Answers start with "ok" or "err"; on its own it sends holders
 * "deadline MS" and "end confirmed|reverted|failed N\nREASON". */
#ifndef NFP_GUARDIAN_H
#define NFP_GUARDIAN_H

/* nfpilot guardian DIR READY_FD TIMEOUT_S STRICT(0|1) USER FROM WHAT:
 * the hidden verb the applier starts. Returns the exit status. */
int guardian_main(int argc, char **argv);

#endif
