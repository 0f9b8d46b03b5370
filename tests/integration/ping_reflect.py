#!/usr/bin/env python3
"""`twamp-agent ping` against `twamp-agent reflect` as real processes on
127.0.0.1 and ::1: 1000 packets at 10 ms with no loss (the issue's "done
when"), the text summary, DSCP EF, 14-octet packets, 64 octets of padding
and a Poisson schedule.
"""
import subprocess
import sys

import twamplib as t


def check_summary(d, count, where, *context):
    t.check(d is not None, "%s: no JSON object on stdout" % where, *context)
    t.check(d["sent"] == count, "%s: sent %s, want %d" % (where, d["sent"], count), *context)
    t.check(d["received"] == count, "%s: received %s, want %d" % (where, d["received"], count), *context)
    t.check(d["lost"] == 0, "%s: lost %s" % (where, d["lost"]), *context)
    t.check(d["duplicates"] == {"forward": 0, "backward": 0}, "%s: duplicates %s" % (where, d["duplicates"]),
            *context)
    r = d["rtt"]
    t.check(r is not None and 0 <= r["min"] <= r["p50"] <= r["p95"] <= r["max"] < 1.0,
            "%s: rtt not ordered / not plausible: %s" % (where, r), *context)
    t.check(d["hops"] == {"forward": 0, "backward": 0}, "%s: loopback hops %s" % (where, d["hops"]), *context)


def ping_args(target, args):
    return [A.agent, "ping", "--json"] + list(args) + [target]


def main():
    global A
    A = t.parse_args()
    refl, port = t.start_reflector(A.agent, "127.0.0.1")
    refl6, port6 = t.start_reflector(A.agent, "::1", name="reflect6")
    v4 = t.hostport("127.0.0.1", port)
    v6 = t.hostport("::1", port6)

    # 1000 packets at 10 ms on both families at once (about 10 s)
    runs = {}
    for name, target in (("ipv4", v4), ("ipv6", v6)):
        runs[name] = subprocess.Popen(ping_args(target, ["-c", "1000", "-i", "0.01"]),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, p in runs.items():
        out, err = p.communicate(timeout=60)
        ctx = ("ping %s exit %s\nstdout:\n%s\nstderr:\n%s" % (name, p.returncode, out, err), refl, refl6)
        t.check(p.returncode == 0, "ping %s exited %s" % (name, p.returncode), *ctx)
        d = t.json.loads(out)
        check_summary(d, 1000, name, *ctx)
        want_mode = "unauthenticated"
        t.check(d["mode"] == want_mode and d["padding"] == 27 and d["dscp"] == 0,
                "%s: mode/padding/dscp %s/%s/%s" % (name, d["mode"], d["padding"], d["dscp"]), *ctx)

    # text output: the twping-like summary lines
    cp = t.run([A.agent, "ping", "-c", "20", "-i", "0.01", v4], timeout=60)
    ctx = (t.describe(cp), refl)
    t.check(cp.returncode == 0, "text ping exited %s" % cp.returncode, *ctx)
    for line in ("--- twamp-agent ping statistics from 127.0.0.1:",
                 "mode: unauthenticated, SID: 7f000001",
                 "20 sent, 20 received, 0 lost (0.000%)",
                 "round-trip time        min/median/p95/max = ",
                 "reflector processing   min/median/p95/max = ",
                 "jitter (RFC 3550): round-trip ",
                 "send hops = 0 (consistently)",
                 "reflect hops = 0 (consistently)"):
        t.check(line in cp.stdout, "text summary lacks %r" % line, *ctx)
    t.check(cp.stderr.strip() == "", "text ping wrote to stderr", *ctx)

    # variants, each a complete session
    variants = [
        (v4, ["-D", "EF"], {"dscp": 46, "padding": 27}),
        (v6, ["-D", "AF41"], {"dscp": 34, "padding": 27}),
        (v4, ["-s", "0"], {"padding": 0}),          # 14-octet sender packets
        (v6, ["-s", "0"], {"padding": 0}),
        (v4, ["-s", "64"], {"padding": 64}),
        (v4, ["--poisson"], {"padding": 27}),
        (v6, ["--poisson", "-s", "0", "-D", "CS1"], {"padding": 0, "dscp": 8}),
        (v4, ["--zero-padding", "-s", "100"], {"padding": 100}),
        (v6, ["-s", "9168"], {"padding": 9168}),    # the largest: 9182-octet packets
    ]
    for target, extra, want in variants:
        rc, d, cp = t.ping_json(A.agent, target, ["-c", "50", "-i", "0.005"] + extra, timeout=60)
        where = "ping %s %s" % (" ".join(extra), target)
        ctx = (t.describe(cp), refl, refl6)
        t.check(rc == 0, "%s exited %s" % (where, rc), *ctx)
        check_summary(d, 50, where, *ctx)
        for k, v in want.items():
            t.check(d[k] == v, "%s: %s = %s, want %s" % (where, k, d[k], v), *ctx)

    # Ctrl-C ends the run early: the packets in flight are waited for and
    # the summary is printed as usual
    p = subprocess.Popen(ping_args(v4, ["-c", "100000", "-i", "0.01"]), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    t.time.sleep(1.0)
    p.send_signal(t.signal.SIGINT)
    out, err = p.communicate(timeout=30)
    ctx = ("interrupted ping exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, out, err), refl)
    t.check(p.returncode == 0, "interrupted ping exited %s" % p.returncode, *ctx)
    d = t.json.loads(out)
    t.check(20 <= d["sent"] < 1000 and d["received"] == d["sent"] and d["lost"] == 0,
            "interrupted ping summary %s" % d, *ctx)

    t.check(refl.alive() and refl6.alive(), "a reflector died", refl, refl6)
    rc4, rc6 = refl.stop(), refl6.stop()
    t.check(rc4 == 0 and rc6 == 0, "reflectors exited %s/%s on SIGTERM" % (rc4, rc6), refl, refl6)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
