#!/usr/bin/env python3
"""One twamp-agent measuring others in TWAMP Light and STAMP modes (issue 5).

Four reflector agents (`run`, reflector.light and reflector.stamp on
127.0.0.1 and ::1) cover both state models with and without keys:

    B1  light stateful  unauthenticated   stamp stateful  unauthenticated
    B2  light stateless authenticated     stamp stateless authenticated
    B3  light stateless unauthenticated   stamp stateful  authenticated
    B4  light stateful  encrypted         stamp stateless unauthenticated

Agent A has a `mode: light` and a `mode: stamp` target per reflector and
family (IPv4 and IPv6), plus STAMP targets with stamp_tlvs [cos, location,
timestamp_info, direct_measurement, follow_up] (DSCP 46 open, DSCP 34
authenticated). Asserted from the metrics:

  - every session up, packets received, none lost, no failures;
    STAMP replies carry exactly the TLVs asked for (Extra Padding for the
    default padding, the five configured, HMAC when authenticated);
    twamp_session_info{protocol="light"|"stamp"} with the security mode;
  - TLV targets: twamp_stamp_tlv_results_total{result="processed"} > 0 and
    nothing unrecognized/malformed/integrity; twamp_received_dscp forward
    and backward equal to the target's dscp;
  - twamp_dscp_remarked_total stays 0 everywhere (loopback keeps marks);
  - each reflector agent: reflected > 0 per protocol, no drops, and
    twamp_reflector_sessions = the senders it serves when stateful, 0
    when stateless;
  - a SIGHUP giving one STAMP target a new ssid and stamp_tlvs restarts
    that session: the reflector tracks the new SSID, the replies carry
    the new TLVs, nothing is lost.
"""
import os
import shutil
import sys
import tempfile

import twamplib as t

REFLECTORS = {
    "b1": (("stateful", "unauthenticated"), ("stateful", "unauthenticated")),
    "b2": (("stateless", "authenticated"), ("stateless", "authenticated")),
    "b3": (("stateless", "unauthenticated"), ("stateful", "authenticated")),
    "b4": (("stateful", "encrypted"), ("stateless", "unauthenticated")),
}
ALL_TLVS = "[cos, location, timestamp_info, direct_measurement, follow_up]"


def reflector_config(ctl, light_port, stamp_port, keys, light, stamp):
    lines = ["reflector:", '  listen: ["127.0.0.1:%d"]' % ctl, "  key_file: %s" % keys]
    for name, port, (model, sec), ident in (("light", light_port, light, "lightkey"),
                                            ("stamp", stamp_port, stamp, "stampkey")):
        lines += ["  %s:" % name, '    listen: ["127.0.0.1:%d", "[::1]:%d"]' % (port, port),
                  "    stateless: %s" % ("true" if model == "stateless" else "false"),
                  "    security: %s" % sec]
        if sec != "unauthenticated":
            lines.append("    identity: %s" % ident)
    return "\n".join(lines) + "\n"


def target_line(name, host, port, mode, sec, keys, extra=""):
    ident = "lightkey" if mode == "light" else "stampkey"
    keyed = ", identity: %s, key_file: %s" % (ident, keys) if sec != "unauthenticated" else ""
    return '  - {name: %s, host: "%s", port: %d, mode: %s, security: %s%s%s}' % (
        name, host, port, mode, sec, keyed, extra)


def reload_tlvs(cfg, pa, web_a, web_b1, ctx):
    """SIGHUP with new stamp_tlvs and ssid for one target: the session
    restarts, its replies carry the new TLVs, and B1 sees the new SSID as a
    new stateful session."""
    n = "b1-stamp-v4"
    text = open(cfg).read()
    line = [x for x in text.splitlines() if "name: %s," % n in x][0]
    new = line[:-1] + ", ssid: 4321, stamp_tlvs: [cos, direct_measurement]}"
    t.write_file(cfg, text.replace(line, new), 0o644)
    before = t.value(t.scrape_samples(web_b1), "twamp_reflector_sessions", protocol="stamp")
    pa.signal(1)  # SIGHUP
    t.wait_log(pa, "session settings changed, restarting")
    t.wait_until(lambda: t.value(t.scrape_samples(web_b1), "twamp_reflector_sessions", protocol="stamp")
                 == before + 1, 10, "B1 tracking the new SSID", *ctx)
    __import__("time").sleep(1.5)  # the old session's last replies are decided (loss timeout 1 s)
    s1 = t.scrape_samples(web_a)
    s2 = t.wait_until(lambda: (lambda s: s if t.value(s, "twamp_test_packets_received_total", target=n)
                               >= t.value(s1, "twamp_test_packets_received_total", target=n) + 20 else None)(
        t.scrape_samples(web_a)), 10, "replies after the reload", *ctx)
    rx = [t.value(x, "twamp_test_packets_received_total", target=n) for x in (s1, s2)]
    pr = [t.value(x, "twamp_stamp_tlv_results_total", target=n, result="processed") for x in (s1, s2)]
    t.check(pr[1] - pr[0] == 3 * (rx[1] - rx[0]), "after the reload %s TLVs in %s replies, want 3 each"
            % (pr[1] - pr[0], rx[1] - rx[0]), *ctx)
    t.check(t.value(s2, "twamp_test_packets_lost_total", target=n) == 0, "the reload lost packets", *ctx)


