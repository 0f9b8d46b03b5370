#!/usr/bin/env python3
"""TWAMP Light and STAMP round trips between real processes (issue 5).

  - `reflect --light-port A --stamp-port B` (stateful) and a second one
    with `--stateless`; `ping --light` to A and `ping --stamp` to B on
    127.0.0.1 and ::1, 200 packets at 5 ms each: exit 0, nothing lost, no
    duplicates, the JSON protocol/mode fields right; Light to the STAMP
    port (padded, 78 octets) and STAMP to the Light port interoperate;
  - `ping --stamp --tlv cos,timestamp_info,direct_measurement,location,
    follow_up -D EF`: nothing lost, the reflector reports DSCP 46 received
    (Class of Service TLV) and the replies come back with EF;
  - keyed: `run` agents whose reflector.light / reflector.stamp are
    authenticated (Light also encrypted) with keys from reflector.key_file
    (the Light secret 48 octets = 96 hex digits); ping --light/--stamp
    --mode authenticated|encrypted --identity --key-file loses nothing
    (STAMP with TLVs too: the HMAC TLV verifies); with a wrong key every
    packet is lost (exit 1) and the agent counts each one in
    twamp_reflector_test_packets_dropped_total{protocol, reason="auth"};
  - every reflector exits 0 on SIGTERM.
"""
import os
import shutil
import sys
import tempfile

import twamplib as t

COUNT = 200
FAST = ["-c", str(COUNT), "-i", "5ms"]


def check_run(agent, target, extra, protocol, mode, ctx, count=COUNT):
    rc, d, cp = t.ping_json(agent, target, extra, timeout=60)
    where = "ping %s %s" % (" ".join(extra), target)
    t.check(rc == 0 and d, "%s: %s" % (where, t.describe(cp)), *ctx)
    t.check(d["protocol"] == protocol and d["mode"] == mode,
            "%s: protocol/mode %s/%s, want %s/%s" % (where, d["protocol"], d["mode"], protocol, mode), *ctx)
    t.check(d["sent"] == count and d["received"] == count and d["lost"] == 0,
            "%s: sent/received/lost %s/%s/%s" % (where, d["sent"], d["received"], d["lost"]), *ctx)
    t.check(d["duplicates"]["forward"] == 0 and d["duplicates"]["backward"] == 0, "%s: duplicates" % where, *ctx)
    t.check(d["hops"]["forward"] == 0 and d["hops"]["backward"] == 0, "%s: hops %s" % (where, d["hops"]), *ctx)
    return d


def open_modes(agent):
    """Both state models, both families, both protocols, and the interop."""
    refl = {}
    for model, extra in (("stateful", []), ("stateless", ["--stateless"])):
        pr, _, (a,), (b,) = t.start_udp_reflector_free(agent, extra=extra, name="reflect-" + model)
        refl[model] = (pr, a, b)
        t.check("mode=%s" % model in pr.output(), "%s reflector log: mode" % model, pr)
    ctx = tuple(x[0] for x in refl.values())
    for model, (pr, a, b) in refl.items():
        for host in ("127.0.0.1", "::1"):
            d = check_run(agent, t.hostport(host, a), ["--light"] + FAST, "light", "light", ctx)
            t.check(d["padding"] == 27 and d["sid"] == "-", "light default padding/sid: %s" % d, *ctx)
            d = check_run(agent, t.hostport(host, b), ["--stamp", "--ssid", "4242"] + FAST, "stamp", "stamp", ctx)
            t.check(d["padding"] == 0 and d["sid"] == "ssid 4242", "stamp padding/sid: %s" % d, *ctx)
        # Light to the STAMP port, padded past 44 octets with random padding
        check_run(agent, t.hostport("127.0.0.1", b), ["--light", "-s", "64"] + FAST, "light", "light", ctx)
        check_run(agent, t.hostport("::1", b), ["--light", "-s", "0", "-c", "50", "-i", "5ms"], "light", "light",
                  ctx, count=50)
        # STAMP to the Light port: the 44-octet packet comes back as Light
        check_run(agent, t.hostport("127.0.0.1", a), ["--stamp", "-c", "50", "-i", "5ms"], "stamp", "stamp", ctx,
                  count=50)
    # every STAMP TLV, DSCP EF asked for on the reflected packets
    pr, a, b = refl["stateful"]
    for host in ("127.0.0.1", "::1"):
        d = check_run(agent, t.hostport(host, b), ["--stamp", "--tlv",
                                                   "cos,timestamp_info,direct_measurement,location,follow_up",
                                                   "-D", "EF"] + FAST, "stamp", "stamp", ctx)
        t.check(d["dscp"] == 46 and d["received_dscp"] == {"forward": 46, "backward": 46},
                "TLV run: received_dscp %s" % d.get("received_dscp"), *ctx)
    for pr, _, _ in refl.values():
        t.check(pr.stop() == 0, "%s exit status" % pr.name, pr)


