#!/usr/bin/env python3
"""The classic socket tutorial's echo client: sends "Hello, world" and prints what comes back.

    python3 echo_client.py [HOST [PORT]]      (default 127.0.0.1 65432, EchoHost's Echo listener)
"""
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 65432

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    s.sendall(b"Hello, world")
    data = s.recv(1024)

print(f"Received {data!r}")
