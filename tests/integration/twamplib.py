"""Helpers for the integration tests: real twamp-agent processes on loopback.

Standard library only. Every wait is bounded; every process started here is
killed at exit even when a test fails.
"""
import argparse
import atexit
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

_procs = []


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--agent", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--shared-dir", required=True)
    return p.parse_args()


def free_port(family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A port that is free for both TCP and UDP on loopback right now."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    for _ in range(50):
        with socket.socket(family, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(family, other) as s2:
                s2.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found")


class Proc:
    """A background process whose output goes to a temporary log file."""

    def __init__(self, args, name="proc", env=None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=name + "-", suffix=".log", delete=False)
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        _procs.append(self)

    def output(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        return self.p.returncode

    def wait(self, timeout):
        return self.p.wait(timeout)


def _cleanup():
    for pr in _procs:
        if pr.alive():
            try:
                os.killpg(pr.p.pid, signal.SIGKILL)
            except OSError:
                pass


atexit.register(_cleanup)


def wait_tcp(host, port, timeout=10.0, proc=None):
    """Waits until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise AssertionError("%s exited early:\n%s" % (proc.name, proc.output()))
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listening on %s:%d after %.0fs" % (host, port, timeout))


def run(args, timeout=60, env=None):
    """Runs a command to completion; returns CompletedProcess (text)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


def http_get(url, timeout=5.0, headers=None, method="GET", data=None):
    """Returns (status, headers dict, body bytes); HTTP errors are returned too."""
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def check(cond, msg, *context):
    """assert with context (process logs) printed on failure."""
    if not cond:
        for c in context:
            if isinstance(c, Proc):
                sys.stderr.write("---- %s output ----\n%s\n" % (c.name, c.output()))
            else:
                sys.stderr.write("%s\n" % (c,))
        raise AssertionError(msg)


def ping_json(agent, target, extra, timeout=120):
    """Runs `twamp-agent ping --json ... target`; returns (rc, dict or None, proc)."""
    cp = run([agent, "ping", "--json"] + list(extra) + [target], timeout=timeout)
    data = None
    if cp.stdout.strip():
        try:
            data = json.loads(cp.stdout)
        except ValueError:
            data = None
    return cp.returncode, data, cp


# ---- reflector processes and ping runs ----

def hostport(host, port):
    """'127.0.0.1:862' or '[::1]:862'."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def start_reflector(agent, host="127.0.0.1", extra=(), name="reflect"):
    """Starts `twamp-agent reflect --listen host:PORT` on a free port and
    waits until it accepts connections. Returns (Proc, port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = free_port(family)
    pr = Proc([agent, "reflect", "--listen", hostport(host, port)] + list(extra), name=name)
    wait_tcp(host, port, proc=pr)
    return pr, port


def describe(cp):
    """A CompletedProcess as text for failure messages."""
    return "exit %s\n---- stdout ----\n%s\n---- stderr ----\n%s" % (cp.returncode, cp.stdout, cp.stderr)


# ---- TWAMP-Control messages (control.md byte tables), for scripted peers ----

NTP_UNIX_OFFSET = 2208988800


def ntp_now():
    t = time.time()
    sec = int(t)
    return struct.pack("!II", (sec + NTP_UNIX_OFFSET) & 0xFFFFFFFF, int((t - sec) * (1 << 32)))


def msg_greeting(modes=1, count=1024):
    return bytes(12) + struct.pack("!I", modes) + os.urandom(32) + struct.pack("!I", count) + bytes(12)


def msg_setup(mode=1):
    return struct.pack("!I", mode) + bytes(160)


def msg_server_start(accept=0):
    start = ntp_now() if accept == 0 else bytes(8)
    return bytes(15) + bytes([accept]) + bytes(16) + start + bytes(8)


def msg_request(sender_port, receiver_port, sender_addr=None, receiver_addr=None, padding=27,
                timeout_s=2, dscp=0, ipvn=4, conf_sender=0):
    """Request-TW-Session; addresses are packed (4 or 16 octets) or None = zero."""
    def addr16(a):
        return (a or b"").ljust(16, b"\0")
    return (struct.pack("!BBBBII", 5, ipvn, conf_sender, 0, 0, 0)
            + struct.pack("!HH", sender_port, receiver_port)
            + addr16(sender_addr) + addr16(receiver_addr) + bytes(16)
            + struct.pack("!I", padding) + bytes(8) + struct.pack("!II", timeout_s, 0)
            + struct.pack("!I", (dscp & 0x3F) << 24) + bytes(8) + bytes(16))


def msg_accept(accept, port, sid=None):
    return struct.pack("!BBH", accept, 0, port if accept == 0 else 0) + (sid or os.urandom(16)) + bytes(28)


def msg_start():
    return bytes([2]) + bytes(31)


def msg_start_ack(accept=0):
    return bytes([accept]) + bytes(31)


def msg_stop(nsessions):
    return bytes([3, 0, 0, 0]) + struct.pack("!I", nsessions) + bytes(24)


def recv_exact(sock, n, timeout=5.0):
    """Reads exactly n octets (bounded); returns fewer only when the peer closed."""
    deadline = time.monotonic() + timeout
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %d octets (got %d)" % (n, len(buf)))
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            return buf
        if not chunk:
            return buf
        buf += chunk
    return buf


def wait_closed(sock, timeout=5.0):
    """True when the peer closes (FIN or RST) within timeout; data is discarded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def sender_packet(seq, padding=27):
    """An unauthenticated Session-Sender packet (14 octets + zero padding)."""
    return struct.pack("!I", seq) + ntp_now() + struct.pack("!H", 0x0001) + bytes(padding)
