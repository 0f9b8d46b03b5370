#!/usr/bin/env python3
"""Security failures fail cleanly (issue 4, failure behaviour and secrets).

Server S is a `run` agent reflecting in the keyed modes only, so its
counters can be scraped. Asserted:
  - wrong secret: ping exits 5 saying "authentication failed"; S logs
    the identity with reason bad_secret and counts
    twamp_reflector_control_rejections_total{reason="bad_secret"};
  - unknown identity: exit 5 likewise, reason unknown_identity;
  - an agent target with the wrong secret: session down, its
    twamp_control_connection_failures_total{reason="authentication"}
    grows (retried with backoff), S's bad_secret counter grows with it;
  - no secret (right or wrong, raw or hex) appears in any log, any ping
    output, or the agents' /metrics and status pages;
  - a world-readable key file is refused by ping (exit 5) and reflect
    (exit 2) with a message naming the file, its mode and `chmod 600`; a
    Secret directory holding a 0644 file is refused the same way;
  - malformed pfs files are refused (ping, reflect, --config.check, a
    running agent's reload) with FILE:LINE and the fault, never quoting
    the secret; the agent keeps its old keys;
  - a key directory in the Kubernetes Secret layout (..data symlinks)
    works for ping and reflect;
  - the Count cap: against `reflect --kdf-count 65536` ping exits 5 with a
    message about the greeting Count; with --max-kdf-count 65536 it
    succeeds; the same through the agent's pbkdf2_count / max_kdf_count;
  - forged test packets (from the real sender's address and port, via a
    raw socket) in authenticated and encrypted sessions: dropped, counted
    as auth (or short), never reflected, the real session unharmed;
  - a reload swaps S's key store (the old secret fails, the new works);
  - every run is bounded; afterwards S still serves a good client, has no
    control connection left open, and no process crashed.
"""
import json
import os
import shutil
import socket
import struct
import sys
import tempfile

import twamplib as t

IDENT = "testuser"
SECRET = "the-right-secret-91d2"
WRONG = "a-wrong-secret-7b3e"


def secrets_absent(text, where, *ctx):
    for s in (SECRET, WRONG):
        for form in (s, s.encode().hex(), s.encode().hex().upper()):
            t.check(form not in text, "%s contains a secret (%s)" % (where, form), *ctx)


def ping(agent, port, keys, ident=IDENT, extra=(), host="127.0.0.1"):
    rc, d, cp = t.ping_json(agent, t.hostport(host, port), ["-c", "5", "-i", "0.01", "--connect-timeout", "5s",
                                                            "--identity", ident, "--key-file", keys] + list(extra),
                            timeout=30)
    secrets_absent(cp.stdout + cp.stderr, "ping output")
    return rc, d, cp


def rejections(web, reason):
    return t.value(t.scrape_samples(web), "twamp_reflector_control_rejections_total", reason=reason)


def wait_log(proc, needle, what):
    return t.wait_until(lambda: needle in proc.output(), 5, what, proc)


