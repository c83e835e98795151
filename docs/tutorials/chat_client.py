#!/usr/bin/env python3
"""The classic socket tutorial's chat client, lock-step: print what the server sent, then read one line to send.

It ends when it receives %end%, the tutorial's end marker, which EchoHost sends as the last line of every session
(after "*** Goodbye" when you type %end% or /quit). Use it with a chat listener that has "Greeting": "Minimal", so the
server greets with one line and the client and another user can take turns line by line.

    python3 chat_client.py [HOST [PORT]]      (default 127.0.0.1 65433, EchoHost's Chat listener)
"""
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 65433
END = "%end%"


def receive(sock, pending):
    """Waits for at least one whole line; returns the lines that came and what is left of a line still coming."""
    while b"\n" not in pending:
        data = sock.recv(1024)
        if not data:
            return None, pending
        pending += data
    *lines, rest = pending.split(b"\n")
    return [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines], rest


def main():
    prompt = "-> " if sys.stdin.isatty() else ""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect((HOST, PORT))
        pending = b""
        while True:
            lines, pending = receive(sock, pending)
            if lines is None:
                print("(the server closed the connection)")
                return 1
            for line in lines:
                if line == END:
                    return 0
                print(line, flush=True)
            try:
                message = input(prompt)
            except EOFError:
                # No more input: leave the tutorial's way, and wait for the server's end marker.
                message = END
            sock.sendall(message.encode("utf-8") + b"\n")


if __name__ == "__main__":
    sys.exit(main())
