#!/usr/bin/env python3
"""tuidrive: the live view on a real terminal (a pty of its own), driven
through its test socket (NFPILOT_TEST_FD, ui/driver.h). tests/tui_lib.sh
starts one per view and talks to it through two FIFOs in DIR.

usage: tuidrive.py DIR COLSxROWS ERRFILE CMD [ARGS...]

DIR/in receives one command a line, fields separated by tabs; each gets
one answer line on DIR/out:

  key NAME...      keys by name, each once the view is idle   ok | exit N
  do ACTION        an action of ui/keymap.h                    ok | exit N
  type TEXT        typed, byte by byte                         ok | exit N
  dump             the screen once the view is idle            ok
  next SECS        the screen after the next redraw, idle      ok | timeout
  wait SECS ERE    until a screen line matches ERE             ok | timeout
  gone SECS ERE    until no screen line matches ERE            ok | timeout
  press TEXT       TEXT written on the terminal (not a step)   ok
  click X Y        a left click at cell X, Y (0-based), as an
                   xterm sends it (X10 mouse, not a step)      ok
  hangup           the terminal closed (SIGHUP)                exit N
  kill SIG         a signal to the view                        exit N
  exit SECS        until the view has ended                    exit N | running
  field COL TEXT   a rules-pane column of the row with TEXT    ok VALUE | fail
  selected         the selected rules-pane row (from # on)     ok VALUE | fail
  treesel          the tree row shown selected                 ok VALUE | fail
  firstrule        the first rule row                          ok VALUE | fail
  rows             every rules-pane row into DIR/result        ok | fail

Every step answered by the view writes the screen to DIR/screen (its text,
lines without trailing blanks) and DIR/marks (a mark per character: S the
selection, s the selection of the pane without focus, . else). A view
that does not answer within the step's time: "fail ...".
"""
import curses
import errno
import fcntl
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

# a step the view does not answer in this time fails (TUI_STEP_SECS, 60)
STEP_SECS = float(os.environ.get("TUI_STEP_SECS") or 60)


class View:
    def __init__(self, d, size, errfile, cmd):
        self.dir = d
        cols, rows = (int(x) for x in size.split("x"))
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.sock, theirs = socket.socketpair()
        env = dict(os.environ, NFPILOT_TEST_FD=str(theirs.fileno()))

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty is its terminal

        with open(errfile, "ab") as err:
            self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=err,
                                         pass_fds=(theirs.fileno(),), env=env,
                                         start_new_session=True, preexec_fn=ctty)
        os.close(slave)
        theirs.close()
        term = [a[5:] for a in cmd if a.startswith("TERM=")] or [os.environ.get("TERM", "")]
        try:
            curses.setupterm(term[-1], self.master)
            self.kmous = curses.tigetstr("kmous") or b""
        except curses.error:
            self.kmous = b""
        self.buf = b""
        self.seq = 0
        self.lines = []     # the last screen: text lines
        self.marks = []
        self.status = None
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ, "sock")
        self.sel.register(self.master, selectors.EVENT_READ, "pty")

    # ---- the view's end
    def reap(self, secs=0):
        if self.status is None:
            try:
                self.status = self.proc.wait(timeout=secs)
            except subprocess.TimeoutExpired:
                return None
            if self.status < 0:
                self.status = 128 - self.status
        return self.status

    def drain_pty(self):
        try:
            if not os.read(self.master, 65536):
                raise OSError(errno.EIO, "eof")
        except OSError:
            # the view closed the terminal (it ended)
            self.sel.unregister(self.master)
            os.close(self.master)
            self.master = None

    # ---- a step: one command to the view, its answer
    def step(self, line, secs):
        """None when the view ended, else (word, ok)"""
        if self.sock is None:
            return None
        self.seq += 1
        sid = str(self.seq)
        try:
            self.sock.sendall(("%s %s\n" % (sid, line)).encode("utf-8", "surrogateescape"))
        except OSError:
            return self.closed()
        end = time.monotonic() + secs
        while True:
            got = self.parse(sid)
            if got:
                return got
            left = end - time.monotonic()
            if left <= 0:
                return ("fail", "nfpilot did not answer '%s' in %d s" % (line, secs))
            for key, _ in self.sel.select(left):
                if key.data == "pty":
                    self.drain_pty()
                if key.data != "sock":
                    continue
                data = self.sock.recv(1 << 20)
                if not data:
                    return self.closed()
                self.buf += data

    def closed(self):
        self.sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        self.reap(10)
        return None

    def parse(self, sid):
        """an answer to sid out of buf, or None while incomplete"""
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                return None
            head = self.buf[:nl].decode("utf-8", "replace").split(" ")
            if head[0] != sid or len(head) < 2:
                self.buf = self.buf[nl + 1:]   # a late answer to a step given up
                continue
            if head[1] == "error":
                self.buf = self.buf[nl + 1:]
                return ("fail", "nfpilot: " + " ".join(head[2:]))
            rows = int(head[2])
            parts = self.buf[nl + 1:].split(b"\n", 2 * rows)
            if len(parts) <= 2 * rows:
                return None
            self.buf = parts[2 * rows]
            text = [p.decode("utf-8", "replace") for p in parts[:rows]]
            self.lines = [t.rstrip(" ") for t in text]
            self.marks = [p.decode("ascii", "replace") for p in parts[rows:2 * rows]]
            self.save()
            return ("ok" if head[1] == "ok" else head[1], "")

    def save(self):
        for name, data in (("screen", self.lines), ("marks", self.marks)):
            tmp = os.path.join(self.dir, name + ".tmp")
            with open(tmp, "w") as f:
                f.write("\n".join(data) + "\n")
            os.replace(tmp, os.path.join(self.dir, name))

    def write(self, data):
        if self.master is not None:
            os.write(self.master, data)

    def hangup(self):
        if self.master is not None:
            self.sel.unregister(self.master)
            os.close(self.master)
            self.master = None


