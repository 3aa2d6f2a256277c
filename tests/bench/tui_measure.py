#!/usr/bin/env python3
"""Live-view (TUI) benchmarks for tests/bench/tui.sh, driven through tmux.

  tui_measure.py first   --bin B --ns NS --chain NAME --rules N --reps R --out F --label L
      First screen, whole chain loaded, rule text shown; `nft list ruleset`
      as the reference; then one more run for keypress latency while loading.
  tui_measure.py refresh --bin B --ns NS --chain NAME --rules N --out F --label L
                         [--end] [--secs S] [--refresh R]
      CPU cost of one counter refresh of the rules on screen; reference
      `nft list chain inet T NAME`.
  tui_measure.py idle    --bin B --ns NS --chain NAME --rules N --out F --label L [--secs S]
      CPU% of the live view, refresh 1 s, after loading is complete.
  tui_measure.py floor --out F [--reps R]
      The method's own floor: launch of a trivial program, a key echoed by cat.
  tui_measure.py trace --bin B --ns NS --client NS2 --dst IP --filter F --packet P
      Keys on the trace screen idle and while 1000 pings a second are traced,
      then why's later answers in the same session (tests/bench/why.sh).
  tui_measure.py ctview  --bin B --ns NS --entries N --label L
      The connections screen: first rows, keys while the table loads, a sort.
  tui_measure.py ctstale --bin B --ns NS --entries N --label L
      The connections screen loaded, then ! (which connections the ruleset
      still admits, checked in slices): its answer, keys while it runs.
  tui_measure.py quick --bin B --ns NS --label L [--key o|b] [--keys N]
      The ruleset screen: o (or b) typed N times, each timed until its rule
      is staged and checked (tests/bench/lockout.sh).
  tui_measure.py table F [--md MD]

Every run uses a private tmux server (`tmux -L nfpb-PID`, window 120x40),
killed with its own -L on exit; the default tmux server is never touched.
nfpilot runs as `env TERM=xterm-256color LANG=C.UTF-8 NFPILOT_CONFIG=cfg
nfpilot -N NS`; the config only sets `refresh`.  The screen is read with
`tmux capture-pane` in a tight loop (each poll costs ~2-4 ms: a tmux client
process), so times carry that much resolution error, always on the slow
side.  CPU time is utime+stime of the nfpilot process (all its threads) from
/proc/PID/stat; the kernel's netlink dump work runs in nfpilot's recvmsg()
and so is counted in its stime.
"""
import argparse
import ctypes
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

CLONE_NEWNET = 0x40000000
W, H = 120, 40
CLK = os.sysconf("SC_CLK_TCK")

# a rule row: num pkts bytes (the tree, when shown, is left of the separator)
ROW = re.compile(r"(?:^|[x\u2502]) *(\d+) +(\d+) +(\d+) ")
HEADER = re.compile(r" (\d+) rules\s*$")
TITLE = re.compile(r" (\d+) rules?(  loading\.\.\.)?")


class Tmux:
    def __init__(self):
        self.sock = "nfpb-%d" % os.getpid()
        self.n = 0
        self.tmp = tempfile.mkdtemp(prefix="nfpbtui.")

    def run(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr.decode().strip()))
        return r.stdout.decode("utf-8", "replace")

    def start(self, argv, refresh, extra=""):
        """Start a session whose shell waits for Enter, then execs nfpilot.
        Returns the session name; launch() sends the Enter. extra: more
        config lines."""
        self.n += 1
        name = "s%d" % self.n
        cfg = os.path.join(self.tmp, "cfg%d" % self.n)
        with open(cfg, "w") as f:
            f.write("refresh = %s\n%s" % (refresh, extra))
        cmd = ("read _; exec env TERM=xterm-256color LANG=C.UTF-8 NFPILOT_CONFIG=%s %s"
               % (shlex.quote(cfg), " ".join(shlex.quote(a) for a in argv)))
        self.run("new-session", "-d", "-s", name, "-x", str(W), "-y", str(H),
                 "sh -c %s" % shlex.quote(cmd))
        self.run("set-option", "-t", name, "remain-on-exit", "off")
        time.sleep(0.2)  # let sh reach read
        return name

    def launch(self, name):
        t0 = time.perf_counter()
        self.run("send-keys", "-t", name, "Enter")
        return t0

    def pid(self, name):
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def capture(self, name, esc=False):
        args = ["capture-pane", "-p", "-t", name]
        if esc:
            args.insert(1, "-e")
        return self.run(*args, check=False).split("\n")

    def keys(self, name, *keys):
        self.run("send-keys", "-t", name, *keys)

    def stop(self, name):
        self.run("send-keys", "-t", name, "q", check=False)
        time.sleep(0.2)
        self.run("kill-session", "-t", name, check=False)

    def close(self):
        self.run("kill-server", check=False)  # our private server only (-L)
        # its socket file stays behind when a server did not end by itself
        sock = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), "tmux-%d" % os.getuid(),
                            self.sock)
        if os.path.exists(sock):
            os.unlink(sock)
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)


