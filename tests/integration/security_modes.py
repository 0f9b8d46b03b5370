#!/usr/bin/env python3
"""All four TWAMP security modes end to end (issue 4), on 127.0.0.1 and ::1.

  - `twamp-agent reflect --modes open,authenticated,encrypted,mixed
    --key-file F` (a pfs file created 0600) and `twamp-agent ping --mode M
    --identity I --key-file F` for every mode and both families: exit 0,
    the JSON names the negotiated mode, every packet answered, the default
    padding follows the mode (64 keyed test packets, 27 otherwise);
  - `--mode auto` and no --mode at all pick encrypted when the server
    offers everything; without keys auto falls back to unauthenticated;
    a server offering only authenticated refuses a client that insists on
    encrypted (exit 4, "no common mode");
  - agent to agent: agents A and B both reflect in every mode (B with its
    keys in a Kubernetes-Secret-layout directory); A measures B with
    `security: authenticated|encrypted|mixed|unauthenticated|auto` over
    IPv4 and IPv6, B measures A with `security: auto`. Every session up,
    packets received, none lost, twamp_session_info shows the negotiated
    mode, the reflectors drop no packet (no HMAC failure).
"""
import os
import shutil
import sys
import tempfile

import twamplib as t

IDENT = "testuser"
SECRET = "integration-secret-3f9c"
MODES = {"open": "unauthenticated", "authenticated": "authenticated", "encrypted": "encrypted", "mixed": "mixed"}


def pings(agent, keys):
    refl4, port4 = t.start_reflector(agent, "127.0.0.1", name="reflect4",
                                     extra=["--modes", "open,authenticated,encrypted,mixed", "--key-file", keys])
    refl6, port6 = t.start_reflector(agent, "::1", name="reflect6",
                                     extra=["--modes", "open,authenticated,encrypted,mixed", "--key-file", keys])
    ctx = (refl4, refl6)
    for host, port in (("127.0.0.1", port4), ("::1", port6)):
        target = t.hostport(host, port)
        for flag, name in MODES.items():
            rc, d, cp = t.ping_json(agent, target, ["-c", "20", "-i", "0.01", "--mode", flag, "--identity", IDENT,
                                                    "--key-file", keys], timeout=60)
            where = "ping --mode %s %s" % (flag, target)
            t.check(rc == 0 and d, "%s: %s" % (where, t.describe(cp)), *ctx)
            t.check(d["mode"] == name, "%s negotiated %s" % (where, d["mode"]), *ctx)
            t.check(d["sent"] == 20 and d["received"] == 20 and d["lost"] == 0, "%s: %s" % (where, d), *ctx)
            pad = 64 if name in ("authenticated", "encrypted") else 27
            t.check(d["padding"] == pad, "%s: default padding %s, want %d" % (where, d["padding"], pad), *ctx)
            t.check(SECRET not in cp.stdout + cp.stderr, "%s printed the secret" % where, *ctx)
        for extra in (["--mode", "auto"], []):
            rc, d, cp = t.ping_json(agent, target, ["-c", "5", "-i", "0.01", "--identity", IDENT, "--key-file", keys]
                                    + extra, timeout=60)
            t.check(rc == 0 and d and d["mode"] == "encrypted" and d["lost"] == 0,
                    "auto %s on %s should pick encrypted: %s" % (extra, target, t.describe(cp)), *ctx)
        rc, d, cp = t.ping_json(agent, target, ["-c", "5", "-i", "0.01", "--mode", "auto"], timeout=60)
        t.check(rc == 0 and d and d["mode"] == "unauthenticated",
                "auto without keys on %s: %s" % (target, t.describe(cp)), *ctx)
    # a server offering only authenticated: no common mode with encrypted
    only, port = t.start_reflector(agent, "127.0.0.1", name="reflect-auth",
                                   extra=["--modes", "authenticated", "--key-file", keys])
    rc, d, cp = t.ping_json(agent, t.hostport("127.0.0.1", port),
                            ["-c", "5", "--mode", "encrypted", "--identity", IDENT, "--key-file", keys])
    t.check(rc == 4 and "no common mode" in cp.stderr, "encrypted against authenticated-only: %s" % t.describe(cp),
            only)
    rc, d, cp = t.ping_json(agent, t.hostport("127.0.0.1", port),
                            ["-c", "5", "-i", "0.01", "--identity", IDENT, "--key-file", keys])
    t.check(rc == 0 and d["mode"] == "authenticated", "auto against authenticated-only: %s" % t.describe(cp), only)
    for p in (refl4, refl6, only):
        t.check(p.alive(), "%s died" % p.name, p)
        t.check(p.stop() == 0, "%s exit status" % p.name, p)
        t.check(SECRET not in p.output() and SECRET.encode().hex() not in p.output(),
                "%s logged the secret" % p.name, p)


