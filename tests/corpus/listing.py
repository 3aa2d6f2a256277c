#!/usr/bin/env python3
"""tests/corpus/listing.py NFP_JSON NFP_TEXT NFT_TEXT

Rule by rule, nfpilot's listing against nft's, for tests/integration/corpus.sh:

  NFP_JSON  `nfpilot -N NS list --json`
  NFP_TEXT  `nfpilot -N NS list -x`
  NFT_TEXT  `nft -a -s list ruleset` (stateless text with handles)

Rules are matched by (family, table, chain, handle). Every rule nft lists must
be in nfpilot's JSON with the same text (leading and trailing blanks aside:
nft pads xt statements it prints as nothing, such as an iptables comment),
non-empty, and nfpilot's plain listing must show the JSON's text (followed by
"  /* COMMENT */" for an iptables rule's comment). nfpilot prints stateless text, so nft's -s text is
the reference (no counter values, no quota use, no expiry).

Rules nft prints on several lines -- a chain binding, `jump {` ... `} # handle
N` -- are folded into the one-line form nft reads back,

    meta l4proto { tcp, udp } th dport 53 jump { ip saddr 10.0.0.0/8 accept; drop; }

which is the text this comparison expects from nfpilot for such a rule. nft
never lists the bound chain itself (the kernel's `__chainN`, flag
NFT_CHAIN_BINDING): its rules are part of the binding rule. nfpilot lists it
for its counters, marked: `"binding": true` in the JSON and "(bound to rule
N of chain C, ...)" in the plain listing; its rules' texts must be the
statements inside the block, in order. A `__chain*` chain without those
marks is reported as a difference.

Prints "N rules" and exits 0 when everything matches; otherwise prints one
difference per line and exits 1.
"""
import json
import re
import sys


def fold(lines, i, head, depth, inners=None):
    """Fold a rule nft printed on several lines, starting after its `{` line
    at tab depth `depth`; returns (text, handle, next index). The statements
    inside go to inners (a list) when given."""
    inner = [] if inners is None else inners
    close = re.compile(r"^" + "\t" * depth + r"\}(?: # handle (\d+))?$")
    while i < len(lines):
        line = lines[i]
        i += 1
        m = close.match(line)
        if m:
            handle = int(m.group(1)) if m.group(1) else None
            return head + " " + " ".join(x + ";" for x in inner) + " }", handle, i
        body = line.strip()
        if body.endswith("{"):
            text, _, i = fold(lines, i, body, len(line) - len(line.lstrip("\t")))
            inner.append(text)
        else:
            inner.append(re.sub(r" # handle \d+$", "", body))
    return head + " ...", None, i


def nft_rules(path):
    rules, multiline, inner = {}, set(), {}
    fam = table = chain = None
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^table (\S+) (\S+) \{", line)
        if m:
            fam, table, chain = m.group(1), m.group(2), None
            continue
        m = re.match(r"^\tchain (\S+) \{", line)
        if m:
            chain = m.group(1)
            continue
        if re.match(r"^\t\S", line):  # a set, map, object, flowtable; the chain's }
            chain = None
            continue
        if chain is None or not re.match(r"^\t\t[^\t]", line):
            continue
        body = line[2:]
        m = re.match(r"^(.*) # handle (\d+)$", body)
        if m:
            rules[(fam, table, chain, int(m.group(2)))] = m.group(1)
            continue
        if body.endswith("{") and not re.match(r"(type|comment|policy) ", body):
            stmts = []
            text, handle, i = fold(lines, i, body, 2, stmts)
            key = (fam, table, chain, handle)
            rules[key] = text
            inner[key] = stmts
            multiline.add(key)
        # else: the chain's own lines (type ... hook ...; comment "...")
    return rules, multiline, inner


def nfp_json(path):
    d = json.load(open(path))
    got, comments, dups, bindings, byposition = {}, {}, [], {}, {}
    for t in d["tables"]:
        for c in t["chains"]:
            if c.get("binding"):
                bindings[(t["family"], t["name"], c["name"])] = [r["text"] for r in c["rules"]]
                continue
            for r in c["rules"]:
                key = (t["family"], t["name"], c["name"], r["handle"])
                if key in got:
                    dups.append(key)
                got[key] = r["text"]
                byposition[(t["family"], t["name"], c["name"], r["position"])] = key
                if r.get("compat") and r.get("comment"):
                    comments[key] = r["comment"]
    return got, comments, dups, bindings, byposition


def nfp_text(path):
    got, bound_to = {}, {}
    fam = table = chain = None
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"^table (\S+) (\S+)", line)
        if m:
            fam, table, chain = m.group(1), m.group(2), None
            continue
        m = re.match(r"^Chain (\S+) \(", line)
        if m:
            chain = m.group(1)
            b = re.match(r"^Chain \S+ \(bound to rule (\d+) of chain (\S+), ", line)
            if b:
                bound_to[(fam, table, chain)] = (fam, table, b.group(2), int(b.group(1)))
            continue
        m = re.match(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\d+)(?:  (.*))?$", line)
        if m and chain:
            got[(fam, table, chain, int(m.group(4)))] = m.group(5) or ""
    return got, bound_to


def show(k):
    return "%s %s %s #%s" % k


def main():
    nfp, comments, dups, bindings, byposition = nfp_json(sys.argv[1])
    plain, bound_to = nfp_text(sys.argv[2])
    want, multiline, inner = nft_rules(sys.argv[3])
    bad = ["rule listed twice by nfpilot: %s" % show(k) for k in dups]
    bound = sorted({k[:3] for k in nfp if k[2].startswith("__chain")})
    for fam, table, chain in bound:
        bad.append("%s %s %s: a bound chain listed as an ordinary chain (nft folds it "
                   "into the rule that binds it)" % (fam, table, chain))
    for b, texts in sorted(bindings.items()):
        parent = byposition.get(bound_to.get(b, ()))
        if not parent:
            bad.append("%s %s %s: a bound chain that names no rule bound to it" % b)
        elif texts != [x.strip() for x in inner.get(parent, [])]:
            bad.append("%s %s %s: the bound chain's rules %r; nft's block of %s: %r" % (
                b + (texts, show(parent), inner.get(parent))))
    for k in sorted(set(want) | set(nfp), key=str):
        if k not in nfp:
            bad.append("%s: missing in nfpilot; nft: %r" % (show(k), want[k]))
        elif k not in want:
            bad.append("%s: not listed by nft; nfpilot: %r" % (show(k), nfp[k]))
        elif not nfp[k]:
            bad.append("%s: nfpilot has no text; nft%s: %r" % (
                show(k), " (on several lines, folded)" if k in multiline else "", want[k]))
        elif nfp[k] != want[k].strip():
            bad.append("%s: nfpilot %r; nft%s %r" % (
                show(k), nfp[k], " (on several lines, folded)" if k in multiline else "",
                want[k]))
    for k in sorted(nfp, key=str):
        # an iptables comment (xt match, which nft prints as nothing) is
        # shown after the text in the plain listing
        shown = [nfp[k]] + (["%s  /* %s */" % (nfp[k], comments[k])] if k in comments else [])
        if nfp[k] and plain.get(k) not in shown:
            bad.append("%s: plain listing %r, JSON %r" % (show(k), plain.get(k), nfp[k]))
    if bad:
        print("\n".join(bad))
        return 1
    print("%d rules%s" % (len(want), ", %d on several lines in nft" % len(multiline)
                         if multiline else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
