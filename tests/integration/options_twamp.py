#!/usr/bin/env python3
"""The optional full-TWAMP features between real processes (issue 5).

Agent R reflects with reflector.features [isc, reflect_octets,
symmetric_size, dscp_ecn, ptp] and reflect_to_source; agent P offers no
feature. Agent A measures them:

  - one target per feature, all features (DSCP 46 on IPv4, 10 with
    dscp_ecn on IPv6) at R, all features at P (fallback): every session
    up, none lost; twamp_session_info{features} = what was asked for and
    offered (plus ptp, which RFC 8186 makes a client echo whenever it is
    offered), "" and the plain security mode at P; with dscp_ecn
    twamp_received_dscp{direction="forward"} = the target's dscp; no
    remarking; R drops and refuses nothing;
  - PTP: RTT of a PTP session (R) and of an NTP one (P) are of the same
    order; `ping --features ptp --json` gets sane one-way delays (a
    misread Z bit would put them 37 s or 70 years off); a scripted client
    sees Z = 1 and PTP-format timestamps only when it echoes bit 9;
  - ping --features X --json against R names X (and ptp) in "features";
    against P it falls back to no features and still measures;
  - ISC: with tshark capturing R's control ports, every ISC connection
    (agent and ping) uses Start-N-Sessions (7) answered by Start-N-Ack (8)
    and never Start-Sessions; ping's ends with Stop-N-Sessions (9) /
    Stop-N-Ack (10); non-ISC connections use Start-Sessions. Skipped (with
    a notice) only when capture is not possible, never under
    tests/run-all.sh or CI as root (twamplib.strict());
  - Reflect Octets (scripted client): Reflected octets echoed, the octets
    to reflect come back after the reflector header, a request whose
    padding cannot hold them is refused with Accept 3 (Port 0); a client
    asking for Reflect Octets at P is refused at Set-Up;
  - reflect_to_source (scripted client registering one Sender Port and
    sending from another): answered at the observed port by R (config)
    and by `reflect --reflect-to-source`, never by P or a plain `reflect`.
"""
import os
import shutil
import socket
import struct
import sys
import tempfile

import twamplib as t

FEATURES = ["isc", "reflect_octets", "symmetric_size", "dscp_ecn", "ptp"]
ALL = ",".join(FEATURES)


def reflector_config(p4, p6, features, to_source):
    lines = ["reflector:", '  listen: ["127.0.0.1:%d", "[::1]:%d"]' % (p4, p6)]
    if features:
        lines.append("  features: [%s]" % ", ".join(features))
    lines.append("  reflect_to_source: %s" % ("true" if to_source else "false"))
    return "\n".join(lines) + "\n"


def expected_features(asked, offered):
    got = [f for f in FEATURES if f in asked and f in offered]
    if "ptp" in offered and "ptp" not in got:
        got.append("ptp")
    return ",".join(f for f in FEATURES if f in got)


def rtt_mean(samples, target):
    s = t.value(samples, "twamp_rtt_seconds_sum", target=target)
    n = t.value(samples, "twamp_rtt_seconds_count", target=target)
    return s / n if n else None