def server_side(agent, work, keys, wrong, nobody):
    refl_port = t.free_port()
    cfg = """reflector:
  listen: ["127.0.0.1:%d"]
  modes: [authenticated, encrypted, mixed]
  key_file: %s
targets: []
""" % (refl_port, keys)
    s, web, _ = t.start_agent(agent, work, cfg, name="server")

    # wrong secret
    rc, d, cp = ping(agent, refl_port, wrong, extra=["--mode", "authenticated"])
    t.check(rc == 5 and "authentication failed" in cp.stderr, "wrong secret: %s" % t.describe(cp), s)
    wait_log(s, "identity=%s reason=bad_secret" % IDENT, "S logging the bad secret")
    t.check(rejections(web, "bad_secret") == 1, "bad_secret rejections != 1", s)
    t.check(rejections(web, "unknown_identity") == 0, "unknown_identity counted for a bad secret", s)
    # unknown identity, in every keyed mode
    for n, mode in enumerate(("authenticated", "encrypted", "mixed"), 1):
        rc, d, cp = ping(agent, refl_port, nobody, ident="nobody", extra=["--mode", mode])
        t.check(rc == 5 and "authentication failed" in cp.stderr, "unknown identity (%s): %s" % (
            mode, t.describe(cp)), s)
        t.wait_until(lambda: rejections(web, "unknown_identity") == n, 5, "unknown_identity == %d" % n, s)
    wait_log(s, "identity=nobody reason=unknown_identity", "S logging the unknown identity")

    # an agent whose target has the wrong secret
    c_cfg = """defaults: {interval: 50ms, identity: %s, key_file: %s}
targets:
  - {name: s, host: 127.0.0.1, port: %d, security: encrypted}
""" % (IDENT, wrong, refl_port)
    c, web_c, _ = t.start_agent(agent, work, c_cfg, name="client")

    def failing():
        sc = t.scrape_samples(web_c)
        n = t.value(sc, "twamp_control_connection_failures_total", target="s", reason="authentication")
        return sc if n >= 2 else None
    sc = t.wait_until(failing, 15, "client counting authentication failures (with backoff)", c, s)
    t.check(t.value(sc, "twamp_session_up", target="s") == 0, "session up with a wrong secret", c)
    t.check(t.value(sc, "twamp_test_packets_sent_total", target="s") == 0, "test packets sent unauthenticated", c)
    t.check(rejections(web, "bad_secret") >= 3, "S did not count the agent's bad secrets", s, c)
    t.check("reason=authentication" in c.output(), "client log lacks the reason", c)

    # a good client still gets through, and nothing is left open
    rc, d, cp = ping(agent, refl_port, keys, extra=["--mode", "encrypted"])
    t.check(rc == 0 and d["mode"] == "encrypted" and d["received"] == 5, "good client after failures: %s" % (
        t.describe(cp)), s)
    st, _, body = t.http_get("http://127.0.0.1:%d/" % web_c)
    t.check(st == 200, "client landing page: %d" % st, c)
    secrets_absent(body.decode(), "client /", c)
    t.check(c.stop() == 0, "client agent exit status", c)

    # key rotation: a reload swaps S's key store
    rotated = t.write_key_file(os.path.join(work, "rotated.pfs"), [(IDENT, WRONG)])
    t.write_file(os.path.join(work, "server.yml"), cfg.replace(keys, rotated), 0o644)
    st, _, body = t.http_get("http://127.0.0.1:%d/-/reload" % web, method="POST", data=b"")
    t.check(st == 200, "reload with a rotated key file: %d %r" % (st, body), s)
    rc, d, cp = ping(agent, refl_port, keys)
    t.check(rc == 5, "the old secret still works after rotation: %s" % t.describe(cp), s)
    rc, d, cp = ping(agent, refl_port, wrong)
    t.check(rc == 0 and d["received"] == 5, "the rotated secret does not work: %s" % t.describe(cp), s)
    t.wait_until(lambda: t.value(t.scrape_samples(web), "twamp_reflector_control_connections") == 0, 10,
                 "S's control connections closed", s)
    for path in ("/metrics", "/"):
        st, _, body = t.http_get("http://127.0.0.1:%d%s" % (web, path))
        secrets_absent(body.decode(), "S " + path, s)
    secrets_absent(s.output(), "S log", s)
    secrets_absent(c.output(), "client log", c)
    t.check(s.alive(), "S died", s)
    t.check(s.stop() == 0, "S exit status", s)


