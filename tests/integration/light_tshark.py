#!/usr/bin/env python3
"""Wireshark decodes our TWAMP Light (and STAMP) test packets as TWAMP-Test.

`reflect --light-port A --stamp-port B` and `ping --light`/`--stamp` on
loopback (IPv4 and IPv6) while tshark captures UDP A and B: 14-octet
sender packets answered with 41 octets, 41 -> 41, 78 -> 78 (padded), DSCP
EF on IPv6, a Light sender at the STAMP port (14 -> 44) and STAMP
packets (44 -> 44). Decoded with `-d udp.port==A,twamp.test -d
udp.port==B,twamp.test`: every UDP frame is TWAMP-Test, nothing is
malformed and no TWAMP expert warning is raised (a 5-octet canary on a port
of its own proves the check is live); the payload sizes are exactly the
expected ones; every Light reply says Sender TTL 255 and has a non-zero
Error Estimate multiplier; the EF session carries Traffic Class 0xb8 both
ways (the Light reflector copies the DSCP).

Exit 77 (ctest SKIP_RETURN_CODE) only when tshark is not installed or the
capture is not permitted.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import twamplib as t

SKIP = 77
COUNT = 5
FIELDS = ["frame.number", "frame.protocols", "udp.srcport", "udp.dstport", "udp.length", "ipv6.tclass",
          "twamp.test.sender_ttl", "twamp.test.error_estimate.multiplier"]


def decode(pcap, ports, canary, extra):
    args = ["tshark", "-r", pcap] + sum((["-d", "udp.port==%d,twamp.test" % p] for p in ports + [canary]), []) + extra
    cp = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if cp.returncode != 0:
        raise AssertionError("tshark -r failed:\n%s" % t.describe(cp))
    return cp.stdout


def rows(text):
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        out.append(dict(zip(FIELDS, cols)))
    return out


def main():
    a = t.parse_args()
    if shutil.which("tshark") is None:
        print("tshark is not installed: skipped")
        return SKIP
    canary = t.free_port(socket.AF_INET, socket.SOCK_DGRAM)
    tmp = tempfile.mkdtemp(prefix="tw-lighttshark-")
    os.chmod(tmp, 0o777)  # dumpcap may drop privileges before writing
    pcap = os.path.join(tmp, "light.pcapng")
    refl, _, (light,), (stamp,) = t.start_udp_reflector_free(a.agent, name="reflect")
    cap = t.start_capture(pcap, "udp port %d or udp port %d or udp port %d" % (light, stamp, canary))
    if cap is None:
        refl.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        return SKIP
    sessions = [
        (t.hostport("127.0.0.1", light), ["--light", "-s", "0"], 14, 41),
        (t.hostport("127.0.0.1", light), ["--light"], 41, 41),
        (t.hostport("::1", light), ["--light", "-s", "64"], 78, 78),
        (t.hostport("::1", light), ["--light", "-s", "0", "-D", "EF"], 14, 41),
        (t.hostport("127.0.0.1", stamp), ["--light", "-s", "0"], 14, 44),
        (t.hostport("::1", stamp), ["--stamp"], 44, 44),
    ]
    for target, extra, _, _ in sessions:
        cp = t.run([a.agent, "ping", "-c", str(COUNT), "-i", "10ms"] + extra + [target], timeout=60)
        t.check(cp.returncode == 0, "ping %s %s failed" % (extra, target), t.describe(cp), refl)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x01\x02\x03\x04", ("127.0.0.1", canary))
    t.stop_capture(cap)
    t.check(refl.stop() == 0, "reflector exit status", refl)
    t.check(os.path.exists(pcap) and os.path.getsize(pcap) > 0, "no capture file", cap)

    ports = [light, stamp]
    fields = sum((["-e", f] for f in FIELDS), [])
    bad = rows(decode(pcap, ports, canary, ["-Y", "_ws.malformed", "-T", "fields"] + fields))
    t.check(sorted({r["udp.dstport"] for r in bad}) == [str(canary)],
            "malformed frames other than the canary: %s" % bad, cap)
    warn = decode(pcap, ports, canary, ["-q", "-z", "expert,warn,!(udp.port==%d)" % canary])
    for line in warn.splitlines():
        t.check("TWAMP" not in line.upper() and "Malformed" not in line, "expert warning: %s" % line, warn)
    canary_warn = decode(pcap, ports, canary, ["-q", "-z", "expert,warn,udp.port==%d" % canary])
    t.check("Malformed" in canary_warn, "the expert check misses a malformed packet", canary_warn)

    udp = [r for r in rows(decode(pcap, ports, canary, ["-T", "fields"] + fields))
           if r["udp.length"] and r["udp.dstport"] != str(canary)]
    t.check(len(udp) == 2 * COUNT * len(sessions), "%d UDP frames, want %d" % (len(udp), 2 * COUNT * len(sessions)))
    for r in udp:
        t.check(r["frame.protocols"].endswith("udp:twamp.test"), "not decoded as TWAMP-Test: %s" % r)
    sizes = {}
    for r in udp:
        side = "reply" if int(r["udp.srcport"]) in ports else "request"
        sizes.setdefault(side, []).append(int(r["udp.length"]) - 8)
    want_req = sorted(x[2] for x in sessions for _ in range(COUNT))
    want_rep = sorted(x[3] for x in sessions for _ in range(COUNT))
    t.check(sorted(sizes["request"]) == want_req and sorted(sizes["reply"]) == want_rep,
            "sizes %s, want requests %s replies %s" % (sizes, sorted(set(want_req)), sorted(set(want_rep))))
    for r in udp:
        if int(r["udp.srcport"]) == light:
            t.check(r["twamp.test.sender_ttl"] == "255", "Sender TTL: %s" % r)
            t.check(r["twamp.test.error_estimate.multiplier"] not in ("", "0"), "multiplier 0: %s" % r)
    ef = [r for r in udp if r["ipv6.tclass"] == "0x000000b8"]
    t.check(len(ef) == 2 * COUNT, "%d IPv6 packets with Traffic Class 0xb8 (EF), want %d both ways"
            % (len(ef), 2 * COUNT), [r["ipv6.tclass"] for r in udp])
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok: %d TWAMP Light/STAMP test packets decoded as TWAMP-Test" % len(udp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
