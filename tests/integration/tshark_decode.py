#!/usr/bin/env python3
"""Wireshark's TWAMP dissectors decode our own traffic without complaint.

Captures `ping` <-> `reflect` sessions on loopback (IPv4 and IPv6; 14-,
41- and 78-octet sender packets; DSCP EF), then decodes the file with
`tshark -d tcp.port==P,twamp.control -d udp.port==A-B,twamp.test` and
asserts: every control message is recognised by name, every UDP packet
decodes as TWAMP-Test, nothing is malformed and no expert warning/error is
raised by a TWAMP dissector. A deliberately truncated 5-octet "test
packet" on a port of its own proves the malformed check is live.

Exit 77 (ctest SKIP_RETURN_CODE) only when tshark is not installed or the
capture is not permitted, and never under tests/run-all.sh or CI
(twamplib.strict()), where either is a failure.
"""
import atexit
import os
import shutil
import socket
import sys
import tempfile

import twamplib as t

CONTROL_LABELS = ["Server Greeting", "Setup Response", "Server Start, (OK)", "Request Session",
                  "Accept Session, (OK)", "Start Sessions", "Start Sessions ACK, (OK)", "Stop Session"]


def free_udp_range(n):
    """n consecutive ports free for UDP on both loopbacks (bounded search)."""
    for _ in range(100):
        base = t.free_port(socket.AF_INET, socket.SOCK_DGRAM)
        if base + n > 65535:
            continue
        try:
            for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for p in range(base, base + n):
                    with socket.socket(fam, socket.SOCK_DGRAM) as s:
                        s.bind((host, p))
            return base
        except OSError:
            continue
    raise AssertionError("no free UDP port range")


def free_tcp_both():
    """A TCP port free on 127.0.0.1 and ::1 (bounded search)."""
    for _ in range(100):
        port = t.free_port(socket.AF_INET)
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no TCP port free on both loopbacks")


FIELDS = ["frame.number", "frame.protocols", "udp.srcport", "udp.dstport", "udp.length", "ip.dsfield.dscp",
          "ipv6.tclass", "twamp.test.sender_ttl", "twamp.test.error_estimate.multiplier",
          "twamp.control.type-p", "twamp.control.sender_port", "_ws.col.Info"]


def main():
    a = t.parse_args()
    t.tool("tshark", "decoding our traffic", whole=True)
    port = free_tcp_both()
    lo = free_udp_range(16)
    hi = lo + 15
    canary = t.free_port(socket.AF_INET, socket.SOCK_DGRAM)
    tmp = tempfile.mkdtemp(prefix="tw-tshark-")
    atexit.register(shutil.rmtree, tmp, True)
    pcap = os.path.join(tmp, "twamp.pcapng")
    os.chmod(tmp, 0o777)  # dumpcap may drop privileges before writing

    refl = t.Proc([a.agent, "reflect", "--listen", "127.0.0.1:%d" % port, "--listen", "[::1]:%d" % port,
                   "--test-ports", "%d-%d" % (lo, hi)], name="reflect")
    t.wait_tcp("127.0.0.1", port, proc=refl)
    t.wait_tcp("::1", port, proc=refl)
    cap = t.start_capture(pcap, "tcp port %d or udp portrange %d-%d or udp port %d" % (port, lo, hi, canary),
                          whole=True)

    sessions = [
        ("127.0.0.1:%d" % port, []),                    # 41-octet sender packets
        ("127.0.0.1:%d" % port, ["-s", "0"]),           # 14-octet sender packets
        ("[::1]:%d" % port, ["-s", "0", "-D", "EF"]),
        ("[::1]:%d" % port, ["-s", "64"]),
    ]
    count = 5
    for target, extra in sessions:
        cp = t.run([a.agent, "ping", "-c", str(count), "-i", "0.01"] + extra + [target], timeout=60)
        t.check(cp.returncode == 0, "ping %s %s failed" % (extra, target), t.describe(cp), refl)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x01\x02\x03\x04", ("127.0.0.1", canary))
    t.stop_capture(cap)
    refl.stop()
    t.check(os.path.exists(pcap) and os.path.getsize(pcap) > 0, "no capture file", cap)

    # Another test running meanwhile may have had an ephemeral UDP port in
    # lo..hi: keep only the frames of our sessions, whose sender ports the
    # Request-Session messages name.
    read = t.tshark_reader(pcap, ["tcp.port==%d,twamp.control" % port, "udp.port==%d-%d,twamp.test" % (lo, hi),
                                  "udp.port==%d,twamp.test" % canary])
    fields = t.tshark_fields(FIELDS)
    all_rows = t.tshark_rows(read(fields), FIELDS)
    senders = sorted({r["twamp.control.sender_port"] for r in all_rows}
                     - {"", "0"})
    t.check(len(senders) == len(sessions), "sender ports %s, want %d" % (senders, len(sessions)), cap)
    ours = "tcp.port==%d or udp.port in {%s}" % (port, ",".join(senders))

    # 1. nothing malformed but the canary; no TWAMP expert warnings/errors
    t.check_dissection(read, ours, canary, FIELDS, cap)

    # 2. every control message recognised, once per session
    all_rows = t.tshark_rows(read(fields + ["-Y", ours]), FIELDS)
    infos = [r["_ws.col.Info"] for r in all_rows if "twamp.control" in r["frame.protocols"]]
    for label in CONTROL_LABELS:
        n = sum(1 for i in infos if i == label or i.startswith(label + ","))
        if label == "Start Sessions":
            n = sum(1 for i in infos if i == "Start Sessions")
        t.check(n == len(sessions), "control message %r seen %d times, want %d; got %s"
                % (label, n, len(sessions), infos), cap)
    typep = [r["twamp.control.type-p"] for r in all_rows if r["twamp.control.type-p"]]
    t.check("0x2e000000" in typep, "no Request with Type-P 0x2e000000 (EF): %s" % typep)

    # 3. every test packet decodes as TWAMP-Test; reflector fields sane
    udp = [r for r in all_rows if r["udp.length"]]
    t.check(len(udp) == 2 * count * len(sessions), "%d UDP frames, want %d" % (len(udp), 2 * count * len(sessions)))
    for r in udp:
        t.check(r["frame.protocols"].endswith("udp:twamp.test"), "not decoded as TWAMP-Test: %s" % r)
    replies = [r for r in udp if lo <= int(r["udp.srcport"]) <= hi]
    t.check(len(replies) == count * len(sessions), "%d reflector packets" % len(replies))
    lengths = sorted({int(r["udp.length"]) - 8 for r in udp})
    t.check(lengths == [14, 41, 78], "payload sizes %s, want 14/41/78" % lengths)
    for r in replies:
        t.check(r["twamp.test.sender_ttl"] == "255", "Sender TTL %s" % r)
        t.check(r["twamp.test.error_estimate.multiplier"] not in ("", "0"), "multiplier 0: %s" % r)
    ef = [r for r in udp if r["ipv6.tclass"] == "0x000000b8"]
    t.check(len(ef) == 2 * count, "%d IPv6 packets with Traffic Class 0xb8 (EF), want %d both ways"
            % (len(ef), 2 * count), [r["ipv6.tclass"] for r in udp])
    print("ok: %d control messages, %d test packets decoded" % (len(infos), len(udp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