def permissions(agent, work, keys):
    open_keys = t.write_key_file(os.path.join(work, "open.pfs"), [(IDENT, SECRET)], mode=0o644)
    group_ok = t.write_key_file(os.path.join(work, "group.pfs"), [(IDENT, SECRET)], mode=0o640)
    refl, port = t.start_reflector(agent, "127.0.0.1", name="reflect-perm",
                                   extra=["--modes", "authenticated", "--key-file", keys])
    rc, d, cp = ping(agent, port, open_keys)
    t.check(rc == 5 and open_keys in cp.stderr and "0644" in cp.stderr and "chmod 600" in cp.stderr,
            "ping with a world-readable key file: %s" % t.describe(cp), refl)
    rc, d, cp = ping(agent, port, group_ok)
    t.check(rc == 0, "a group-readable (0640) key file should be accepted: %s" % t.describe(cp), refl)
    cp = t.run([agent, "reflect", "--listen", "127.0.0.1:%d" % t.free_port(), "--modes", "authenticated",
                "--key-file", open_keys], timeout=10)
    t.check(cp.returncode == 2 and open_keys in cp.stderr and "0644" in cp.stderr and "chmod 600" in cp.stderr,
            "reflect with a world-readable key file: %s" % t.describe(cp), refl)
    secrets_absent(cp.stdout + cp.stderr, "reflect output")
    # a Secret volume with Kubernetes' default file mode 0644
    bad_dir = t.write_secret_dir(os.path.join(work, "secret-0644"), [(IDENT, SECRET)])
    real = os.path.join(bad_dir, "..2024_01_01_00_00_00.1", IDENT)
    os.chmod(real, 0o644)
    rc, d, cp = ping(agent, port, bad_dir)
    t.check(rc == 5 and IDENT in cp.stderr and "0644" in cp.stderr and "defaultMode" in cp.stderr,
            "ping with a 0644 Secret file: %s" % t.describe(cp), refl)
    t.check(refl.stop() == 0, "reflector exit status", refl)


def malformed_keys(agent, work):
    """Malformed pfs files are refused with FILE:LINE and what is wrong,
    by ping, reflect, --config.check and a running agent's reload, and no
    message quotes any part of the secret."""
    hexs = SECRET.encode().hex()
    cases = [("odd.pfs", "%s %s0\n" % (IDENT, hexs), "odd number of hex digits"),
             ("nothex.pfs", "# keys\n%s %szz\n" % (IDENT, hexs), "not hexadecimal"),
             ("trailing.pfs", "%s %s %s\n" % (IDENT, hexs, hexs[:10]), "unexpected text after the secret")]
    refl_port = t.free_port()
    good = t.write_key_file(os.path.join(work, "good-for-reload.pfs"), [(IDENT, SECRET)])
    cfg = "reflector:\n  listen: [\"127.0.0.1:%d\"]\n  modes: [authenticated]\n  key_file: %s\ntargets: []\n"
    s, web, cfg_path = t.start_agent(agent, work, cfg % (refl_port, good), name="malformed")
    for name, text, why in cases:
        path = t.write_file(os.path.join(work, name), text, 0o600)
        line = "%s:%d:" % (path, text.count("\n"))
        outputs = []
        cp = t.run([agent, "ping", "--identity", IDENT, "--key-file", path, "127.0.0.1:%d" % refl_port], timeout=10)
        t.check(cp.returncode == 5, "ping with %s: %s" % (name, t.describe(cp)))
        outputs.append(cp.stderr)
        cp = t.run([agent, "reflect", "--listen", "127.0.0.1:0", "--modes", "authenticated", "--key-file", path],
                   timeout=10)
        t.check(cp.returncode == 2, "reflect with %s: %s" % (name, t.describe(cp)))
        outputs.append(cp.stderr)
        conf = t.write_file(os.path.join(work, name + ".yml"), cfg % (refl_port, path), 0o644)
        cp = t.run([agent, "--config.check", "--config.file", conf], timeout=10)
        t.check(cp.returncode == 1, "--config.check with %s: %s" % (name, t.describe(cp)))
        outputs.append(cp.stderr)
        t.write_file(cfg_path, cfg % (refl_port, path), 0o644)
        st, _, body = t.http_get("http://127.0.0.1:%d/-/reload" % web, method="POST", data=b"")
        t.check(st == 400, "reload with %s: %d %r" % (name, st, body), s)
        outputs.append(body.decode())
        for out in outputs:
            t.check(line in out and why in out, "%s: message lacks %r / %r: %r" % (name, line, why, out), s)
            secrets_absent(out, "message for " + name)
            t.check(hexs[:8] not in out, "%s: a message quotes the secret: %r" % (name, out), s)
    secrets_absent(s.output(), "agent log", s)
    rc, d, cp = ping(agent, refl_port, good)
    t.check(rc == 0, "the agent's key store after rejected reloads: %s" % t.describe(cp), s)
    t.check(s.stop() == 0, "agent exit status", s)


