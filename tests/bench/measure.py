#!/usr/bin/env python3
"""Timing and reporting for tests/bench/run.sh.

  measure.py row --out FILE --label L --goal G --reps N --ns NS
                 --a CMD [--pa REGEX] [--b CMD] [--pb REGEX] [--expect N]
      Run CMD A (nfpilot) and CMD B (the reference) alternately inside network
      namespace NS, N times each (order A,B then B,A, ...), stdout to
      /dev/null; append one result line (JSON) to FILE.  Before timing, each
      command runs once with its output captured: REGEX must match exactly
      --expect times in it (a sanity check of what was listed), else the row
      says BAD.  G is the goal for median(A)/median(B) (e.g. 1.2) or "info".
  measure.py table FILE [--md MDFILE]
      Print the plain-text table; with --md also write it as markdown.

Both commands are started by fork+exec from this process after setns() into
NS (no `ip netns exec` overhead on either side), each under /usr/bin/time -f %M
for its peak RSS (the same small wrapper on both sides; ru_maxrss of our own
fork would count this Python process). Without /usr/bin/time, RSS shows "-".
"""
import argparse
import ctypes
import json
import os
import re
import shlex
import statistics
import sys
import time

CLONE_NEWNET = 0x40000000
GNU_TIME = "/usr/bin/time"
HAVE_TIME = os.access(GNU_TIME, os.X_OK)
RSS_FILE = "/tmp/nfpbench-rss.%d" % os.getpid()


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns %s: %s" % (name, os.strerror(e)))
    os.close(fd)


def run_once(argv, capture=False):
    """Return (seconds, peak RSS KiB, exit status, output or None)."""
    r = w = None
    if HAVE_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", RSS_FILE] + argv
    if capture:
        r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            if capture:
                os.close(r)
                os.dup2(w, 1)
            else:
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    out = None
    if capture:
        os.close(w)
        chunks = []
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        out = b"".join(chunks).decode("utf-8", "replace")
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    rss = None
    if HAVE_TIME:
        try:
            with open(RSS_FILE) as f:
                rss = int(f.read().split()[-1])
            os.unlink(RSS_FILE)
        except (OSError, ValueError, IndexError):
            pass
    return dt, rss, os.waitstatus_to_exitcode(status), out


def check(argv, pattern, expect):
    _, _, rc, out = run_once(argv, capture=True)
    if rc != 0:
        return "exit %d" % rc
    if pattern is None or expect is None:
        return "ok"
    n = len(re.findall(pattern, out, re.M))
    return "ok" if n == expect else "%d/%d" % (n, expect)


def cmd_row(a):
    enter_netns(a.ns)
    cmds = [("A", shlex.split(a.a), a.pa)]
    if a.b:
        cmds.append(("B", shlex.split(a.b), a.pb))
    res = {"label": a.label, "goal": a.goal, "reps": a.reps}
    for key, argv, pat in cmds:
        res["check" + key] = check(argv, pat, a.expect)
        res["t" + key] = []
        res["rss" + key] = 0
    for i in range(a.reps):
        order = cmds if i % 2 == 0 else list(reversed(cmds))
        for key, argv, _ in order:
            dt, rss, rc, _ = run_once(argv)
            if rc != 0:
                res["check" + key] = "exit %d" % rc
            res["t" + key].append(dt)
            if rss is None or res["rss" + key] is None:
                res["rss" + key] = None
            else:
                res["rss" + key] = max(res["rss" + key], rss)
    res["cmdA"] = a.a.replace(a.ns, "NS")
    res["cmdB"] = (a.b or "").replace(a.ns, "NS")
    with open(a.out, "a") as f:
        f.write(json.dumps(res) + "\n")
    print("  %-40s done (%s)" % (a.label, " ".join(
        "%s %.3fs" % (k, statistics.median(res["t" + k])) for k, _, _ in cmds)),
        file=sys.stderr)


def mb(kib):
    return "-" if kib is None else "%.1f" % (kib / 1024.0)


def fmt_rows(path):
    head = ["entry", "nfpilot s", "reference s", "ratio", "goal", "result",
            "nfpilot RSS MB", "ref RSS MB", "output check"]
    rows = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            ta = statistics.median(r["tA"])
            tb = statistics.median(r["tB"]) if "tB" in r else None
            ratio = ta / tb if tb else None
            checks = [r["checkA"]] + ([r["checkB"]] if "checkB" in r else [])
            bad = any(c != "ok" for c in checks)
            if bad:
                verdict = "BAD"
            elif r["goal"] == "info" or ratio is None:
                verdict = "info"
            else:
                verdict = "PASS" if ratio <= float(r["goal"]) else "MISS"
            rows.append([
                r["label"],
                "%.3f" % ta,
                "%.3f" % tb if tb else "-",
                "%.2f" % ratio if ratio is not None else "-",
                "<= %s" % r["goal"] if r["goal"] != "info" else "-",
                verdict,
                mb(r.get("rssA")),
                mb(r.get("rssB")),
                "ok" if not bad else "/".join(checks),
            ])
    cmds = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            cmds.append((r["label"], r["cmdA"], r["cmdB"], r["reps"]))
    return head, rows, cmds


def cmd_table(a):
    head, rows, cmds = fmt_rows(a.file)
    bad = any(r[5] == "BAD" for r in rows)
    widths = [max(len(x[i]) for x in [head] + rows) for i in range(len(head))]
    line = lambda cells: "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    if a.md:
        with open(a.md, "w") as f:
            f.write("| " + " | ".join(head) + " |\n")
            f.write("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|\n")
            for r in rows:
                f.write("| " + " | ".join(r) + " |\n")
            f.write("\nCommands (NS is the fixture's namespace; medians of the given repetitions):\n\n")
            for label, ca, cb, reps in cmds:
                f.write("- %s (%d reps): `%s`%s\n" % (
                    label, reps, ca, (" vs `%s`" % cb) if cb else ""))
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("row")
    r.add_argument("--out", required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--goal", default="info")
    r.add_argument("--reps", type=int, default=5)
    r.add_argument("--ns", required=True)
    r.add_argument("--a", required=True)
    r.add_argument("--pa")
    r.add_argument("--b")
    r.add_argument("--pb")
    r.add_argument("--expect", type=int)
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("--md")
    a = p.parse_args()
    if a.verb == "row":
        cmd_row(a)
    else:
        sys.exit(cmd_table(a))


if __name__ == "__main__":
    main()