def agent_config(p4, p6, keys, targets):
    lines = ["reflector:", '  listen: ["127.0.0.1:%d", "[::1]:%d"]' % (p4, p6),
             "  modes: [unauthenticated, authenticated, encrypted, mixed]", "  key_file: %s" % keys,
             "defaults:", "  interval: 50ms", "  loss_timeout: 1s", "  identity: %s" % IDENT,
             "  key_file: %s" % keys, "targets:"]
    for name, host, port, sec in targets:
        lines.append('  - {name: %s, host: "%s", port: %d, security: %s}' % (name, host, port, sec))
    return "\n".join(lines) + "\n"


def agents(agent, work, keys, secdir):
    a4, a6, b4, b6 = (t.free_port() for _ in range(4))
    a_targets = []
    for fam, host, port in (("v4", "127.0.0.1", b4), ("v6", "::1", b6)):
        for sec in ("authenticated", "encrypted", "mixed", "unauthenticated", "auto"):
            a_targets.append(("%s-%s" % (sec, fam), host, port, sec))
    b, web_b, _ = t.start_agent(agent, work, agent_config(b4, b6, secdir, [("a", "127.0.0.1", a4, "auto")]),
                                name="agent-b")
    a, web_a, _ = t.start_agent(agent, work, agent_config(a4, a6, keys, a_targets), name="agent-a")
    ctx = (a, b)

    def all_up():
        sa, sb = t.scrape_samples(web_a), t.scrape_samples(web_b)
        names = [x[0] for x in a_targets]
        ok = all(t.value(sa, "twamp_test_packets_received_total", target=n) >= 10 for n in names) and \
            t.value(sb, "twamp_test_packets_received_total", target="a") >= 10
        return (sa, sb) if ok else None
    sa, sb = t.wait_until(all_up, 20, "every keyed session measuring", *ctx)
    for name, _, _, sec in a_targets:
        want = "encrypted" if sec == "auto" else sec
        t.check(t.value(sa, "twamp_session_up", target=name) == 1, "%s not up" % name, *ctx)
        t.check(t.value(sa, "twamp_test_packets_lost_total", target=name) == 0, "%s lost packets" % name, *ctx)
        info = t.select(sa, "twamp_session_info", target=name)
        t.check(len(info) == 1 and info[0][1]["mode"] == want, "%s: session_info %s, want mode %s" % (
            name, info, want), *ctx)
        fails = [x for x in t.select(sa, "twamp_control_connection_failures_total", target=name) if x[2]]
        t.check(not fails, "%s: failures %s" % (name, fails), *ctx)
    info = t.select(sb, "twamp_session_info", target="a")
    t.check(info and info[0][1]["mode"] == "encrypted", "B->A: %s" % info, *ctx)
    for samples, who in ((sa, "A"), (sb, "B")):
        drops = [x for x in t.select(samples, "twamp_reflector_test_packets_dropped_total") if x[2]]
        rej = [x for x in t.select(samples, "twamp_reflector_control_rejections_total") if x[2]]
        t.check(not drops and not rej, "%s reflector: drops %s rejections %s" % (who, drops, rej), *ctx)
        t.check(t.value(samples, "twamp_reflector_test_packets_reflected_total", protocol="twamp") > 0, "%s reflected nothing" % who,
                *ctx)
    t.check(t.value(sb, "twamp_reflector_sessions", protocol="twamp") == len(a_targets), "B serves %s sessions" % (
        t.value(sb, "twamp_reflector_sessions", protocol="twamp")), *ctx)
    for p in (a, b):
        out = p.output()
        t.check(SECRET not in out and SECRET.encode().hex() not in out, "%s logged the secret" % p.name, p)
        st, _, body = t.http_get("http://127.0.0.1:%d/metrics" % (web_a if p is a else web_b))
        t.check(SECRET.encode() not in body and SECRET.encode().hex().encode() not in body,
                "%s exposes the secret in /metrics" % p.name, p)
        t.check(p.stop() == 0, "%s exit status" % p.name, p)


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="security_modes-")
    keys = t.write_key_file(os.path.join(work, "twamp.pfs"), [("other", "x" * 16), (IDENT, SECRET)])
    secdir = t.write_secret_dir(os.path.join(work, "secret"), [(IDENT, SECRET), ("other", "y" * 16)])
    pings(args.agent, keys)
    agents(args.agent, work, keys, secdir)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