def rows(lines):
    """Rule rows on screen: list of (num, pkts) from the rule pane."""
    out = []
    for ln in lines[3:H - 1]:
        m = ROW.search(ln)
        if m:
            out.append((int(m.group(1)), int(m.group(2))))
    return out


def title(lines):
    """(rule count in the chain title, loading?) or None."""
    if len(lines) < 2:
        return None
    m = TITLE.search(lines[1])
    return (int(m.group(1)), bool(m.group(2))) if m else None


def poll(fn, timeout, interval=0.005):
    """Call fn() until it returns a true value; (elapsed-since-start, value)."""
    t0 = time.perf_counter()
    while True:
        v = fn()
        if v:
            return time.perf_counter(), v
        if time.perf_counter() - t0 > timeout:
            return None, None
        time.sleep(interval)


def steady(fn, timeout, interval=0.1):
    """fn() once it gives the same value twice, interval apart (or its last
    value after timeout): a measure taken when what it measures has settled."""
    t0, last = time.perf_counter(), fn()
    while time.perf_counter() - t0 <= timeout:
        time.sleep(interval)
        v = fn()
        if v == last:
            return v
        last = v
    return last


# ---- reference commands ----

def enter_netns_argv(ns, argv):
    """fork+exec argv inside netns ns; (wall s, cpu s, exit status)."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                os._exit(126)
            dn = os.open(os.devnull, os.O_WRONLY)
            os.dup2(dn, 1)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, st, ru = os.wait4(pid, 0)
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(st)


def reference(ns, argv, reps):
    walls, cpus = [], []
    for _ in range(reps):
        w, c, rc = enter_netns_argv(ns, argv)
        if rc != 0:
            raise RuntimeError("%s exited %d" % (" ".join(argv), rc))
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls), statistics.median(cpus)


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def load_avg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def emit(out, **kw):
    kw["load"] = load_avg()
    with open(out, "a") as f:
        f.write(json.dumps(kw) + "\n")


# ---- first screen, loading, keys ----

def first_screen(tm, a, name, t0):
    """Wait for the first screen; returns dict of times (s from t0)."""
    res = {}

    def first():
        r = rows(tm.capture(name))
        return r if r and r[0][0] == 1 else None
    t, r = poll(first, 60)
    if t is None:
        raise RuntimeError("no rule row on screen after 60 s")
    res["first"] = t - t0
    return res


def busy_state(lines, total):
    """What is still loading: 'rules' (the header's rule count is short of
    the fixture's total, or the chain title says loading), 'text' (a rule
    row on screen shows the placeholder instead of its text), or ''."""
    m = HEADER.search(lines[0]) if lines else None
    tl = title(lines)
    if not m or int(m.group(1)) < total or (tl and tl[1]):
        return "rules"
    if any(ROW.search(ln) and "ip saddr" not in ln for ln in lines[3:H - 1]):
        return "text"
    return ""


def key_latency(tm, name, key, n, total, timeout=2.0):
    """Send key n times; each time wait for the screen (below the title, with
    attributes) to change. Returns (latencies, states: what was still
    loading when each key was sent)."""
    lat, states = [], []
    body = lambda lines: lines[2:]
    for i in range(n):
        before = tm.capture(name, esc=True)
        states.append(busy_state(tm.capture(name), total))
        t0 = time.perf_counter()
        tm.keys(name, key)
        t, _ = poll(lambda: body(tm.capture(name, esc=True)) != body(before) or None, timeout)
        lat.append(timeout if t is None else t - t0)
        time.sleep(0.02 + 0.01 * (i % 3))
    return lat, states


def cmd_first(a):
    a.total = a.total or a.rules
    tm = Tmux()
    argv = [a.bin, "-N", a.ns]
    firsts, loads, texts = [], [], []
    try:
        for rep in range(a.reps):
            name = tm.start(argv, 60)
            t0 = tm.launch(name)
            res = first_screen(tm, a, name, t0)
            firsts.append(res["first"])

            def loaded():
                tl = title(tm.capture(name))
                return tl and tl[0] == a.rules and not tl[1]
            t, _ = poll(loaded, 300, 0.02)
            if t is None:
                raise RuntimeError("chain not loaded after 300 s")
            loads.append(t - t0)

            def texted():
                ls = tm.capture(name)
                return any("ip saddr" in ln for ln in ls[3:6])
            t, _ = poll(texted, 300, 0.02)
            if t is None:
                raise RuntimeError("no rule text after 300 s")
            texts.append(t - t0)
            tm.stop(name)
            print("    rep %d: first screen %.3f s, loaded %.2f s, text %.2f s"
                  % (rep + 1, firsts[-1], loads[-1], texts[-1]), file=sys.stderr)

        # keypress latency while loading: hide the tree (the rule pane gets
        # the keys), then Down and PgDn while the chain (or, in 100x1k, the
        # other chains) are still being read
        name = tm.start(argv, 60)
        t0 = tm.launch(name)
        first_screen(tm, a, name, t0)
        tm.keys(name, "t")
        time.sleep(0.1)
        keys = {}
        keys["Down"] = key_latency(tm, name, "Down", a.keys, a.total)
        keys["PgDn"] = key_latency(tm, name, "NPage", a.keys, a.total)
        # search next: '/' PATTERN Enter, then n; matches are comments (r99,
        # r199, ...). Search looks only at chains whose rules are all read,
        # so first wait for the chain on screen (the rest may still load).
        t, _ = poll(lambda: (title(tm.capture(name)) or (0, True))[1] is False, 300, 0.02)
        tm.keys(name, "/")
        time.sleep(0.05)
        tm.keys(name, "-l", a.search)
        tm.keys(name, "Enter")
        time.sleep(0.1)
        keys["n"] = key_latency(tm, name, "n", a.keys, a.total)
        tm.stop(name)
    finally:
        tm.close()

    ref_wall, ref_cpu = reference(a.ns, ["nft", "list", "ruleset"], a.ref_reps)
    emit(a.out, kind="first", label=a.label, first=firsts, loaded=loads, text=texts,
         ref=ref_wall, ref_cpu=ref_cpu, ref_cmd="nft list ruleset", reps=a.reps,
         keys={k: {"lat": v[0], "states": v[1]} for k, v in keys.items()},
         search=a.search)
    print("  %s: first screen %.3f s (nft list ruleset %.3f s), loaded %.2f s, text %.2f s"
          % (a.label, statistics.median(firsts), ref_wall, statistics.median(loads),
             statistics.median(texts)), file=sys.stderr)
    for k, (lat, states) in keys.items():
        print("    key %-4s median %.1f ms, max %.1f ms (sent while loading: %s)"
              % (k, 1e3 * statistics.median(lat), 1e3 * max(lat), loading_note(states)),
              file=sys.stderr)


def loading_note(states):
    n = len(states)
    r, t = states.count("rules"), states.count("text")
    parts = []
    if r:
        parts.append("%d/%d rules" % (r, n))
    if t:
        parts.append("%d/%d text" % (t, n))
    return ", ".join(parts) if parts else "0/%d" % n


# ---- counter refresh and idle CPU ----

def wait_settled(tm, name, a):
    """Wait until the chain is loaded and the top rows have text."""
    def ok():
        ls = tm.capture(name)
        tl = title(ls)
        return tl and tl[0] == a.rules and not tl[1] and \
            any("ip saddr" in ln for ln in ls[3:6])
    t, _ = poll(ok, 600, 0.05)
    if t is None:
        raise RuntimeError("not settled after 600 s")


def cpu_over(pid, secs):
    c0, t0 = cpu_of(pid), time.perf_counter()
    time.sleep(secs)
    return cpu_of(pid) - c0, time.perf_counter() - t0


def cmd_refresh(a):
    tm = Tmux()
    try:
        name = tm.start([a.bin, "-N", a.ns], a.refresh)
        tm.launch(name)
        pid = tm.pid(name)
        wait_settled(tm, name, a)
        tm.keys(name, "t")  # rules pane
        if a.end:
            tm.keys(name, "G")  # last rule
            t, _ = poll(lambda: any(r[0] == a.rules for r in rows(tm.capture(name))), 30)
            if t is None:
                raise RuntimeError("End did not show the last rule")
        time.sleep(max(2 * a.refresh, 1))  # a few ticks to settle (text of the rows)
        busy, wall = cpu_over(pid, a.secs)
        tm.keys(name, "p")  # pause: the same process, no refresh
        time.sleep(max(a.refresh, 0.5))
        idle, iwall = cpu_over(pid, a.secs / 2)
        tm.stop(name)
    finally:
        tm.close()
    ticks = wall / a.refresh
    per = max(busy / wall - idle / iwall, 0) * a.refresh
    ref_wall, ref_cpu = reference(a.ns, ["nft", "list", "chain", "inet", "T", a.chain],
                                  a.ref_reps)
    emit(a.out, kind="refresh", label=a.label, per=per, busy=busy, wall=wall, idle=idle,
         iwall=iwall, ticks=ticks, refresh=a.refresh, ref=ref_wall, ref_cpu=ref_cpu,
         ref_cmd="nft list chain inet T %s" % a.chain, cpu_pct=100 * busy / wall)
    print("  %s: %.2f ms CPU a refresh, %.2f ms net of paused (%.1f%% of a core at %.1f s;"
          " paused %.2f%%), nft list chain %.1f ms (CPU %.1f ms)"
          % (a.label, 1e3 * busy / wall * a.refresh, 1e3 * per, 100 * busy / wall, a.refresh, 100 * idle / iwall,
             1e3 * ref_wall, 1e3 * ref_cpu), file=sys.stderr)


def cmd_idle(a):
    tm = Tmux()
    try:
        name = tm.start([a.bin, "-N", a.ns], 1)
        tm.launch(name)
        pid = tm.pid(name)
        wait_settled(tm, name, a)
        time.sleep(3)
        used, wall = cpu_over(pid, a.secs)
        tm.stop(name)
    finally:
        tm.close()
    emit(a.out, kind="idle", label=a.label, cpu=used, wall=wall, pct=100 * used / wall)
    print("  %s: %.2f%% of a core over %.0f s" % (a.label, 100 * used / wall, wall),
          file=sys.stderr)


# ---- the measuring floor ----

def cmd_floor(a):
    """What the method itself costs: a trivial program's first output after
    the Enter that launches it, and a key echoed by cat."""
    tm = Tmux()
    try:
        launch, echo = [], []
        for _ in range(a.reps):
            name = tm.start(["sh", "-c", "echo READY; exec cat"], 1)
            t0 = tm.launch(name)
            t, _ = poll(lambda: any("READY" in l for l in tm.capture(name)), 10)
            launch.append(t - t0)
            lat, _ = key_latency(tm, name, "x", 10, False)
            echo += lat
            tm.run("kill-session", "-t", name, check=False)
    finally:
        tm.close()
    emit(a.out, kind="floor", label="tmux floor", launch=launch, echo=echo)
    print("  floor: launch %.1f ms, key echo %.1f ms (medians)"
          % (1e3 * statistics.median(launch), 1e3 * statistics.median(echo)), file=sys.stderr)


# ---- table ----

def fmt_table(path):
    head = ["entry", "value", "reference", "ratio", "goal", "result"]
    out, notes = [], []

    def verdict(ok):
        return "PASS" if ok else "MISS"
    with open(path) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    for r in recs:
        L = r["label"]
        if r["kind"] == "first":
            fs, ref = statistics.median(r["first"]), r["ref"]
            out.append(["first screen, %s (median of %d; min %.3f, max %.3f)"
                        % (L, len(r["first"]), min(r["first"]), max(r["first"])), "%.3f s" % fs,
                        "%.3f s (%s)" % (ref, r["ref_cmd"]), "%.3f" % (fs / ref),
                        "<= 0.1", verdict(fs / ref <= 0.1)])
            ld = statistics.median(r["loaded"])
            out.append(["whole chain loaded, %s" % L, "%.2f s" % ld, "%.3f s" % ref,
                        "%.2f" % (ld / ref), "-", "info"])
            tx = statistics.median(r["text"])
            out.append(["rule text on screen, %s" % L, "%.2f s" % tx, "%.3f s" % ref,
                        "%.2f" % (tx / ref), "-", "info"])
            for k, v in r["keys"].items():
                lat = v["lat"]
                med, mx = statistics.median(lat), max(lat)
                what = {"Down": "key Down", "PgDn": "key PgDn",
                        "n": "key n (search next '%s')" % r.get("search", "")}[k]
                out.append(["%s, %s (while loading: %s)" % (what, L, loading_note(v["states"])),
                            "med %.0f ms, max %.0f ms" % (1e3 * med, 1e3 * mx),
                            "-", "-", "<= 50 ms", verdict(mx <= 0.05)])
        elif r["kind"] == "refresh":
            # all CPU while refreshing, per refresh (netlink, kernel, redraw)
            tot = r["busy"] / r["wall"] * r["refresh"]
            out.append(["one counter refresh, %s (every %g s; paused: %.2f ms)"
                        % (L, r["refresh"], 1e3 * r["idle"] / r["iwall"] * r["refresh"]),
                        "%.2f ms CPU" % (1e3 * tot),
                        "%.1f ms (%s)" % (1e3 * r["ref"], r["ref_cmd"]),
                        "%.3f" % (tot / r["ref"]), "<= 0.1",
                        verdict(tot / r["ref"] <= 0.1)])
        elif r["kind"] == "floor":
            out.append(["method floor: launch to first output (sh)",
                        "%.1f ms" % (1e3 * statistics.median(r["launch"])), "-", "-", "-", "info"])
            out.append(["method floor: key echoed by cat",
                        "med %.1f ms, max %.1f ms" % (1e3 * statistics.median(r["echo"]),
                                                      1e3 * max(r["echo"])),
                        "-", "-", "-", "info"])
        elif r["kind"] == "quick":
            k = r["keys"]
            out.append(["key %s, %s: the first (it makes the sandbox)" % (r["key"], L),
                        "%.0f ms" % (1e3 * k[0]), "-", "-", "-", "info"])
            out.append(["key %s, %s: the %d after it" % (r["key"], L, len(k) - 1),
                        "med %.0f ms, max %.0f ms" % (1e3 * statistics.median(k[1:]),
                                                      1e3 * max(k[1:])),
                        "-", "-", "-", "info"])
            if r.get("W") is not None:
                out.append(["W after them, %s: its lockout pre-check" % L,
                            "%.0f ms" % (1e3 * r["W"]), "-", "-", "-", "info"])
        elif r["kind"] == "idle":
            out.append(["idle CPU, %s" % L, "%.2f %%" % r["pct"], "-", "-", "< 2 %",
                        verdict(r["pct"] < 2)])
        notes.append((L, r["kind"], r["load"]))
    return head, out, recs


def cmd_table(a):
    head, rows_, recs = fmt_table(a.file)
    widths = [max(len(x[i]) for x in [head] + rows_) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths]] + rows_:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    loads = [r["load"] for r in recs]
    print("load average (1 min) during the runs: %.2f .. %.2f" % (min(loads), max(loads)))
    if a.md:
        with open(a.md, "w") as f:
            f.write("| " + " | ".join(head) + " |\n")
            f.write("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|\n")
            for r in rows_:
                f.write("| " + " | ".join(r) + " |\n")
            f.write("\nLoad average (1 min) at the end of each measurement: %s\n"
                    % ", ".join("%.2f" % l for l in loads))
            f.write("\nRaw (JSON lines):\n\n```\n")
            for r in recs:
                f.write(json.dumps(r) + "\n")
            f.write("```\n")
    return 0


# ---- the connections screen (key 2) on a big conntrack table ----

CT_HEADER = re.compile(r"connections (\d+)")


def keys_while_loading(tm, name, marker, keys, n, least=0):
    """Send keys (taking turns) while the header says marker (at least
    `least` keys), each time waiting for the rows to change. Returns
    (latencies, how many were sent while loading)."""
    lat, sent = [], 0
    for i in range(n):
        before = tm.capture(name, esc=True)
        loading = marker in before[0]
        if not loading and i >= least:
            break
        sent += loading
        k0 = time.perf_counter()
        tm.keys(name, keys[i % len(keys)])
        t, _ = poll(lambda: tm.capture(name, esc=True)[3:] != before[3:] or None, 2.0, 0.002)
        lat.append(2.0 if t is None else t - k0)
        time.sleep(0.03)
    return lat, sent


def wait_loaded(tm, name, header, total, marker, timeout):
    """Until the header's count (header: its group 1) reaches total and
    it no longer says marker; the time, or None."""
    def loaded():
        ls = tm.capture(name)
        m = header.search(ls[0])
        return m and int(m.group(1)) >= total and marker not in ls[0] or None
    t, _ = poll(loaded, timeout, 0.01)
    return t


def cmd_ctview(a):
    """Open the live view, press 2, and time: the first rows of the
    connections screen, keys (Down) while the table loads, the whole table
    loaded, and a sort ('>') of all of it. Prints one line."""
    tm = Tmux()
    try:
        name = tm.start([a.bin, "-N", a.ns], 60)
        tm.launch(name)
        t, _ = poll(lambda: any("F1" in ln for ln in tm.capture(name)[-1:]) or None, 30)
        t0 = time.perf_counter()
        tm.keys(name, "2")
        first, _ = poll(lambda: (lambda ls: CT_HEADER.search(ls[0]) and
                                 any(("tcp" in ln or "udp" in ln) for ln in ls[3:6]))(
                                     tm.capture(name)) or None, 60, 0.005)
        lat, _ = keys_while_loading(tm, name, "[loading", ["Down"], a.keys)
        done = wait_loaded(tm, name, CT_HEADER, a.entries, "[loading", 300)
        time.sleep(0.5)
        s0 = time.perf_counter()
        tm.keys(name, ">")
        sort, _ = poll(lambda: any("sorted by" in ln for ln in tm.capture(name)) or None,
                       30, 0.005)
        tm.stop(name)
    finally:
        tm.close()
    fmt = lambda v, base: "n/a" if v is None else "%.3f s" % (v - base)
    print("live view, connections %s: first rows %s, loaded %s, sort %s; Down while "
          "loading: %s" % (a.label, fmt(first, t0), fmt(done, t0), fmt(sort, s0),
                           "%d keys, median %.1f ms, max %.1f ms" % (
                               len(lat), 1e3 * statistics.median(lat), 1e3 * max(lat))
                           if lat else "loaded before the first key"), file=sys.stderr)
    return 0


# ---- the set screen (Enter on a set) on a big set ----

SET_HEADER = re.compile(r"^ (?:set|map) \S+ \S+ \S+ .* (\d+) elements?")
FOUND_IN = re.compile(r" is in .*\(([0-9.]+) ms\)")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def cmd_setview(a):
    """Open the live view, select the set in the tree, Enter, and time: the
    first rows of the set screen, keys (Down, PgDn) while the rest loads,
    the whole set loaded, a search of an address; and the memory the
    elements took (RSS after, less before). `nft list set` side by side.
    Prints one line (and --md: a markdown table row)."""
    tm = Tmux()
    try:
        name = tm.start([a.bin, "-N", a.ns], 60)
        tm.launch(name)
        t, _ = poll(lambda: any("@" + a.set in ln for ln in tm.capture(name)) or None, 600, 0.05)
        if t is None:
            raise RuntimeError("no @%s in the tree after 600 s" % a.set)
        pid = tm.pid(name)
        rss0 = steady(lambda: rss_kb(pid), 5, 0.2)
        # Down until the set is selected (the table's chains come first)
        for _ in range(8):
            tm.keys(name, "Down")
            if poll(lambda: "Enter opens its elements" in "".join(tm.capture(name)) or None,
                    2, 0.01)[0] is not None:
                break
        t0 = time.perf_counter()
        tm.keys(name, "Enter")
        first, _ = poll(lambda: (lambda ls: SET_HEADER.search(ls[0]) and
                                 ls[3].strip() != "" and "loading" not in ls[3])(
                                     tm.capture(name)) or None, 60, 0.002)
        lat, sent_loading = keys_while_loading(tm, name, "loading...", ["NPage", "Down"],
                                               a.keys, least=4)
        done = wait_loaded(tm, name, SET_HEADER, a.elements, "loading...", 600)
        rss1 = steady(lambda: rss_kb(pid), 5, 0.2)
        last = tm.capture(name)[-1]
        tm.keys(name, "/")
        poll(lambda: tm.capture(name)[-1] != last or None, 5)  # the prompt is open
        tm.keys(name, "-l", a.find)
        s0 = time.perf_counter()
        tm.keys(name, "Enter")
        found, _ = poll(lambda: any(" is in " in ln for ln in tm.capture(name)[-3:]) or None,
                        30, 0.002)
        said = [m.group(1) for m in (FOUND_IN.search(ln) for ln in tm.capture(name)[-3:]) if m]
        # more searches, as nfpilot times them (10.0-14.x.y: in both sets)
        own = [float(x) for x in said]
        for i in range(a.finds):
            addr = "10.%d.%d.%d" % (i % 15, (i * 37) % 256, (i * 91) % 256)
            last = tm.capture(name)[-1]
            tm.keys(name, "/")
            poll(lambda: tm.capture(name)[-1] != last or None, 5)
            tm.keys(name, "-l", addr)
            tm.keys(name, "Enter")
            t, got = poll(lambda: [FOUND_IN.search(ln).group(1) for ln in tm.capture(name)[-3:]
                                   if addr + " is in" in ln and FOUND_IN.search(ln)]
                          or None, 10, 0.005)
            if got:
                own.append(float(got[0]))
        tm.stop(name)
    finally:
        tm.close()
    ref, _ = reference(a.ns, ["nft", "list", "set"] + a.ref.split(), a.ref_reps)
    fmt = lambda v, base: "n/a" if v is None else "%.3f s" % (v - base)
    per = (rss1 - rss0) * 1024.0 / a.elements
    # the search as tmux sees it (a few ms of resolution) and as nfpilot
    # timed it (the status line: the key compiled, the lookup)
    search = "%s (nfpilot: %s ms; %d searches: median %.1f ms, max %.1f ms)" % (
        fmt(found, s0), said[0] if said else "?", len(own),
        statistics.median(own) if own else 0, max(own) if own else 0)
    line = ("live view, set screen %s: first rows %s, loaded %s, `nft list set` %.3f s; "
            "keys while loading: %s; / %s: %s; memory %.1f bytes an element (RSS)"
            % (a.label, fmt(first, t0), fmt(done, t0), ref,
               "%d of %d sent while loading, median %.1f ms, max %.1f ms" % (
                   sent_loading, len(lat), 1e3 * statistics.median(lat), 1e3 * max(lat))
               if lat else "none", a.find, search, per))
    print(line, file=sys.stderr)
    if a.md:
        with open(a.md, "a") as f:
            f.write("| %s | %s | %s | %.3f s | %s | %s | %.1f |\n"
                    % (a.label, fmt(first, t0), fmt(done, t0), ref,
                       "med %.1f ms, max %.1f ms (%d of %d while loading)" % (
                           1e3 * statistics.median(lat), 1e3 * max(lat), sent_loading, len(lat))
                       if lat else "-", search, per))
    return 0


# ---- the trace screen (key 3) under traffic, and why's later answers ----

TRACE_HEADER = re.compile(r"^ Trace: .*  (\d+) of \d+ packets")
ANSWERED = re.compile(r"answered in ([0-9.]+) ms")


def screen_keys(tm, name, n, timeout=2.0):
    """Keys 1 and 3 in turn, n of them: each answered when the header shows
    the other screen (a whole redraw: what the admin waits for)."""
    lat = []
    for i in range(n):
        key, want = ("1", False) if i % 2 == 0 else ("3", True)
        t0 = time.perf_counter()
        tm.keys(name, key)
        t, _ = poll(lambda: (tm.capture(name)[0].startswith(" Trace:") == want) or None,
                    timeout, 0.002)
        lat.append(timeout if t is None else t - t0)
        time.sleep(0.02 + 0.01 * (i % 3))
    if n % 2:
        tm.keys(name, "3")
    return lat


def traced(tm, name):
    m = TRACE_HEADER.search(tm.capture(name)[0])
    return int(m.group(1)) if m else None


def cmd_trace(a):
    """The live view in NS: keys (1 and 3 in turn) with no trace, then while
    a trace of FILTER takes every packet of a flood of pings from CLIENT (1000
    a second), the packets traced a second and nfpilot's CPU; then why asked
    ASKS times in the session (the status line's own time of each answer).
    Prints one JSON line."""
    tm = Tmux()
    res = {"load_start": load_avg()}
    flood = None
    try:
        name = tm.start([a.bin, "-N", a.ns], 1, "trace_count = 100000\ntrace_seconds = 3600\n"
                        "trace_rate = 1000\n")
        tm.launch(name)
        poll(lambda: any("F1" in ln for ln in tm.capture(name)[-1:]) or None, 30)
        tm.keys(name, "3")
        poll(lambda: tm.capture(name)[0].startswith(" Trace:") or None, 5)
        res["keys_idle"] = screen_keys(tm, name, a.keys)
        flood = subprocess.Popen(["ip", "netns", "exec", a.client, "ping", "-q", "-i", "0.0005",
                                  a.dst], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tm.keys(name, "l")
        tm.keys(name, "-l", a.filter)
        tm.keys(name, "Enter")
        t, _ = poll(lambda: (traced(tm, name) or 0) > 100 or None, 10)
        if t is None:
            raise RuntimeError("no packet traced: %s" % tm.capture(name)[:3])
        pid = tm.pid(name)  # sh execs env, env execs nfpilot
        n0, c0, w0 = traced(tm, name), cpu_of(pid), time.perf_counter()
        time.sleep(a.secs)
        n1, c1, w1 = traced(tm, name), cpu_of(pid), time.perf_counter()
        res["traced_per_s"] = (n1 - n0) / (w1 - w0)
        res["cpu_share"] = (c1 - c0) / (w1 - w0)
        res["keys_tracing"] = screen_keys(tm, name, a.keys)
        n2 = traced(tm, name)
        res["traced_per_s_keys"] = n2 and (n2 - n1) / (time.perf_counter() - w1)
        tm.keys(name, "x")
        flood.terminate()
        flood.wait()
        flood = None
        answers = []
        tm.keys(name, "w")
        tm.keys(name, "-l", a.packet)
        for i in range(a.asks):
            if i:
                tm.keys(name, "w")  # the prompt holds the last question
            tm.keys(name, "Enter")
            t, m = poll(lambda: ANSWERED.search(tm.capture(name)[H - 1]), 30, 0.005)
            if t is None:
                raise RuntimeError("no answer: %s" % tm.capture(name)[H - 2:H])
            answers.append(float(m.group(1)) / 1e3)
        res["answers"] = answers
        tm.stop(name)
    finally:
        if flood:
            flood.terminate()
        tm.close()
    res["load_end"] = load_avg()
    print(json.dumps(res))
    return 0



STAGED = re.compile(r"\[(\d+) staged\]")


def cmd_quick(a):
    """The live view in NS (one table, its input chain selected): o (allow
    a port, tcp PORT) or b (block an address, ADDR) typed KEYS times, each
    a new rule, timed from Enter until the header counts it staged (the
    rule placed, staged and its effect checked: the key's whole work; the
    first one makes the session's sandbox); then W, until the question
    its lockout pre-check leads to (answered n). Prints one JSON line."""
    tm = Tmux()
    res = {"kind": "quick", "label": a.label, "key": a.key}
    try:
        name = tm.start([a.bin, "-N", a.ns], 1)
        tm.launch(name)
        # the chain's rules shown (their count on the chain's title)
        poll(lambda: re.search(r"\) +\d+ rules", tm.capture(name)[1]) or None, 60)
        lat = []
        for i in range(a.keys):
            word = ("tcp %d" % (20000 + i)) if a.key == "o" else ("192.0.2.%d" % (100 + i))
            tm.keys(name, a.key)
            poll(lambda: any(re.search(r"port|[Bb]lock", ln) for ln in tm.capture(name)[-2:])
                 or None, 5)
            tm.keys(name, "-l", word)
            t0 = time.perf_counter()
            tm.keys(name, "Enter")
            t, m = poll(lambda: (lambda mm: mm if mm and int(mm.group(1)) == i + 1 else None)(
                STAGED.search(tm.capture(name)[0])), 120, 0.002)
            if t is None:
                raise RuntimeError("not staged: %s" % tm.capture(name)[H - 2:H])
            lat.append(t - t0)
            # a question (a set offered, a translation): no
            last = tm.capture(name)[H - 1]
            if "[y/N]" in last or "? [" in last:
                tm.keys(name, "n")
        res["keys"] = lat
        # W: its lockout pre-check, until the question it asks (then n)
        t0 = time.perf_counter()
        tm.keys(name, "W")
        t, _ = poll(lambda: re.search(r"Apply .*staged edits? as one transaction|LOCKOUT",
                                      tm.capture(name)[H - 1]), 120, 0.002)
        res["W"] = None if t is None else t - t0
        tm.keys(name, "n")
        tm.stop(name)
    finally:
        tm.close()
    res["load"] = load_avg()
    print(json.dumps(res))
    return 0


# the answer on the status line, or (once a key cleared it) the hints
STALE_DONE = re.compile(r"connections? would not be admitted now|would be admitted now|"
                        r"shown no longer admitted")


def cmd_ctstale(a):
    """Open the live view on the connections screen, wait for the whole
    table, press ! (the check of which established connections the ruleset
    still admits, in slices) and send Down keys while it runs, each timed
    until the rows move. Prints one line: the check's time and the keys'."""
    tm = Tmux()
    try:
        name = tm.start([a.bin, "-N", a.ns], 60)
        tm.launch(name)
        poll(lambda: any("F1" in ln for ln in tm.capture(name)[-1:]) or None, 30)
        tm.keys(name, "2")

        def loaded():
            ls = tm.capture(name)
            m = CT_HEADER.search(ls[0])
            return m and int(m.group(1)) >= a.entries and "[" not in ls[0][m.end():] or None
        poll(loaded, 300, 0.01)
        steady(lambda: tm.capture(name), 5, 0.1)  # the first draw of the rows done
        def down():
            """One Down, timed until the rows move."""
            before = tm.capture(name, esc=True)
            k0 = time.perf_counter()
            tm.keys(name, "Down")
            t, _ = poll(lambda: tm.capture(name, esc=True)[3:H - 1] != before[3:H - 1] or None,
                        2.0, 0.002)
            time.sleep(0.03)
            return 2.0 if t is None else t - k0
        # the floor under this load: as many keys with nothing checking (the
        # screen's own work goes on: a purge and re-sort every 3 s)
        idle = [down() for _ in range(a.keys)]
        t0 = time.perf_counter()
        tm.keys(name, "!")
        lat, done = [], None
        while time.perf_counter() - t0 < 300:
            if STALE_DONE.search(tm.capture(name)[-2]):
                done = time.perf_counter()
                break
            lat.append(down())
        tm.stop(name)
    finally:
        tm.close()
    keys = lambda v: ("%d keys, median %.1f ms, max %.1f ms" % (
        len(v), 1e3 * statistics.median(v), 1e3 * max(v)) if v else "none")
    # the first key waits for ! itself: the sandbox is made then, not in slices
    print("live view, ! on %s connections: answer after %s; the first Down after ! %s; "
          "Down while checking: %s (before !: %s); load %s"
          % (a.label, "n/a" if done is None else "%.2f s" % (done - t0),
             "%.1f ms" % (1e3 * lat[0]) if lat else "none", keys(lat[1:]), keys(idle),
             load_avg()), file=sys.stderr)
    return 0

def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="verb", required=True)
    for v in ("first", "refresh", "idle"):
        s = sub.add_parser(v)
        s.add_argument("--bin", required=True)
        s.add_argument("--ns", required=True)
        s.add_argument("--chain", required=True)
        s.add_argument("--rules", type=int, required=True)
        s.add_argument("--out", required=True)
        s.add_argument("--label", required=True)
        s.add_argument("--ref-reps", type=int, default=3)
        if v == "first":
            s.add_argument("--reps", type=int, default=5)
            s.add_argument("--keys", type=int, default=20)
            s.add_argument("--search", default="99")
            s.add_argument("--total", type=int, help="rules in the ruleset (default --rules)")
        if v == "refresh":
            s.add_argument("--end", action="store_true")
            s.add_argument("--refresh", type=float, default=0.2)
            s.add_argument("--secs", type=float, default=16)
        if v == "idle":
            s.add_argument("--secs", type=float, default=30)
    fl = sub.add_parser("floor")
    fl.add_argument("--out", required=True)
    fl.add_argument("--reps", type=int, default=5)
    for v in ("ctview", "ctstale"):
        c = sub.add_parser(v)
        c.add_argument("--bin", required=True)
        c.add_argument("--ns", required=True)
        c.add_argument("--entries", type=int, required=True)
        c.add_argument("--label", required=True)
        c.add_argument("--keys", type=int, default=30 if v == "ctview" else 60)
    sv = sub.add_parser("setview")
    sv.add_argument("--bin", required=True)
    sv.add_argument("--ns", required=True)
    sv.add_argument("--set", required=True)
    sv.add_argument("--ref", required=True, help="FAMILY TABLE SET for nft list set")
    sv.add_argument("--ref-reps", type=int, default=3)
    sv.add_argument("--finds", type=int, default=20, help="searches after the first")
    sv.add_argument("--elements", type=int, required=True)
    sv.add_argument("--find", required=True)
    sv.add_argument("--label", required=True)
    sv.add_argument("--keys", type=int, default=30)
    sv.add_argument("--md")
    tr = sub.add_parser("trace")
    tr.add_argument("--bin", required=True)
    tr.add_argument("--ns", required=True)
    tr.add_argument("--client", required=True)
    tr.add_argument("--dst", required=True)
    tr.add_argument("--filter", required=True)
    tr.add_argument("--packet", required=True)
    tr.add_argument("--keys", type=int, default=20)
    tr.add_argument("--asks", type=int, default=20)
    tr.add_argument("--secs", type=float, default=5)
    q = sub.add_parser("quick")
    q.add_argument("--bin", required=True)
    q.add_argument("--ns", required=True)
    q.add_argument("--key", choices=("o", "b"), default="o")
    q.add_argument("--keys", type=int, default=5)
    q.add_argument("--label", required=True)
    t = sub.add_parser("table")
    t.add_argument("file")
    t.add_argument("--md")
    a = p.parse_args()
    return {"first": cmd_first, "refresh": cmd_refresh, "idle": cmd_idle, "floor": cmd_floor,
            "table": cmd_table, "ctview": cmd_ctview, "ctstale": cmd_ctstale,
            "setview": cmd_setview, "quick": cmd_quick,
            "trace": cmd_trace}[a.verb](a) or 0


if __name__ == "__main__":
    sys.exit(main())
