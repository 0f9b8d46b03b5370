#!/usr/bin/env python3
"""Exit statuses and messages of `twamp-agent ping` (documented in ping.h
and --help): 0 replies, 1 every packet lost, 2 bad command line, 3 network
failure, 4 refused by the server. Refusals come from the real reflector
(--max-connections, --allow) and from a scripted TWAMP server written here
that misbehaves deterministically (never reflects, refuses a step, stays
silent, hangs up).
"""
import socket
import struct
import sys
import threading

import twamplib as t


class FakeServer:
    """A TWAMP server on 127.0.0.1 that serves one control connection by a
    script: how far it goes and what it answers at each step."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.udp = None
        self.request = None
        self.datagrams = []
        self.log = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.lsock.settimeout(20)
            conn, _ = self.lsock.accept()
            with conn:
                self._serve(conn)
        except Exception as e:  # reported by the test, never swallowed
            self.error = repr(e)

    def _serve(self, c):
        b = self.behaviour
        if b == "silent":
            t.wait_closed(c, timeout=20)
            return
        c.sendall(t.msg_greeting(modes=0 if b == "modes0" else 1))
        if b == "hangup_after_greeting":
            return
        setup = t.recv_exact(c, 164, timeout=10)
        if len(setup) < 164:
            self.log.append("closed before set-up")
            return
        self.log.append("setup mode %d" % int.from_bytes(setup[:4], "big"))
        c.sendall(t.msg_server_start(accept=1 if b == "server_start_refused" else 0))
        req = t.recv_exact(c, 112, timeout=10)
        if len(req) < 112:
            self.log.append("closed before request")
            return
        self.log.append("request cmd %d" % req[0])
        self.request = req
        if b == "session_refused":
            c.sendall(t.msg_accept(4, 0))
            t.wait_closed(c, timeout=10)
            return
        # a UDP port that exists but never answers: every packet is lost
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        c.sendall(t.msg_accept(0, self.udp.getsockname()[1]))
        start = t.recv_exact(c, 32, timeout=10)
        if len(start) < 32:
            self.log.append("closed before start")
            return
        self.log.append("start cmd %d" % start[0])
        c.sendall(t.msg_start_ack(accept=2 if b == "start_refused" else 0))
        stop = t.recv_exact(c, 32, timeout=20)
        self.udp.settimeout(0)
        try:
            while len(self.datagrams) < 1000:
                self.datagrams.append(self.udp.recv(65536))
        except OSError:
            pass
        if len(stop) == 32:
            self.log.append("stop cmd %d sessions %d" % (stop[0], int.from_bytes(stop[4:8], "big")))
        t.wait_closed(c, timeout=10)

    def finish(self):
        self.thread.join(25)
        self.lsock.close()
        if self.udp:
            self.udp.close()
        return self.error


def expect(args, rc, needles, *context, timeout=60, stdout_needles=()):
    cp = t.run([A.agent] + args, timeout=timeout)
    ctx = (t.describe(cp),) + context
    t.check(cp.returncode == rc, "%s: exit %s, want %d" % (" ".join(args), cp.returncode, rc), *ctx)
    for n in needles:
        t.check(n in cp.stderr, "%s: stderr lacks %r" % (" ".join(args), n), *ctx)
    for n in stdout_needles:
        t.check(n in cp.stdout, "%s: stdout lacks %r" % (" ".join(args), n), *ctx)
    return cp


def bad_arguments():
    cases = [
        (["-c", "x", "127.0.0.1"], ["-c 'x'", "expected an integer"]),
        (["-c", "0", "127.0.0.1"], ["-c '0'", "expected"]),
        (["-D", "99", "127.0.0.1"], ["-D '99'", "expected a DSCP 0-63"]),
        (["-D", "EFF", "127.0.0.1"], ["-D 'EFF'", "expected a DSCP"]),
        (["-i", "-1", "127.0.0.1"], ["-i '-1'", "expected"]),
        (["-i", "abc", "127.0.0.1"], ["-i 'abc'", "expected"]),
        (["-s", "-3", "127.0.0.1"], ["-s '-3'", "expected"]),
        (["-s", "9169", "127.0.0.1"], ["-s '9169'", "from 0 to 9168"]),
        ([], ["missing HOST"]),
        (["[::1"], ["'[::1'", "expected"]),
        (["[::1]:99999"], ["'[::1]:99999'", "expected"]),
        (["--bogus", "127.0.0.1"], ["unknown option '--bogus'"]),
        (["127.0.0.1", "127.0.0.2"], ["more than one HOST"]),
        (["127.0.0.1", "-c"], ["'-c' needs a value"]),
    ]
    for args, needles in cases:
        cp = expect(["ping"] + args, 2, needles)
        t.check(cp.stdout == "", "ping %s printed on stdout" % args, t.describe(cp))
    expect(["bogus-command"], 2, ["unknown command 'bogus-command'"])
    expect(["reflect", "--listen", "[::1"], 2, ["--listen '[::1'"])
    expect(["reflect", "--max-connections", "0"], 2, ["--max-connections '0'", "expected"])


def help_and_version():
    expect(["--help"], 0, [], stdout_needles=["usage: twamp-agent", "ping", "reflect"])
    expect(["--version"], 0, [], stdout_needles=["twamp-agent "])
    expect(["ping", "--help"], 0, [], stdout_needles=["usage: twamp-agent ping", "exit status"])
    expect(["ping", "-h"], 0, [], stdout_needles=["usage: twamp-agent ping"])
    expect(["reflect", "--help"], 0, [], stdout_needles=["usage: twamp-agent reflect"])


def network_failures():
    port = t.free_port()  # nothing listens: connection refused
    expect(["ping", "-c", "1", "127.0.0.1:%d" % port], 3, ["refused"])
    port6 = t.free_port(socket.AF_INET6)
    expect(["ping", "-c", "1", "[::1]:%d" % port6], 3, ["refused"])
    expect(["ping", "-c", "1", "no-such-host.invalid"], 3, ["cannot resolve 'no-such-host.invalid'"])
    # a server that accepts TCP and never says anything
    fs = FakeServer("silent")
    expect(["ping", "-c", "1", "--connect-timeout", "0.5", "127.0.0.1:%d" % fs.port], 3, ["timeout"])
    t.check(fs.finish() is None, "fake server error: %s" % fs.error)
    # a server that hangs up after its greeting
    fs = FakeServer("hangup_after_greeting")
    expect(["ping", "-c", "1", "127.0.0.1:%d" % fs.port], 3, ["closed"])
    t.check(fs.finish() is None, "fake server error: %s" % fs.error)


def scripted_refusals():
    for behaviour, needle in (("modes0", "Modes 0"),
                              ("server_start_refused", "Server-Start Accept 1"),
                              ("session_refused", "Accept 4"),
                              ("start_refused", "Start-Ack")):
        fs = FakeServer(behaviour)
        expect(["ping", "-c", "3", "-i", "0.01", "127.0.0.1:%d" % fs.port], 4, [needle], fs.log)
        t.check(fs.finish() is None, "%s: fake server error: %s" % (behaviour, fs.error))


def check_request(req, padding, timeout_ns):
    """ping's Request-TW-Session: fields that must be zero are zero, real
    addresses, our own port asked for as the receiver port (like twping)."""
    t.check(req is not None and len(req) == 112, "no request recorded")
    f = struct.unpack("!BBBBIIHH16s16s16sI8sII4s8s16s", req)
    cmd, ipvn, conf_s, conf_r, slots, packets, sport, rport, saddr, raddr, sid, pad, start, tsec, tfrac, typep, \
        mbz, hmac = f
    t.check(cmd == 5 and ipvn == 4, "command/IPVN %d/%d" % (cmd, ipvn))
    t.check(conf_s == 0 and conf_r == 0 and slots == 0 and packets == 0, "non-zero must-be-zero fields: %s" % (f,))
    t.check(sid == bytes(16) and hmac == bytes(16) and mbz == bytes(8), "SID/HMAC/MBZ not zero")
    t.check(saddr == socket.inet_aton("127.0.0.1") + bytes(12), "Sender Address %r" % saddr)
    t.check(raddr == socket.inet_aton("127.0.0.1") + bytes(12), "Receiver Address %r" % raddr)
    t.check(sport != 0 and rport == sport, "ports %d/%d" % (sport, rport))
    t.check(pad == padding, "Padding Length %d" % pad)
    t.check(typep == bytes(4), "Type-P %r" % typep)
    t.check(tsec * 10**9 + (tfrac * 10**9 >> 32) in range(timeout_ns - 2, timeout_ns + 2),
            "Timeout %d.%08x" % (tsec, tfrac))


def all_lost():
    fs = FakeServer("never_reflect")
    cp = expect(["ping", "--json", "-c", "5", "-i", "0.01", "-L", "0.3", "127.0.0.1:%d" % fs.port], 1, [],
                fs.log)
    d = t.json.loads(cp.stdout)
    t.check(d["sent"] == 5 and d["received"] == 0 and d["lost"] == 5 and d["rtt"] is None,
            "all-lost summary wrong: %s" % d, t.describe(cp))
    t.check(fs.finish() is None, "fake server error: %s" % fs.error)
    # the control conversation ran to the end with the true session count
    t.check("stop cmd 3 sessions 1" in fs.log, "no Stop-Sessions with count 1: %s" % fs.log)
    check_request(fs.request, padding=27, timeout_ns=300000000)
    # every packet went to the port Accept-Session returned, 14 + 27 octets,
    # numbered from 0
    seqs = [int.from_bytes(p[:4], "big") for p in fs.datagrams]
    t.check(seqs == list(range(5)), "packets at the granted port: seqs %s" % seqs)
    t.check(all(len(p) == 41 for p in fs.datagrams), "sender packet sizes %s" % [len(p) for p in fs.datagrams])
    t.check(all(p[13] != 0 for p in fs.datagrams), "Error Estimate multiplier 0 in a sender packet")
    # the text form says so too and still exits 1
    fs = FakeServer("never_reflect")
    cp = expect(["ping", "-c", "2", "-i", "0.01", "-L", "0.2", "127.0.0.1:%d" % fs.port], 1, [], fs.log,
                stdout_needles=["2 sent, 0 received, 2 lost (100.000%)"])
    t.check(fs.finish() is None, "fake server error: %s" % fs.error)


def reflector_refusals():
    # the only control connection slot is taken
    refl, port = t.start_reflector(A.agent, "127.0.0.1", ["--max-connections", "1"])
    holder = None
    for _ in range(100):  # wait_tcp's probe may still hold the slot for a moment
        holder = socket.create_connection(("127.0.0.1", port), timeout=5)
        g = t.recv_exact(holder, 64)
        if int.from_bytes(g[12:16], "big") != 0:
            break
        holder.close()
        holder = None
        t.time.sleep(0.02)
    t.check(holder is not None, "could not take the single connection slot", refl)
    expect(["ping", "-c", "1", "127.0.0.1:%d" % port], 4, ["Modes 0"], refl)
    holder.close()
    t.check("reason=connection_limit" in refl.output(), "no connection-limit log line", refl)
    # with the slot free again the same reflector serves
    ok = False
    for _ in range(100):
        cp = t.run([A.agent, "ping", "-c", "2", "-i", "0.01", "127.0.0.1:%d" % port], timeout=30)
        if cp.returncode == 0:
            ok = True
            break
        t.time.sleep(0.02)
    t.check(ok, "reflector did not serve after the slot was freed", t.describe(cp), refl)
    refl.stop()
    # the allow list excludes loopback
    refl, port = t.start_reflector(A.agent, "127.0.0.1", ["--allow", "10.0.0.0/8", "--allow", "2001:db8::/32"])
    expect(["ping", "-c", "1", "127.0.0.1:%d" % port], 4, ["refused", "Modes 0"], refl)
    t.check("reason=not_allowed" in refl.output(), "no not-allowed log line", refl)
    t.check(refl.alive(), "reflector died", refl)
    refl.stop()


def main():
    global A
    A = t.parse_args()
    bad_arguments()
    help_and_version()
    network_failures()
    scripted_refusals()
    all_lost()
    reflector_refusals()
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