def secret_dir(agent, work):
    d = t.write_secret_dir(os.path.join(work, "secret"), [("other", "z" * 12), (IDENT, SECRET)])
    for host in ("127.0.0.1", "::1"):
        refl, port = t.start_reflector(agent, host, name="reflect-secretdir",
                                       extra=["--modes", "authenticated,encrypted", "--key-file", d])
        for mode in ("authenticated", "encrypted"):
            rc, out, cp = ping(agent, port, d, extra=["--mode", mode], host=host)
            t.check(rc == 0 and out["mode"] == mode and out["lost"] == 0,
                    "Secret directory, %s on %s: %s" % (mode, host, t.describe(cp)), refl)
        secrets_absent(refl.output(), "reflector log", refl)
        t.check(refl.stop() == 0, "reflector exit status", refl)


def kdf_cap(agent, keys):
    refl, port = t.start_reflector(agent, "127.0.0.1", name="reflect-kdf",
                                   extra=["--modes", "authenticated", "--key-file", keys, "--kdf-count", "65536"])
    rc, d, cp = ping(agent, port, keys)
    t.check(rc == 5 and "Count 65536" in cp.stderr and "32768" in cp.stderr,
            "Count above the default cap: %s" % t.describe(cp), refl)
    rc, d, cp = ping(agent, port, keys, extra=["--max-kdf-count", "65536"])
    t.check(rc == 0 and d["mode"] == "authenticated" and d["received"] == 5,
            "--max-kdf-count 65536: %s" % t.describe(cp), refl)
    rc, d, cp = ping(agent, port, keys, extra=["--max-kdf-count", "32768"])
    t.check(rc == 5, "explicit cap 32768: %s" % t.describe(cp), refl)
    t.check(refl.alive(), "reflector died", refl)
    t.check(refl.stop() == 0, "reflector exit status", refl)


def kdf_cap_agent(agent, work, keys):
    """The same cap in the agent's configuration: reflector.pbkdf2_count
    65536; a target with the default max_kdf_count fails with reason
    kdf_count, one with max_kdf_count: 65536 measures."""
    port = t.free_port()
    cfg = """reflector:
  listen: ["127.0.0.1:%d"]
  modes: [authenticated]
  key_file: %s
  pbkdf2_count: 65536
defaults: {interval: 50ms, identity: %s, key_file: %s}
targets:
  - {name: capped, host: 127.0.0.1, port: %d}
  - {name: allowed, host: 127.0.0.1, port: %d, max_kdf_count: 65536}
""" % (port, keys, IDENT, keys, port, port)
    a, web, _ = t.start_agent(agent, work, cfg, name="kdf")

    def settled():
        sm = t.scrape_samples(web)
        ok = (t.value(sm, "twamp_control_connection_failures_total", target="capped", reason="kdf_count") >= 1
              and t.value(sm, "twamp_test_packets_received_total", target="allowed") >= 10)
        return sm if ok else None
    sm = t.wait_until(settled, 15, "capped failing, allowed measuring", a)
    t.check(t.value(sm, "twamp_session_up", target="capped") == 0, "capped session up", a)
    t.check(t.value(sm, "twamp_session_up", target="allowed") == 1, "allowed session down", a)
    t.check("reason=kdf_count" in a.output(), "log lacks reason=kdf_count", a)
    t.check(a.stop() == 0, "kdf agent exit status", a)