def agents(agent, work, r, p, ctx):
    (r4, r6), (p4, p6) = r, p
    targets = {}  # name -> (host, port, asked, offered, dscp)
    for f in FEATURES:
        targets["f-" + f] = ("127.0.0.1", r4, [f], FEATURES, 0)
    targets["all-v4"] = ("127.0.0.1", r4, FEATURES, FEATURES, 46)
    targets["all-v6"] = ("::1", r6, FEATURES, FEATURES, 0)
    targets["dscp-v6"] = ("::1", r6, ["dscp_ecn"], FEATURES, 10)
    targets["fallback-v4"] = ("127.0.0.1", p4, FEATURES, [], 46)
    targets["fallback-v6"] = ("::1", p6, FEATURES, [], 0)
    lines = ["defaults:", "  interval: 20ms", "  loss_timeout: 1s", "targets:"]
    for name, (host, port, asked, _, dscp) in targets.items():
        lines.append('  - {name: %s, host: "%s", port: %d, dscp: %d, features: [%s]}' % (
            name, host, port, dscp, ", ".join(asked)))
    pa, web, _ = t.start_agent(agent, work, "\n".join(lines) + "\n", name="agent-a")
    ctx = ctx + (pa,)

    def measuring():
        s = t.scrape_samples(web)
        return s if all(t.value(s, "twamp_test_packets_received_total", target=n) >= 50 for n in targets) else None
    s = t.wait_until(measuring, 30, "every TWAMP option session measuring", *ctx)
    for name, (host, port, asked, offered, dscp) in targets.items():
        t.check(t.value(s, "twamp_session_up", target=name) == 1, "%s not up" % name, *ctx)
        t.check(t.value(s, "twamp_test_packets_lost_total", target=name) == 0, "%s lost packets" % name, *ctx)
        fails = [x for x in t.select(s, "twamp_control_connection_failures_total", target=name) if x[2]]
        t.check(not fails, "%s: failures %s" % (name, fails), *ctx)
        info = t.select(s, "twamp_session_info", target=name)
        want = expected_features(asked, offered)
        t.check(len(info) == 1 and info[0][1]["features"] == want and info[0][1]["mode"] == "unauthenticated"
                and info[0][1]["protocol"] == "twamp",
                "%s: session_info %s, want features %r" % (name, info, want), *ctx)
        for d in ("forward", "backward"):
            t.check(t.value(s, "twamp_dscp_remarked_total", target=name, direction=d) == 0,
                    "%s: %s remarking" % (name, d), *ctx)
        t.check(t.value(s, "twamp_received_dscp", target=name, direction="backward") == dscp,
                "%s: backward DSCP" % name, *ctx)
        if "dscp_ecn" in want:
            got = t.value(s, "twamp_received_dscp", target=name, direction="forward")
            t.check(got == dscp, "%s: forward DSCP reported %s, want %d" % (name, got, dscp), *ctx)
            t.check(t.value(s, "twamp_received_ecn", target=name, direction="forward") == 0,
                    "%s: forward ECN" % name, *ctx)
    ptp, ntp = rtt_mean(s, "all-v4"), rtt_mean(s, "fallback-v4")
    t.check(ptp is not None and ntp is not None and 0 < ptp < 0.05 and 0 < ntp < 0.05,
            "RTT means ptp %s ntp %s" % (ptp, ntp), *ctx)
    t.check(ptp < 10 * ntp + 0.001 and ntp < 10 * ptp + 0.001,
            "PTP RTT %.6f s and NTP RTT %.6f s are not of the same order" % (ptp, ntp), *ctx)
    proc_n = t.value(s, "twamp_remote_processing_seconds_count", target="f-ptp")
    proc = t.value(s, "twamp_remote_processing_seconds_sum", target="f-ptp") / proc_n
    t.check(0 <= proc < 0.01, "PTP session: reflector processing mean %s s" % proc, *ctx)
    return pa, web


def pings(agent, r, p, ctx):
    (r4, r6), (p4, _) = r, p
    for f in FEATURES + [ALL]:
        for host, port in (("127.0.0.1", r4), ("::1", r6)):
            rc, d, cp = t.ping_json(agent, t.hostport(host, port), ["--features", f, "-c", "50", "-i", "5ms"])
            want = expected_features(f.split(","), FEATURES)
            t.check(rc == 0 and d and d["features"] == want and d["lost"] == 0 and d["received"] == 50,
                    "ping --features %s %s: want %r: %s" % (f, host, want, t.describe(cp)), *ctx)
            if "ptp" in want:
                for leg in ("forward", "backward"):
                    t.check(abs(d[leg]["p50"]) < 1.0, "ping --features %s: %s p50 %s s (Z bit misread?)"
                            % (f, leg, d[leg]["p50"]), *ctx)
            if "symmetric_size" in want:
                t.check(d["padding"] == 0, "symmetric size default padding %s" % d["padding"], *ctx)
            elif "dscp_ecn" in want:
                t.check(d["padding"] == 30, "dscp_ecn default padding %s" % d["padding"], *ctx)
    rc, d, cp = t.ping_json(agent, t.hostport("127.0.0.1", p4), ["--features", ALL, "-c", "20", "-i", "5ms",
                                                                 "-D", "EF"])
    t.check(rc == 0 and d and d["features"] == "" and d["mode"] == "unauthenticated" and d["lost"] == 0
            and d["received_dscp"]["forward"] is None and d["received_dscp"]["backward"] == 46,
            "fallback ping: %s" % t.describe(cp), *ctx)
    rc, d, cp = t.ping_json(agent, t.hostport("::1", r6), ["--features", "dscp_ecn", "-c", "20", "-i", "5ms",
                                                           "-D", "AF41"])
    t.check(rc == 0 and d["received_dscp"] == {"forward": 34, "backward": 34},
            "dscp_ecn ping: %s" % t.describe(cp), *ctx)