def main():
    a = t.parse_args()
    work = tempfile.mkdtemp(prefix="tw-lsagent-")
    keys = t.write_hex_key_file(os.path.join(work, "keys"), [("lightkey", t.random_key(48)),
                                                               ("stampkey", t.random_key(32))])
    refl = {}
    for name, (light, stamp) in REFLECTORS.items():
        def make(udp, tcp, light=light, stamp=stamp):
            return reflector_config(tcp[0], udp[0], udp[1], keys, light, stamp)
        pr, web, _, (lp, sp), _ = t.start_agent_on_free_ports(a.agent, work, make, nudp=2, ntcp=1,
                                                              name="agent-" + name)
        t.wait_log(pr, "STAMP reflector listening", count=2)
        t.wait_log(pr, "TWAMP Light reflector listening", count=2)
        refl[name] = (pr, web, lp, sp)

    targets, lines = {}, []  # name -> (reflector, protocol, security, dscp, tlvs)
    for name, (light, stamp) in REFLECTORS.items():
        _, _, lp, sp = refl[name]
        for fam, host in (("v4", "127.0.0.1"), ("v6", "::1")):
            for mode, port, (model, sec) in (("light", lp, light), ("stamp", sp, stamp)):
                tname = "%s-%s-%s" % (name, mode, fam)
                targets[tname] = (name, mode, sec, 0, False)
                lines.append(target_line(tname, host, port, mode, sec, keys))
    for tname, name, host, sec, dscp in (("tlv-open", "b1", "127.0.0.1", "unauthenticated", 46),
                                         ("tlv-auth", "b3", "::1", "authenticated", 34)):
        targets[tname] = (name, "stamp", sec, dscp, True)
        lines.append(target_line(tname, host, refl[name][3], "stamp", sec, keys,
                                 ", dscp: %d, stamp_tlvs: %s" % (dscp, ALL_TLVS)))
    config = "\n".join(["defaults:", "  interval: 50ms", "  loss_timeout: 1s", "targets:"] + lines) + "\n"
    pa, web_a, cfg_a = t.start_agent(a.agent, work, config, name="agent-a")
    ctx = (pa,) + tuple(x[0] for x in refl.values())

    def measuring():
        s = t.scrape_samples(web_a)
        ok = all(t.value(s, "twamp_test_packets_received_total", target=n) >= 20 for n in targets)
        return s if ok else None
    s = t.wait_until(measuring, 30, "every Light/STAMP session measuring", *ctx)
    for n, (_, mode, sec, dscp, tlvs) in targets.items():
        t.check(t.value(s, "twamp_session_up", target=n) == 1, "%s not up" % n, *ctx)
        t.check(t.value(s, "twamp_test_packets_lost_total", target=n) == 0, "%s lost packets" % n, *ctx)
        fails = [x for x in t.select(s, "twamp_control_connection_failures_total", target=n) if x[2]]
        t.check(not fails, "%s: failures %s" % (n, fails), *ctx)
        info = t.select(s, "twamp_session_info", target=n)
        t.check(len(info) == 1 and info[0][1]["protocol"] == mode and info[0][1]["mode"] == sec
                and info[0][1]["features"] == "",
                "%s: session_info %s, want protocol %s mode %s" % (n, info, mode, sec), *ctx)
        for d in ("forward", "backward"):
            t.check(t.value(s, "twamp_dscp_remarked_total", target=n, direction=d) == 0,
                    "%s: %s remarking on loopback" % (n, d), *ctx)
        if mode == "stamp":
            # per reply: Extra Padding (the default padding), plus the five
            # configured TLVs, plus the HMAC TLV when authenticated
            per = 1 + (5 + (sec == "authenticated") if tlvs else 0)
            got = t.value(s, "twamp_stamp_tlv_results_total", target=n, result="processed")
            rx = t.value(s, "twamp_test_packets_received_total", target=n)
            t.check(got == per * rx, "%s: %s TLVs processed in %s replies, want %d each" % (n, got, rx, per), *ctx)
        if tlvs:
            for r in ("unrecognized", "malformed", "integrity"):
                t.check(t.value(s, "twamp_stamp_tlv_results_total", target=n, result=r) == 0,
                        "%s: TLV result %s" % (n, r), *ctx)
            for d in ("forward", "backward"):
                got = t.value(s, "twamp_received_dscp", target=n, direction=d)
                t.check(got == dscp, "%s: received DSCP %s %s, want %d" % (n, d, got, dscp), *ctx)
        else:
            t.check(t.value(s, "twamp_received_dscp", target=n, direction="backward") == 0,
                    "%s: backward DSCP" % n, *ctx)

    # the reflector side: per-protocol counters and tracked senders
    for name, (light, stamp) in REFLECTORS.items():
        pr, web, _, _ = refl[name]
        rs = t.scrape_samples(web)
        for proto, (model, _) in (("light", light), ("stamp", stamp)):
            senders = sum(1 for x in targets.values() if x[0] == name and x[1] == proto)
            t.check(t.value(rs, "twamp_reflector_test_packets_reflected_total", protocol=proto) >= 20 * senders,
                    "%s: %s reflected too little" % (name, proto), *ctx)
            tracked = t.value(rs, "twamp_reflector_sessions", protocol=proto)
            want = senders if model == "stateful" else 0
            t.check(tracked == want, "%s: %s tracks %s senders, want %d" % (name, proto, tracked, want), *ctx)
        drops = [x for x in t.select(rs, "twamp_reflector_test_packets_dropped_total") if x[2]]
        t.check(not drops, "%s: drops %s" % (name, drops), *ctx)
    reload_tlvs(cfg_a, pa, web_a, refl["b1"][1], ctx)
    for p in ctx:
        t.check(p.stop() == 0, "%s exit status" % p.name, p)
    shutil.rmtree(work, ignore_errors=True)
    print("ok: %d Light/STAMP targets measured across %d reflector agents" % (len(targets), len(refl)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