def udp_ports(pid):
    """Local (address, port) of the UDP sockets process pid holds (IPv4)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            addr, port = fields[1].split(":")
            if fields[9] in inodes:
                out.append((socket.inet_ntoa(struct.pack("<I", int(addr, 16))), int(port, 16)))
    return out


def forged_packets(agent, work, keys):
    """Test packets failing their HMAC are dropped, counted (reason auth)
    and never reflected. A raw socket forges packets from the real
    sender's address and port (so they pass the source check); without
    CAP_NET_RAW this part is reported and skipped."""
    try:
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    except OSError as e:
        t.unavailable("no raw socket (%s): forged test packets" % e, privileged=True)
        return
    refl_port = t.free_port()
    cfg = "reflector:\n  listen: [\"127.0.0.1:%d\"]\n  modes: [authenticated, encrypted]\n  key_file: %s\n" \
          "targets: []\n" % (refl_port, keys)
    s, web, _ = t.start_agent(agent, work, cfg, name="server-forged")
    try:
        for n, mode in enumerate(("authenticated", "encrypted"), 1):
            count = 100
            earlier = set(udp_ports(s.p.pid))  # sessions still draining after their Stop-Sessions
            pr = t.Proc([agent, "ping", "--json", "-c", str(count), "-i", "0.02", "--mode", mode, "--identity", IDENT,
                         "--key-file", keys, "127.0.0.1:%d" % refl_port], name="ping-" + mode)
            t.wait_until(lambda: t.value(t.scrape_samples(web), "twamp_reflector_test_packets_reflected_total", protocol="twamp")
                         >= (n - 1) * count + 10, 10, "the %s session running" % mode, s, pr)
            sender = [x for x in udp_ports(pr.p.pid) if x[0] == "127.0.0.1"]
            session = [x for x in udp_ports(s.p.pid) if x[0] == "127.0.0.1" and x not in earlier]
            t.check(len(sender) == 1 and len(session) == 1, "sockets: sender %s, session %s" % (sender, session),
                    s, pr)
            for i in range(6):
                payload = os.urandom(112 if i < 5 else 10)  # 5 full-size forgeries, 1 short
                hdr = struct.pack("!HHHH", sender[0][1], session[0][1], 8 + len(payload), 0)
                raw.sendto(hdr + payload, ("127.0.0.1", 0))
            rc = pr.wait(30)
            out = json.loads(pr.output().splitlines()[-1]) if rc == 0 else None
            t.check(rc == 0 and out["received"] == count and out["duplicates"] == {"forward": 0, "backward": 0},
                    "%s ping beside forged packets: exit %s\n%s" % (mode, rc, pr.output()), s)
            sm = t.scrape_samples(web)
            reflected = t.value(sm, "twamp_reflector_test_packets_reflected_total", protocol="twamp")
            auth = t.value(sm, "twamp_reflector_test_packets_dropped_total", protocol="twamp", reason="auth")
            short = t.value(sm, "twamp_reflector_test_packets_dropped_total", protocol="twamp", reason="short")
            t.check(reflected == n * count and auth == 5 * n and short == n,
                    "%s: reflected %s (want %d), dropped auth %s short %s" % (mode, reflected, n * count, auth, short),
                    s)
    finally:
        raw.close()
    t.check(s.stop() == 0, "server-forged exit status", s)


def main():
    args = t.parse_args()
    work = tempfile.mkdtemp(prefix="security_failures-")
    keys = t.write_key_file(os.path.join(work, "keys.pfs"), [(IDENT, SECRET)])
    wrong = t.write_key_file(os.path.join(work, "wrong.pfs"), [(IDENT, WRONG)])
    nobody = t.write_key_file(os.path.join(work, "nobody.pfs"), [("nobody", SECRET)])
    server_side(args.agent, work, keys, wrong, nobody)
    permissions(args.agent, work, keys)
    secret_dir(args.agent, work)
    malformed_keys(args.agent, work)
    kdf_cap(args.agent, keys)
    kdf_cap_agent(args.agent, work, keys)
    forged_packets(args.agent, work, keys)
    shutil.rmtree(work, ignore_errors=True)  # kept when a check failed
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
