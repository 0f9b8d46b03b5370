#!/usr/bin/env python3
"""Bad input against a real `twamp-agent reflect` while well-behaved `ping`
sessions run beside it (IPv4 and IPv6): garbage TCP streams, truncated and
out-of-state control messages, unknown commands, idle connections (closed
by SERVWAIT), a flood of connect-and-close, and garbage UDP at a session
port. The pings must lose nothing, every bad client must be answered or
closed as the protocol says, and the reflector must stay alive and keep
serving.
"""
import os
import socket
import subprocess
import sys
import threading

import twamplib as t

errors = []


def record(fn):
    """Runs fn in a thread; any exception becomes a test failure."""
    def run():
        try:
            fn()
        except Exception as e:  # collected and reported by main()
            errors.append("%s: %r" % (fn.__name__, e))
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def connect(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    return s


def open_session_control(host, port):
    """Connects and completes an unauthenticated set-up."""
    s = connect(host, port)
    g = t.recv_exact(s, 64)
    assert len(g) == 64 and int.from_bytes(g[12:16], "big") & 1, "bad greeting %r" % g
    s.sendall(t.msg_setup(1))
    ss = t.recv_exact(s, 48)
    assert len(ss) == 48 and ss[15] == 0, "Server-Start refused: %r" % ss
    return s


def main():
    a = t.parse_args()
    port = t.free_port(socket.AF_INET)
    refl = t.Proc([a.agent, "reflect", "--listen", "127.0.0.1:%d" % port, "--listen", "[::1]:%d" % port,
                   "--servwait", "1s"], name="reflect")
    t.wait_tcp("127.0.0.1", port, proc=refl)
    t.wait_tcp("::1", port, proc=refl)

    pings = {}
    for name, target in (("ipv4", "127.0.0.1:%d" % port), ("ipv6", "[::1]:%d" % port)):
        pings[name] = subprocess.Popen([a.agent, "ping", "--json", "-c", "300", "-i", "0.01", target],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def garbage_streams():
        for i in range(20):
            host = "::1" if i % 4 == 0 else "127.0.0.1"
            s = connect(host, port)
            try:
                s.sendall(os.urandom(8192))
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert t.wait_closed(s), "garbage stream %d not closed" % i
            s.close()

    def truncated_setup():
        for _ in range(5):
            s = connect("127.0.0.1", port)
            assert len(t.recv_exact(s, 64)) == 64
            s.sendall(t.msg_setup(1)[:100])
            s.close()

    def truncated_request():
        for _ in range(5):
            s = open_session_control("127.0.0.1", port)
            s.sendall(t.msg_request(5000, 0)[:50])
            s.close()

    def unknown_commands():
        for cmd in (1, 4, 6, 200):
            s = open_session_control("127.0.0.1", port)
            s.sendall(bytes([cmd]) + bytes(31))
            acc = t.recv_exact(s, 48)
            assert len(acc) == 48 and acc[0] == 3, "command %d: Accept-Session %r" % (cmd, acc)
            assert acc[2:4] == b"\0\0", "command %d: refusal suggests a port" % cmd
            assert t.wait_closed(s), "command %d: connection not closed" % cmd
            s.close()

    def out_of_state():
        s = open_session_control("127.0.0.1", port)
        s.sendall(t.msg_stop(0))            # Stop-Sessions in IDLE
        assert t.wait_closed(s), "Stop-Sessions in IDLE not closed"
        s.close()
        s = connect("127.0.0.1", port)       # a command instead of Set-Up-Response
        assert len(t.recv_exact(s, 64)) == 64
        s.sendall(t.msg_start() * 6)         # 192 octets: read as a Mode 0x02000000 set-up
        assert t.wait_closed(s), "command before set-up not closed"
        s.close()

    def idle_client():
        s = connect("127.0.0.1", port)
        assert len(t.recv_exact(s, 64)) == 64
        assert t.wait_closed(s, timeout=5), "idle connection not closed by SERVWAIT"
        s.close()

    def connect_flood():
        for i in range(50):
            s = connect("127.0.0.1", port)
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # RST
            s.close()

    def garbage_udp():
        s = open_session_control("127.0.0.1", port)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(3)
        lp = u.getsockname()[1]
        s.sendall(t.msg_request(lp, 0, socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"),
                                timeout_s=1))
        acc = t.recv_exact(s, 48)
        assert len(acc) == 48 and acc[0] == 0, "session refused: %r" % acc
        sport = int.from_bytes(acc[2:4], "big")
        s.sendall(t.msg_start())
        ack = t.recv_exact(s, 32)
        assert len(ack) == 32 and ack[0] == 0, "Start-Ack %r" % ack
        for n in range(14):
            u.sendto(os.urandom(n), ("127.0.0.1", sport))
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.1", 0))
        for _ in range(20):
            stranger.sendto(os.urandom(60), ("127.0.0.1", sport))
        stranger.close()
        u.sendto(t.sender_packet(77), ("127.0.0.1", sport))
        rep, _ = u.recvfrom(2048)
        assert len(rep) == 41, "reply length %d" % len(rep)
        assert int.from_bytes(rep[24:28], "big") == 77, "sender seq not copied"
        assert int.from_bytes(rep[0:4], "big") == 0, "first reflected packet not seq 0"
        s.sendall(t.msg_stop(1))
        s.close()
        u.close()

    threads = [record(f) for f in (garbage_streams, truncated_setup, truncated_request, unknown_commands,
                                   out_of_state, idle_client, connect_flood, garbage_udp)]
    for th in threads:
        th.join(30)
    t.check(not any(th.is_alive() for th in threads), "a bad client did not finish", refl)

    for name, p in pings.items():
        out, err = p.communicate(timeout=60)
        ctx = ("ping %s exit %s\nstdout:\n%s\nstderr:\n%s" % (name, p.returncode, out, err), refl)
        t.check(p.returncode == 0, "ping %s exited %s" % (name, p.returncode), *ctx)
        d = t.json.loads(out)
        t.check(d["sent"] == 300 and d["received"] == 300 and d["lost"] == 0,
                "ping %s lost packets beside the bad clients: %s" % (name, d), *ctx)
    t.check(not errors, "bad clients: %s" % errors, refl)

    t.check(refl.alive(), "the reflector died", refl)
    rc, d, cp = t.ping_json(a.agent, "127.0.0.1:%d" % port, ["-c", "20", "-i", "0.005"])
    t.check(rc == 0 and d and d["lost"] == 0, "the reflector no longer serves", t.describe(cp), refl)
    log = refl.output()
    for needle in ("reason=protocol_error", "reason=servwait", "reason=mode"):
        t.check(needle in log, "reflector log lacks %r" % needle, refl)
    t.check(refl.stop() == 0, "reflector exit status on SIGTERM", refl)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
