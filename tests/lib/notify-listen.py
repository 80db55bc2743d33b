#!/usr/bin/env python3
# tests/lib/notify-listen.py: the service manager's end of sd_notify(3),
# for tests: binds a Unix datagram socket at PATH (argv[1]), prints
# "listening" once bound, then each datagram received as one JSON line
# (a list of its NAME=VALUE lines), until stdin closes or it is killed.
import json
import os
import selectors
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print("listening", flush=True)
sel = selectors.DefaultSelector()
sel.register(sock, selectors.EVENT_READ)
sel.register(sys.stdin, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is sys.stdin:
            if not sys.stdin.buffer.read1(4096):
                os.unlink(path)
                sys.exit(0)
            continue
        data = sock.recv(65536)
        lines = data.decode("utf-8", "replace").split("\n")
        print(json.dumps([line for line in lines if line]), flush=True)