def keyed_config(ctl, light_port, stamp_port, keys, light_sec):
    return "\n".join([
        "reflector:",
        '  listen: ["127.0.0.1:%d"]' % ctl,
        "  key_file: %s" % keys,
        "  light:",
        '    listen: ["127.0.0.1:%d", "[::1]:%d"]' % (light_port, light_port),
        "    security: %s" % light_sec,
        "    identity: lightkey",
        "  stamp:",
        '    listen: ["127.0.0.1:%d", "[::1]:%d"]' % (stamp_port, stamp_port),
        "    security: authenticated",
        "    identity: stampkey",
    ]) + "\n"


def dropped(port, protocol, reason):
    return t.value(t.scrape_samples(port), "twamp_reflector_test_packets_dropped_total", protocol=protocol,
                   reason=reason)


def keyed(agent, work):
    light_key, stamp_key = t.random_key(48), b"stamp-integration-key"
    keys = t.write_hex_key_file(os.path.join(work, "keys"), [("lightkey", light_key), ("stampkey", stamp_key)])
    t.check(len(open(keys).read().split("lightkey ")[1].split()[0]) == 96, "the Light secret is 96 hex digits")
    wrong = t.write_hex_key_file(os.path.join(work, "wrong"), [("lightkey", t.random_key(48)),
                                                                 ("stampkey", b"not-the-stamp-key")])
    agents = {}
    for sec in ("authenticated", "encrypted"):
        def make(udp, tcp, sec=sec):
            return keyed_config(tcp[0], udp[0], udp[1], keys, sec)
        pr, web, _, (lp, sp), _ = t.start_agent_on_free_ports(agent, work, make, nudp=2, ntcp=1, name="keyed-" + sec)
        t.wait_log(pr, "STAMP reflector listening", count=2)
        agents[sec] = (pr, web, lp, sp)
    ctx = tuple(x[0] for x in agents.values())
    for sec, (pr, web, lp, sp) in agents.items():
        for host in ("127.0.0.1", "::1"):
            creds = ["--identity", "lightkey", "--key-file", keys]
            check_run(agent, t.hostport(host, lp), ["--light", "--mode", sec] + creds + FAST, "light",
                      "light " + sec, ctx)
        if sec != "authenticated":
            continue
        creds = ["--identity", "stampkey", "--key-file", keys]
        for host in ("127.0.0.1", "::1"):
            d = check_run(agent, t.hostport(host, sp), ["--stamp", "--mode", "authenticated"] + creds + FAST,
                          "stamp", "stamp authenticated", ctx)
            t.check(d["padding"] == 0, "keyed stamp padding %s" % d["padding"], *ctx)
        check_run(agent, t.hostport("127.0.0.1", sp), ["--stamp", "--mode", "authenticated", "--tlv",
                                                       "cos,direct_measurement,follow_up", "-D", "AF41"]
                  + creds + FAST, "stamp", "stamp authenticated", ctx)
    # wrong keys: every packet lost, every one counted as an auth drop
    for sec, (pr, web, lp, sp) in agents.items():
        runs = [("light", lp, ["--light", "--mode", sec, "--identity", "lightkey"])]
        if sec == "authenticated":
            runs.append(("stamp", sp, ["--stamp", "--mode", "authenticated", "--identity", "stampkey"]))
        for proto, port, extra in runs:
            before = dropped(web, proto, "auth")
            rc, d, cp = t.ping_json(agent, t.hostport("127.0.0.1", port), extra + [
                "--key-file", wrong, "-c", "10", "-i", "10ms", "-L", "300ms"], timeout=60)
            t.check(rc == 1 and d and d["received"] == 0 and d["lost"] == 10,
                    "%s %s with the wrong key: %s" % (proto, sec, t.describe(cp)), *ctx)
            t.wait_until(lambda: dropped(web, proto, "auth") - before == 10, 5,
                         "%s reflector counting 10 auth drops" % proto, *ctx)
        samples = t.scrape_samples(web)
        refl = t.value(samples, "twamp_reflector_test_packets_reflected_total", protocol="light")
        t.check(refl >= 2 * COUNT, "%s agent reflected %s Light packets" % (sec, refl), *ctx)
        others = [s for s in t.select(samples, "twamp_reflector_test_packets_dropped_total")
                  if s[2] and s[1]["reason"] != "auth"]
        t.check(not others, "%s agent: unexpected drops %s" % (sec, others), *ctx)
    for pr, _, _, _ in agents.values():
        out = pr.output()
        t.check(light_key.hex() not in out and stamp_key.hex() not in out, "%s logged a key" % pr.name, pr)
        t.check(pr.stop() == 0, "%s exit status" % pr.name, pr)


def main():
    a = t.parse_args()
    work = tempfile.mkdtemp(prefix="tw-lightstamp-")
    open_modes(a.agent)
    keyed(a.agent, work)
    shutil.rmtree(work, ignore_errors=True)
    print("ok: TWAMP Light and STAMP round trips, both state models, keyed modes, TLVs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
