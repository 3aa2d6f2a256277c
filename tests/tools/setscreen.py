#!/usr/bin/env python3
"""setscreen.py SCREEN NFT_LIST: the set screen's rows (tests/tui_lib.sh's
screen file) against `nft list set` of the same set: each element's key
(a concatenation's fields joined by " . "), value or verdict, comment,
packets and its other statements (a meter's limit, a quota). Prints what differs and exits 1; 0 when they are the same."""
import re
import sys


def nft_elems(text):
    m = re.search(r"elements = \{(.*?)\}\s*$", text, re.S | re.M)
    if not m:
        return []
    body = " ".join(m.group(1).split())
    out = []
    for e in [x.strip() for x in body.split(",") if x.strip()]:
        comment = ""
        cm = re.search(r' comment "([^"]*)"', e)
        if cm:
            comment = cm.group(1)
            e = e[:cm.start()] + e[cm.end():]
        data = ""
        if " : " in e:
            e, data = e.split(" : ", 1)
        pk = re.search(r" counter packets (\d+) bytes \d+", e)
        packets = pk.group(1) if pk else ""
        e = re.sub(r" counter packets \d+ bytes \d+", "", e)
        e = re.sub(r" (timeout|expires) [0-9dhms]+", "", e)
        st = re.search(r" ((limit|quota) .*)$", e)
        stmts = st.group(1).strip() if st else ""
        e = e[:st.start()] if st else e
        out.append((e.strip(), data.strip(), comment, packets, stmts))
    return sorted(out)


def screen_elems(lines):
    """Rows from the title line's columns: a left-aligned cell runs from its
    title's start to the next title; a right-aligned one (numbers) ends
    where its title ends."""
    title = lines[2]
    toks = [(m.start(), m.end(), m.group().rstrip("v^")) for m in re.finditer(r"\S+", title)]
    right = ("pkts", "bytes", "pkt/s")
    out = []
    for line in lines[3:]:
        if not line.strip() or line.rstrip().endswith("(gone)"):
            break
        cells, prev = {}, 3
        for i, (s, e, n) in enumerate(toks):
            if n in right:
                a, b = prev, e
            else:
                a = s
                b = toks[i + 1][0] if i + 1 < len(toks) else len(line)
                if i + 1 < len(toks) and toks[i + 1][2] in right:
                    b = s + 1 + len(line[s:].split("  ")[0])
            cells[n] = line[a:b].strip()
            prev = b
        keys = [cells[k] for k in sorted(c for c in cells if c.startswith("key"))]
        data = cells.get("value", cells.get("verdict", ""))
        out.append((" . ".join(keys), data, cells.get("comment", ""), cells.get("pkts", ""),
                    cells.get("limit/quota", "")))
    return sorted(out)


def main():
    lines = open(sys.argv[1]).read().split("\n")
    want = nft_elems(open(sys.argv[2]).read())
    got = screen_elems(lines)
    if not any(w[3] for w in want):
        got = [g[:3] + ("",) + g[4:] for g in got]
    if got == want:
        print(len(got))
        return 0
    print("screen: %s" % got)
    print("nft:    %s" % want)
    return 1


sys.exit(main())
