#!/usr/bin/env python3
"""Write an nft script for a benchmark fixture to stdout.

usage: gen.py TABLE CHAINS RULES_PER_CHAIN

Table `inet TABLE`; one chain is named `big` (a base chain, hook input) when
CHAINS is 1, otherwise the chains are regular chains c000, c001, ...
Rules: ip saddr 10.x.y.z tcp dport N counter accept comment "rN".
"""
import sys


def main():
    table, chains, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w = sys.stdout.write
    w("table inet %s {\n" % table)
    n = 0
    for c in range(chains):
        if chains == 1:
            w("\tchain big {\n\t\ttype filter hook input priority 0; policy accept;\n")
        else:
            w("\tchain c%03d {\n" % c)
        lines = []
        for _ in range(per):
            lines.append('\t\tip saddr 10.%d.%d.%d tcp dport %d counter accept comment "r%d"\n'
                         % ((n >> 16) & 255, (n >> 8) & 255, n & 255, 1 + n % 65535, n))
            n += 1
        w("".join(lines))
        w("\t}\n")
    w("}\n")


if __name__ == "__main__":
    main()
