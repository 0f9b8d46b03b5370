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
