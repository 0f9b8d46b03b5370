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
capture is not permitted, and never under tests/run-all.sh or CI
(twamplib.strict()), where either is a failure.
"""
import os
import shutil
import socket
import sys
import tempfile

import twamplib as t

COUNT = 5
FIELDS = ["frame.number", "frame.protocols", "udp.srcport", "udp.dstport", "udp.length", "ipv6.tclass",
          "twamp.test.sender_ttl", "twamp.test.error_estimate.multiplier"]


def main():
    a = t.parse_args()
    t.tool("tshark", "decoding our packets", whole=True)
    canary = t.free_port(socket.AF_INET, socket.SOCK_DGRAM)
    tmp = tempfile.mkdtemp(prefix="tw-lighttshark-")
    os.chmod(tmp, 0o777)  # dumpcap may drop privileges before writing
    pcap = os.path.join(tmp, "light.pcapng")
    refl, _, (light,), (stamp,) = t.start_udp_reflector_free(a.agent, name="reflect")
    cap = t.start_capture(pcap, "udp port %d or udp port %d or udp port %d" % (light, stamp, canary), whole=True)
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
    read = t.tshark_reader(pcap, ["udp.port==%d,twamp.test" % p for p in ports + [canary]])
    t.check_dissection(read, "!(udp.port==%d)" % canary, canary, FIELDS, cap)

    udp = [r for r in t.tshark_rows(read(t.tshark_fields(FIELDS)), FIELDS)
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