def test_packet(seq, padding):
    return struct.pack("!I", seq) + t.ntp_now() + struct.pack("!H", 0x0001) + padding


def scripted_ptp(r4, ctx):
    for mode in (0x001 | 0x200, 0x001):
        c = t.ScriptedClient("127.0.0.1", r4, mode=mode)
        t.check(c.server_accept == 0, "ptp set-up refused", *ctx)
        u = t.udp_socket("127.0.0.1")
        acc, port, _, _, _ = c.request(u.getsockname()[1], padding=27)
        t.check(acc == 0 and c.start() == 0, "ptp session", *ctx)
        rep = t.udp_exchange(u, ("127.0.0.1", port), test_packet(0, bytes(27)))
        t.check(rep is not None and len(rep) == 41, "ptp reply %r" % rep, *ctx)
        z = bool(rep[12] & 0x40)
        secs = struct.unpack("!I", rep[4:8])[0]
        now = int(__import__("time").time())
        if mode & 0x200:
            t.check(z and abs(secs - now) < 60, "PTP echoed: Z %s, seconds %d vs Unix %d" % (z, secs, now), *ctx)
        else:
            t.check(not z and abs(secs - (now + t.NTP_UNIX_OFFSET)) < 60,
                    "PTP not echoed: Z %s, seconds %d (NTP expected)" % (z, secs), *ctx)
        u.close()
        c.close()


def scripted_reflect_octets(r4, p4, ctx):
    c = t.ScriptedClient("127.0.0.1", r4, mode=0x001 | 0x020)
    t.check(c.server_accept == 0, "reflect_octets set-up refused", *ctx)
    u = t.udp_socket("127.0.0.1")
    acc, port, _, refl, srv = c.request(u.getsockname()[1], padding=27 + 8, octets=0xBEEF, reflect_len=8)
    t.check(acc == 0 and port and refl == 0xBEEF and srv == 0,
            "Reflect Octets accept %d port %d reflected %#x server %#x" % (acc, port, refl, srv), *ctx)
    for pad, L in ((27 + 7, 8), (4, 8)):
        acc2, port2, _, _, _ = c.request(u.getsockname()[1], padding=pad, octets=1, reflect_len=L)
        t.check(acc2 == 3 and port2 == 0, "padding %d with L %d: Accept %d port %d, want 3 and 0"
                % (pad, L, acc2, port2), *ctx)
    t.check(c.start() == 0, "start after a refusal", *ctx)
    pad = bytes(range(0x40, 0x40 + 35))
    rep = t.udp_exchange(u, ("127.0.0.1", port), test_packet(0, pad))
    t.check(rep is not None and len(rep) == 49 and rep[41:49] == pad[:8],
            "reflected octets: %r" % (rep and rep[41:]), *ctx)
    u.close()
    c.close()
    no = t.ScriptedClient("127.0.0.1", p4, mode=0x001 | 0x020)
    t.check(no.server_accept not in (None, 0), "P accepted Reflect Octets it did not offer", *ctx)
    no.close()


def scripted_to_source(port, host, answered, what, ctx):
    c = t.ScriptedClient(host, port)
    registered, actual = t.udp_socket(host), t.udp_socket(host)
    acc, tport, _, _, _ = c.request(registered.getsockname()[1], padding=27)
    t.check(acc == 0 and c.start() == 0, "%s: session" % what, *ctx)
    for seq in range(3):
        rep = t.udp_exchange(actual, (host, tport), test_packet(seq, bytes(27)), timeout=0.5 if answered else 0.2)
        if answered:
            t.check(rep is not None and len(rep) == 41 and struct.unpack("!I", rep[24:28])[0] == seq,
                    "%s: no answer at the observed port for seq %d" % (what, seq), *ctx)
        else:
            t.check(rep is None, "%s answered an unregistered port" % what, *ctx)
    registered.settimeout(0.2)
    try:
        stray = registered.recvfrom(2048)
    except socket.timeout:
        stray = None
    t.check(stray is None, "%s: a reply went to the registered port %r" % (what, stray), *ctx)
    for s in (registered, actual):
        s.close()
    c.close()


