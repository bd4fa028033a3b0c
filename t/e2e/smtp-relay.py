#!/usr/bin/env python3
# smtp-relay.py PORT TARGET_PORT [die-after-first]: a TCP relay on
# 127.0.0.1:PORT to 127.0.0.1:TARGET_PORT for the reinjection tests.
# With die-after-first it stands for a reinjection listener that dies in
# the middle of a run: once the target's first "250 ... queued as" reply
# has been relayed, it closes every connection and exits.
import os, socket, sys, threading

port, target = int(sys.argv[1]), int(sys.argv[2])
die = len(sys.argv) > 3 and sys.argv[3] == "die-after-first"

def pump(src, dst, watch):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if watch and die and b"queued as" in data:
                os._exit(0)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(16)
while True:
    c, _ = ls.accept()
    t = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(c, t, False), daemon=True).start()
    threading.Thread(target=pump, args=(t, c, True), daemon=True).start()
