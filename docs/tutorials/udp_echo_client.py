#!/usr/bin/env python3
"""The classic socket tutorial's UDP echo client: sends one datagram and prints the answer.

    python3 udp_echo_client.py [HOST [PORT]]  (default 127.0.0.1 65400, EchoHost's UdpEcho listener)
"""
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 65400

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    # UDP may lose the datagram: wait a few seconds, not for ever.
    s.settimeout(5)
    s.sendto(b"Hello, UDP", (HOST, PORT))
    data, server = s.recvfrom(65535)

print(f"Received {data!r} from {server[0]}:{server[1]}")