def isc_wire(pcap, ports, ctx):
    streams = t.tcp_streams(pcap, ports)
    isc = plain = stopped = 0
    for k, (client, server) in streams.items():
        if len(client) < 164 or len(server) < 112:
            continue
        mode, cmds, answers = t.control_commands(client, server)
        where = "connection %d (mode %#x): commands %s answers %s" % (k, mode, cmds, answers)
        if mode & 0x010:
            isc += 1
            t.check(7 in cmds and 2 not in cmds and 3 not in cmds, "ISC " + where, *ctx)
            t.check(8 in answers, "no Start-N-Ack: " + where, *ctx)
            if 9 in cmds:
                stopped += 1
                t.check(10 in answers, "Stop-N without Stop-N-Ack: " + where, *ctx)
        elif 5 in cmds:
            plain += 1
            t.check(2 in cmds and 7 not in cmds and 9 not in cmds, "non-ISC " + where, *ctx)
    t.check(isc >= 4 and plain >= 1 and stopped >= 2, "ISC connections %d, plain %d, with Stop-N %d"
            % (isc, plain, stopped), *ctx)
    return isc


def main():
    a = t.parse_args()
    work = tempfile.mkdtemp(prefix="tw-options-")
    os.chmod(work, 0o777)  # dumpcap may drop privileges before writing
    pr, web_r, _, _, r = t.start_agent_on_free_ports(
        a.agent, work, lambda u, tcp: reflector_config(tcp[0], tcp[1], FEATURES, True), ntcp=1, ntcp6=1,
        name="agent-r")
    pp, _, _, _, p = t.start_agent_on_free_ports(
        a.agent, work, lambda u, tcp: reflector_config(tcp[0], tcp[1], [], False), ntcp=1, ntcp6=1, name="agent-p")
    r, p = tuple(r), tuple(p)
    ctx = (pr, pp)
    pcap = os.path.join(work, "control.pcapng")
    cap = t.start_capture(pcap, "tcp port %d or tcp port %d" % r)
    pa, web = agents(a.agent, work, r, p, ctx)
    ctx = ctx + (pa,)
    pings(a.agent, r, p, ctx)
    t.check(pa.stop() == 0, "agent A exit status", pa)
    if cap is not None:
        t.stop_capture(cap)
        n = isc_wire(pcap, set(r), ctx)
        print("ISC on the wire: %d connections with Start-N/Start-N-Ack" % n)
    scripted_ptp(r[0], ctx)
    scripted_reflect_octets(r[0], p[0], ctx)
    scripted_to_source(r[0], "127.0.0.1", True, "R (reflect_to_source: true)", ctx)
    scripted_to_source(r[1], "::1", True, "R over IPv6", ctx)
    scripted_to_source(p[0], "127.0.0.1", False, "P", ctx)
    for flag in (["--reflect-to-source"], []):
        rp, port = t.start_reflector(a.agent, "127.0.0.1", extra=flag, name="reflect" + "".join(flag))
        scripted_to_source(port, "127.0.0.1", bool(flag), "reflect %s" % flag, ctx + (rp,))
        t.check(rp.stop() == 0, "reflect exit status", rp)
    rs = t.scrape_samples(web_r)
    drops = [x for x in t.select(rs, "twamp_reflector_test_packets_dropped_total", protocol="twamp")
             if x[2] and x[1]["reason"] != "not_started"]
    t.check(not drops, "R drops %s" % drops, pr)
    rej = {x[1]["reason"]: x[2] for x in t.select(rs, "twamp_reflector_control_rejections_total") if x[2]}
    t.check(rej == {"unsupported_request": 2}, "R rejections %s, want the two Reflect Octets refusals" % rej, pr)
    for x in (pr, pp):
        t.check(x.stop() == 0, "%s exit status" % x.name, x)
    shutil.rmtree(work, ignore_errors=True)
    print("ok: TWAMP options negotiated and measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