# ---- the rules pane, found from its column header ("#  pkts  bytes ...")
COLS = (("#", "num", 1), ("pkts", "pkts", 1), ("bytes", "bytes", 1), ("pkt/s", "pps", 1),
        ("B/s", "bps", 1), ("history", "history", 0), ("handle", "handle", 1),
        ("rule", "rule", 0))


def columns(lines):
    for n, t in enumerate(lines):
        m = re.search(r"#\s+pkts\s+bytes", t)
        if not m:
            continue
        cols = {}
        for title, key, right in COLS:
            j = t.find(title, m.start())
            if j < 0:
                continue
            if key == "num":
                # the pane's first column: from the tree's border on
                # (its width follows the chain's positions)
                cols[key] = (t.rfind("\u2502", 0, j) + 1, j + 2)
            elif key == "rule":
                cols[key] = (j, 10 ** 6)
            elif right:
                cols[key] = (j + len(title) - 6, j + len(title) + 1)
            else:
                cols[key] = (j, j + 9)
        return n, cols
    return None, {}


def query(v, args):
    lines = v.lines[:-1]          # the status line
    marks = v.marks[:-1]
    hn, cols = columns(lines)
    if hn is None:
        return "fail no rules pane on screen"
    x0 = cols["num"][0]
    body = range(hn + 1, len(lines))
    what = args[0]
    if what == "field":
        name, want = args[1], args[2]
        for i in body:
            if want in lines[i][x0:]:
                a, b = cols[name]
                return "ok " + lines[i][a:b].strip()
        return "fail no row shows " + want
    if what == "selected":
        for i in body:
            if marks[i][x0 + 6:x0 + 7] == "S":
                return "ok " + lines[i][x0:].rstrip()
        return "fail no rule row is selected"
    if what == "treesel":
        for i in range(1, hn + 40):
            if i < len(lines) and marks[i][1:2] == "S" and x0 > 6:
                # without the rule count at its right end
                return "ok " + re.sub(r"\s+\S+$", "", lines[i][:x0 - 1].rstrip())
        return "fail no tree row is selected"
    if what == "firstrule":
        for i in body:
            t = lines[i][x0:]
            if re.match(r"\s*\d+\s", t):
                return "ok " + t.rstrip()
        return "fail no rule row"
    if what == "rows":
        with open(os.path.join(v.dir, "result"), "w") as f:
            for i in body:
                f.write(lines[i][x0:].rstrip() + "\n")
        return "ok"
    return "fail unknown query " + what


def run(v, args):
    cmd = args[0]
    if cmd in ("key", "do", "type", "dump", "next", "wait", "gone"):
        secs = STEP_SECS
        if cmd in ("next", "wait", "gone"):
            secs = float(args[1]) + STEP_SECS
        got = v.step(" ".join(args), secs)
        if got is None:
            return "exit %s" % v.reap(10)
        return " ".join(x for x in got if x)
    if cmd == "press":  # the rest of the line, tabs too
        v.write("\t".join(args[1:]).encode("utf-8", "surrogateescape"))
        return "ok"
    if cmd == "click":
        # press and release of the left button, in the form the terminal's
        # terminfo (kmous) says: SGR (xterm: ESC [ < b ; x ; y M/m, 1-based)
        # or X10 (ESC [ M, then button, x, y each + 32)
        x, y = int(args[1]) + 1, int(args[2]) + 1
        if v.kmous == b"\x1b[<":
            v.write(b"\x1b[<0;%d;%dM\x1b[<0;%d;%dm" % (x, y, x, y))
        else:
            v.write(bytes([27, 91, 77, 32, x + 32, y + 32, 27, 91, 77, 35, x + 32, y + 32]))
        return "ok"
    if cmd in ("hangup", "kill", "exit"):
        if cmd == "hangup":
            v.hangup()
        elif cmd == "kill" and v.status is None:
            v.proc.send_signal(int(args[1]))
        st = v.reap(float(args[1]) if cmd == "exit" else 10)
        return "running" if st is None else "exit %d" % st
    return query(v, args)


def main():
    d, size, errfile = sys.argv[1:4]
    v = View(d, size, errfile, sys.argv[4:])
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    cin = os.open(os.path.join(d, "in"), os.O_RDONLY)
    cout = open(os.path.join(d, "out"), "w")
    v.sel.register(cin, selectors.EVENT_READ, "cmd")
    pending = b""
    try:
        while True:
            # between steps too, what the view draws is read off the
            # terminal: a full pty would stop it mid-refresh
            for key, _ in v.sel.select():
                if key.data == "pty":
                    v.drain_pty()
                elif key.data == "sock":
                    data = v.sock.recv(1 << 20)
                    if not data:
                        v.closed()
                    else:
                        v.buf += data
                elif key.data == "cmd":
                    data = os.read(cin, 65536)
                    if not data:
                        return
                    pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                args = line.decode("utf-8", "surrogateescape").split("\t")
                try:
                    reply = run(v, args)
                except (IndexError, ValueError) as e:
                    reply = "fail bad command %r: %s" % (line, e)
                cout.write(reply.replace("\n", " ") + "\n")
                cout.flush()
    finally:
        v.hangup()
        if v.reap(5) is None:
            v.proc.kill()
            v.reap(5)


if __name__ == "__main__":
    main()
