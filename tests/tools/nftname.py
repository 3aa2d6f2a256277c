#!/usr/bin/env python3
"""nftname.py [--own|--delete] FAMILY TABLE [CHAIN...]: make a table (and
chains) whose names nft's parser would never take -- ESC, BEL, bidi
controls -- straight through nf_tables netlink, as a hostile program could.
--own: the table is owned by this process (the owner flag: nobody else may
change it; the kernel deletes it when the process ends), which prints
"ready" and holds it until its stdin closes. --delete: delete that table.
Run it inside a test namespace (ip netns exec). Names are given with byte escapes, e.g.
'ev\\x1b[31m\\x07\\xe2\\x80\\xaeil' (ESC, BEL, U+202E in UTF-8) or '\\x9b'
(a lone CSI byte). Exit 0 when the kernel took the batch."""
import codecs
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 16
NFNL_MSG_BATCH_END = 17
NFT_MSG_NEWTABLE = 0
NFT_MSG_DELTABLE = 2
NFT_MSG_NEWCHAIN = 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 0x1, 0x4, 0x400
NLMSG_ERROR = 2
NFTA_TABLE_NAME = 1
NFTA_TABLE_FLAGS = 2
NFT_TABLE_F_OWNER = 2
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME = 1, 3
FAMILIES = {"ip": 2, "ip6": 10, "inet": 1, "arp": 3, "bridge": 7, "netdev": 5}


def attr(kind, data):
    n = 4 + len(data)
    return struct.pack("HH", n, kind) + data + b"\0" * ((4 - n % 4) % 4)


def msg(kind, flags, seq, family, payload, res_id=0):
    body = struct.pack("!BBH", family, 0, res_id) + payload
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def name(arg):
    return codecs.escape_decode(arg.encode())[0] + b"\0"


def main():
    args = sys.argv[1:]
    own = delete = False
    while args and args[0] in ("--own", "--delete"):
        own = own or args[0] == "--own"
        delete = delete or args[0] == "--delete"
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    fam = FAMILIES[args[0]]
    table = name(args[1])
    seq = 1
    parts = [msg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, 0, b"", NFNL_SUBSYS_NFTABLES)]
    seq += 1
    tattrs = attr(NFTA_TABLE_NAME, table)
    if own:
        tattrs += attr(NFTA_TABLE_FLAGS, struct.pack("!I", NFT_TABLE_F_OWNER))
    parts.append(msg(NFNL_SUBSYS_NFTABLES << 8 | (NFT_MSG_DELTABLE if delete else NFT_MSG_NEWTABLE),
                     NLM_F_REQUEST | NLM_F_ACK | (0 if delete else NLM_F_CREATE), seq, fam,
                     tattrs))
    for chain in ([] if delete else args[2:]):
        seq += 1
        parts.append(msg(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN,
                         NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, seq, fam,
                         attr(NFTA_CHAIN_TABLE, table) + attr(NFTA_CHAIN_NAME, name(chain))))
    last = seq
    seq += 1
    parts.append(msg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, 0, b"", NFNL_SUBSYS_NFTABLES))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.send(b"".join(parts))
    s.settimeout(2)
    acked = 0
    while acked < last - 1:
        data = s.recv(65536)
        off = 0
        while off < len(data):
            n, kind = struct.unpack_from("=IH", data, off)
            if kind == NLMSG_ERROR:
                err = struct.unpack_from("=i", data, off + 16)[0]
                if err:
                    sys.exit("nftname: the kernel refused: %s" % os.strerror(-err))
                acked += 1
            off += (n + 3) & ~3
    if own:
        print("ready", flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    main()
