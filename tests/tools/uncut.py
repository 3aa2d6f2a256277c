#!/usr/bin/env python3
"""uncut.py SCREEN [FULL...]: no line of a screen read back is cut
without the cut marker (… or >). A text known whole (FULL: a rule's text,
a chain's name, a NAT translation) shown from its start must be there
whole or end in the marker (or wrap onto the next line); and no word may
run into a pane's border (│) without the marker there.
Prints each fault as 'line N: ...' and exits 1 if there is one."""
import sys

MARK = "…>"
screen = open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")
full = [f for f in sys.argv[2:] if len(f) >= 8]
bad = []
for n, line in enumerate(screen, 1):
    line = line.rstrip("\n")
    for f in full:
        head = f[:8]
        at = line.find(head)
        while at >= 0:
            k = 0
            while k < len(f) and at + k < len(line) and line[at + k] == f[k]:
                k += 1
            rest = line[at + k:]
            # a message wrapped at a word goes on at the next line's start
            wrapped = n < len(screen) and screen[n].lstrip().startswith(f[k:].lstrip()[:8])
            if k < len(f) and not wrapped and (rest == "" or rest[0] == "│" or
                                               rest.strip() == ""):
                bad.append(f"line {n}: '{f}' cut to '{f[:k]}' without the marker")
            at = line.find(head, at + 1)
    # a word against the right edge or a border, cut there without a marker
    segs = line.split("│")
    for s in segs[:-1]:
        if s and s[-1].isalpha() and len(s) > 1 and s[-2].isalpha():
            bad.append(f"line {n}: '{s.split()[-1]}' runs into the border without the marker")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
