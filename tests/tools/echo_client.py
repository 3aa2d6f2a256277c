# echo_client.py HOST PORT N DIR: N connections that each get an echo, their
# local ports written to DIR/ports; then for each DIR/go.K that appears, one
# more round on each connection still alive, results "PORT ok|ERROR" in
# DIR/result.K (tests/lib.sh: start_client, round).
import errno, os, socket, sys, time
host, port, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conns = []
for i in range(n):
    c = socket.create_connection((host, port), timeout=3)
    c.sendall(b"hello\n")
    if c.recv(100) != b"hello\n":
        sys.exit("no echo")
    conns.append([c, c.getsockname()[1], True])
open(d + "/ports.tmp", "w").write("".join("%d\n" % p for _, p, _ in conns))
os.rename(d + "/ports.tmp", d + "/ports")
k = 1
deadline = time.time() + 300
while time.time() < deadline:
    if not os.path.exists("%s/go.%d" % (d, k)):
        time.sleep(0.05)
        continue
    out = []
    for rec in conns:
        c, p, alive = rec
        if not alive:
            out.append("%d dead" % p)
            continue
        try:
            c.sendall(b"again\n")
            r = c.recv(100)
            res = "ok" if r == b"again\n" else ("eof" if not r else "bad")
        except OSError as e:
            res = errno.errorcode.get(e.errno, str(e.errno))
        if res != "ok":
            rec[2] = False
        out.append("%d %s" % (p, res))
    open("%s/result.%d.tmp" % (d, k), "w").write("\n".join(out) + "\n")
    os.rename("%s/result.%d.tmp" % (d, k), "%s/result.%d" % (d, k))
    k += 1
