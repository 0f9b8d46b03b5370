#!/usr/bin/env python3
"""deploy_notify: the agent speaks the sd_notify protocol itself (Type=notify).

A datagram socket stands in for systemd: with $NOTIFY_SOCKET set, the agent
must send READY=1 once /-/ready answers 200, RELOADING=1 (with
MONOTONIC_USEC) then READY=1 around a SIGHUP reload (also a rejected one),
and STOPPING=1 on SIGTERM; for a filesystem path and for an abstract
("@name") socket. A malformed $NOTIFY_SOCKET must not stop it from running.
"""
import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

CONFIG = """
reflector:
  listen: ["127.0.0.1:{refl}"]
defaults:
  interval: 100ms
targets:
  - name: self
    host: 127.0.0.1
    port: {refl}
"""


def write_config(path, refl_port):
    with open(path, "w") as f:
        f.write(CONFIG.format(refl=refl_port))


def recv_state(sock, timeout, proc):
    """One notification as a dict of its VAR=VALUE lines."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        tl.check(False, "no notification within %.0fs" % timeout, proc)
    out = {}
    for line in data.decode().split("\n"):
        key, _, value = line.partition("=")
        tl.check(key and _ == "=", "malformed notification %r" % data, proc)
        out[key] = value
    return out


def start_agent(args, cfg, notify_socket):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify_socket is not None:
        env["NOTIFY_SOCKET"] = notify_socket
    web = tl.free_port()
    pr = tl.Proc([args.agent, "run", "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % web],
                 name="agent", env=env)
    return pr, web


def lifecycle(args, tmp, sock, address):
    """READY, reload (good and rejected), STOPPING on one socket."""
    cfg = os.path.join(tmp, "agent.yml")
    write_config(cfg, tl.free_port())
    pr, web = start_agent(args, cfg, address)
    st = recv_state(sock, 15, pr)
    tl.check(st == {"READY": "1"}, "first notification is not READY=1: %r" % st, pr)
    status, _, _ = tl.http_get("http://127.0.0.1:%d/-/ready" % web)
    tl.check(status == 200, "READY=1 sent before /-/ready answers 200 (got %d)" % status, pr)

    pr.signal(signal.SIGHUP)
    st = recv_state(sock, 10, pr)
    tl.check(st.get("RELOADING") == "1", "SIGHUP: expected RELOADING=1, got %r" % st, pr)
    usec = int(st.get("MONOTONIC_USEC", "-1"))
    now = time.monotonic() * 1e6
    tl.check(abs(now - usec) < 60e6, "MONOTONIC_USEC %d is not CLOCK_MONOTONIC (%d)" % (usec, now), pr)
    st = recv_state(sock, 10, pr)
    tl.check(st == {"READY": "1"}, "after the reload: expected READY=1, got %r" % st, pr)

    with open(cfg, "w") as f:
        f.write("targets: [{name: x}]\n")  # no host: rejected
    pr.signal(signal.SIGHUP)
    st = recv_state(sock, 10, pr)
    tl.check(st.get("RELOADING") == "1", "rejected reload: expected RELOADING=1, got %r" % st, pr)
    st = recv_state(sock, 10, pr)
    tl.check(st == {"READY": "1"}, "rejected reload: expected READY=1 (old config runs), got %r" % st, pr)
    tl.check(pr.alive(), "agent died after a rejected reload", pr)

    pr.p.send_signal(signal.SIGTERM)
    st = recv_state(sock, 10, pr)
    tl.check(st == {"STOPPING": "1"}, "SIGTERM: expected STOPPING=1, got %r" % st, pr)
    rc = pr.wait(10)
    tl.check(rc == 0, "exit status %s after SIGTERM" % rc, pr)


def path_socket(args, tmp):
    path = os.path.join(tmp, "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        lifecycle(args, tmp, sock, path)


def abstract_socket(args, tmp):
    name = "twamp-notify-test-%d-%s" % (os.getpid(), os.urandom(4).hex())
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        lifecycle(args, tmp, sock, "@" + name)


def bad_socket(args, tmp):
    """A relative path (invalid) or a socket nobody listens on: runs anyway."""
    cfg = os.path.join(tmp, "agent.yml")
    for bad in ("relative/notify.sock", os.path.join(tmp, "nobody.sock")):
        write_config(cfg, tl.free_port())
        pr, web = start_agent(args, cfg, bad)
        tl.wait_http_ok(web, "/-/ready", 15, "/-/ready with NOTIFY_SOCKET=%s" % bad, pr)
        rc = pr.stop()
        tl.check(rc == 0, "exit status %s with NOTIFY_SOCKET=%s" % (rc, bad), pr)


def main():
    args = tl.parse_args()
    with tempfile.TemporaryDirectory(prefix="deploy-notify-") as tmp:
        path_socket(args, tmp)
        abstract_socket(args, tmp)
        bad_socket(args, tmp)
    print("deploy_notify: OK")


if __name__ == "__main__":
    main()
