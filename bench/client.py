"""What the benchmarks share: a daemon on an ephemeral loopback port, a raw HTTP
client that times a job's first body byte and its end, and their Markdown output."""
import json
import os
import re
import socket
import subprocess
import time


def start_daemon(binary, *args):
    """rasterclipd on 127.0.0.1:0; returns (process, port). stderr stays readable."""
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        m = re.search(r'msg="listening" url=http://127\.0\.0\.1:(\d+)', line)
        if m:
            return proc, int(m.group(1))
    raise RuntimeError("rasterclipd did not start")


def post_job(port, job):
    """POSTs a job; returns (status, seconds to the first body byte, seconds in all,
    the de-chunked body)."""
    body = json.dumps(job).encode()
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    raw = bytearray()
    first = None
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        raw += chunk
        if first is None:
            _, sep, rest = bytes(raw).partition(b"\r\n\r\n")
            size_end = rest.find(b"\r\n")
            if sep and size_end >= 0 and len(rest) > size_end + 2:
                first = time.monotonic() - start
    total = time.monotonic() - start
    sock.close()
    head, _, rest = bytes(raw).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    clip = bytearray()
    while status == 200 and rest:
        line, _, rest = rest.partition(b"\r\n")
        n = int(line.split(b";")[0], 16)
        if n == 0:
            break
        clip += rest[:n]
        rest = rest[n + 2:]
    return status, first, total, bytes(clip)


def write_markdown(name, lines):
    """Writes bench/NAME from `lines` and prints it."""
    text = "\n".join(lines) + "\n"
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), "w") as f:
        f.write(text)
    print(text)
