# echo_server.py ADDR PORT LOG: a TCP echo server (tests/lib.sh: echo_server)
# that logs "closed PEERPORT why" when a connection ends.
import errno, socket, sys, threading
addr, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "a", buffering=1)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
def serve(c, peer):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                log.write("closed %d eof\n" % peer[1])
                return
            c.sendall(d)
    except OSError as e:
        log.write("closed %d %s\n" % (peer[1], errno.errorcode.get(e.errno, e.errno)))
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
