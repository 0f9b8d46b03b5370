#!/usr/bin/env python3
"""deploy_systemd: deploy/systemd/twamp-agent.service is hardened as
documented and the agent works inside that confinement.

1. The unit's directives: Type=notify, a dedicated user, only
   CAP_NET_BIND_SERVICE, ProtectSystem=strict and the other hardening
   options, the reload and start commands.
2. `systemd-analyze verify` accepts it (ExecStart pointed at the built
   binary, Documentation= resolved against deploy/man), `systemd-analyze
   security --offline` rates it 2.0 or better, systemd-sysusers creates
   its user from twamp-agent.sysusers.
3. The agent, run under strace through start-up, probing, scraping, HTTP
   and SIGHUP reloads, notification and shutdown, with every discovery
   source configured (DNS, a file_sd directory changed by a rename, an
   http_sd server), makes only system calls
   the unit's SystemCallFilter= allows (its groups expanded by
   `systemd-analyze syscall-filter`, in systemd's order), opens sockets
   only of the RestrictAddressFamilies= families, never maps memory
   writable and executable or makes it executable later
   (MemoryDenyWriteExecute=), and opens no file for writing
   (ProtectSystem=strict).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402
import twamplib as tl  # noqa: E402

REQUIRED = {
    "Type": "notify",
    "NotifyAccess": "main",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
    "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "LockPersonality": "yes",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
}
FAMILIES = {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}
MAX_EXPOSURE = 2.0


def parse_unit(path):
    """{section: [(key, value), ...]} keeping repeated keys in order."""
    out, section, pending = {}, None, ""
    with open(path) as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            s = line.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1]
                out.setdefault(section, [])
                continue
            key, eq, value = s.partition("=")
            assert eq and section, "%s: malformed line %r" % (path, s)
            out[section].append((key.strip(), value.strip()))
    return out


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit, section, key):
    v = values(unit, section, key)
    assert len(v) == 1, "[%s] %s= set %d times, expected once" % (section, key, len(v))
    return v[0]


def check_directives(unit):
    for key, want in REQUIRED.items():
        got = one(unit, "Service", key)
        assert got == want, "%s=%s, expected %s" % (key, got, want)
    user = one(unit, "Service", "User")
    assert user not in ("", "root", "0"), "User=%s: not a dedicated user" % user
    fams = set(one(unit, "Service", "RestrictAddressFamilies").split())
    assert fams == FAMILIES, "RestrictAddressFamilies=%s, expected %s" % (sorted(fams), sorted(FAMILIES))
    start = one(unit, "Service", "ExecStart").split()
    assert start[0].startswith("/") and start[0].endswith("/twamp-agent"), "ExecStart binary %s" % start[0]
    assert start[1:4] == ["run", "--config.file", "/etc/twamp-agent/agent.yml"], "ExecStart %s" % start
    assert values(unit, "Service", "SystemCallFilter"), "no SystemCallFilter="
    assert one(unit, "Install", "WantedBy") == "multi-user.target"
    assert "man:twamp-agent(8)" in one(unit, "Unit", "Documentation").split()


def local_unit(src, agent, tmp):
    """The unit with ExecStart at the built binary, as `cmake --install` does."""
    with open(src) as f:
        text = f.read()
    assert "/usr/bin/twamp-agent" in text
    path = os.path.join(tmp, "twamp-agent.service")
    with open(path, "w") as f:
        f.write(text.replace("/usr/bin/twamp-agent", os.path.abspath(agent)))
    return path


def analyze_verify(unit_path, source_dir, tmp):
    env = dict(os.environ)
    man = os.path.join(source_dir, "deploy", "man", "twamp-agent.8")
    args = ["systemd-analyze", "verify"]
    if os.path.exists(man) and shutil.which("man"):
        os.makedirs(os.path.join(tmp, "man", "man8"), exist_ok=True)
        shutil.copy(man, os.path.join(tmp, "man", "man8", "twamp-agent.8"))
        env["MANPATH"] = os.path.join(tmp, "man")
    else:
        args.append("--man=no")
    cp = subprocess.run(args + [unit_path], capture_output=True, text=True, timeout=60, env=env)
    complaints = [l for l in cp.stderr.splitlines() if "twamp-agent" in l]
    assert cp.returncode == 0 and not complaints, "systemd-analyze verify:\n%s%s" % (cp.stdout, cp.stderr)


def analyze_security(unit_path):
    cp = subprocess.run(["systemd-analyze", "security", "--offline=true", unit_path], capture_output=True,
                        text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", cp.stdout + cp.stderr)
    assert m, "systemd-analyze security printed no exposure level:\n%s%s" % (cp.stdout, cp.stderr)
    level = float(m.group(1))
    assert level <= MAX_EXPOSURE, "exposure %.1f > %.1f:\n%s" % (level, MAX_EXPOSURE, cp.stdout)
    return level


def sysusers(source_dir, unit, tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc"))
    conf = os.path.abspath(os.path.join(source_dir, "deploy", "systemd", "twamp-agent.sysusers"))
    cp = subprocess.run(["systemd-sysusers", "--root", root, conf], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, "systemd-sysusers: %s" % cp.stderr
    with open(os.path.join(root, "etc", "passwd")) as f:
        users = {l.split(":")[0]: l.split(":") for l in f}
    user = one(unit, "Service", "User")
    assert user in users, "sysusers did not create User=%s" % user
    assert int(users[user][2]) < 1000, "%s is not a system user: %s" % (user, users[user])


# ---- system call filter ----

def filter_groups():
    """{"@group": [members...]} from `systemd-analyze syscall-filter`."""
    cp = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    groups, cur = {}, None
    for line in cp.stdout.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not line.startswith(" ") and s.startswith("@"):
            cur = groups.setdefault(s, [])
        elif cur is not None:
            cur.append(s.split()[0])
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            assert n in groups, "unknown syscall group %s" % n
            out |= expand(groups[n], groups, seen)
        else:
            out.add(n.split(":")[0])
    return out


def allowed_syscalls(unit):
    """systemd's semantics: the first assignment decides allow- or
    deny-list; later ones add to or remove from it in order."""
    groups = filter_groups()
    allow, deny, mode = set(), set(), None
    for v in values(unit, "Service", "SystemCallFilter"):
        neg = v.startswith("~")
        names = expand(v.lstrip("~").split(), groups)
        if mode is None:
            mode = "deny" if neg else "allow"
        if mode == "allow":
            allow = allow - names if neg else allow | names
        else:
            deny = deny | names if neg else deny - names
    assert mode == "allow", "SystemCallFilter= should be an allow-list"
    return allow | expand(["@default"], groups)


TRACE_RE = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)")


DISCOVERY = """
target_groups:
  - name: from-file
    exclude_self: false
    dscp: 10
    discovery: {{file_sd: {{files: ["{sd_dir}/*.json"], refresh: 1s}}}}
  - name: from-dns
    exclude_self: false
    dscp: 12
    port: {refl}
    discovery: {{dns: {{name: localhost, refresh: 1s}}}}
  - name: from-http
    exclude_self: false
    dscp: 14
    discovery: {{http_sd: {{url: "http://127.0.0.1:{http}/sd.json", refresh: 1s}}}}
"""


def discovery_config(cfg, tmp, refl):
    """The self-measuring configuration plus every discovery source (a
    file_sd directory and an http_sd server here), so their system calls
    (inotify, libcurl) are traced too."""
    import functools
    import http.server
    import threading
    sd_dir = os.path.join(tmp, "sd")
    os.makedirs(sd_dir)
    doc = '[{"targets": ["127.0.0.1:%d"], "labels": {"via": "sd"}}]\n' % refl
    for name in ("a.json", "sd.json"):
        with open(os.path.join(sd_dir, name), "w") as f:
            f.write(doc)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sd_dir)
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    dc.write_self_config(cfg, refl)
    with open(cfg, "a") as f:
        f.write(DISCOVERY.format(sd_dir=sd_dir, refl=refl, http=srv.server_address[1]))
    return sd_dir, doc


def run_traced(agent, tmp, notify_path):
    cfg = os.path.join(tmp, "agent.yml")
    sd_dir, doc = discovery_config(cfg, tmp, tl.free_port())
    web = tl.free_port()
    trace = os.path.join(tmp, "trace.txt")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    pr = tl.Proc(["strace", "-f", "-qq", "-s", "0", "-o", trace, agent, "run", "--config.file", cfg,
                  "--web.listen-address", "127.0.0.1:%d" % web], name="strace-agent", env=env)
    tl.wait_ready(web, pr, timeout=30)
    time.sleep(1.0)
    for hdr in ({}, {"Accept-Encoding": "gzip"}):
        status, _, body = tl.http_get("http://127.0.0.1:%d/metrics" % web, headers=hdr)
        tl.check(status == 200 and body, "scrape failed", pr)
    tl.http_get("http://127.0.0.1:%d/" % web)
    with open(os.path.join(sd_dir, ".b.tmp"), "w") as f:  # a ConfigMap-style swap
        f.write(doc)
    os.rename(os.path.join(sd_dir, ".b.tmp"), os.path.join(sd_dir, "b.json"))
    status, _, _ = tl.http_get("http://127.0.0.1:%d/-/reload" % web, method="POST", data=b"")
    tl.check(status == 200, "POST /-/reload answered %d" % status, pr)
    agent_pid = None
    for _ in range(50):
        out = subprocess.run(["pgrep", "-P", str(pr.p.pid)], capture_output=True, text=True).stdout.split()
        if out:
            agent_pid = int(out[0])
            break
        time.sleep(0.1)
    tl.check(agent_pid, "agent process under strace not found", pr)
    os.kill(agent_pid, signal.SIGHUP)
    time.sleep(1.0)
    os.kill(agent_pid, signal.SIGTERM)
    rc = pr.wait(30)
    tl.check(rc == 0, "agent under strace exited %s" % rc, pr)
    with open(trace) as f:
        return f.read().splitlines()


def check_trace(lines, allowed):
    used, families, bad_mem, writes = set(), set(), [], []
    for line in lines:
        m = TRACE_RE.match(line)
        if not m:
            continue
        name = m.group(1)
        used.add(name)
        if name in ("socket", "socketpair") and "(" in line:
            families.add(line.split("(", 1)[1].split(",", 1)[0])
        if name in ("mmap", "mprotect", "pkey_mprotect") and "PROT_EXEC" in line:
            if "PROT_WRITE" in line or name != "mmap":
                bad_mem.append(line)
        if name in ("open", "openat", "creat") and re.search(r"O_WRONLY|O_RDWR|O_CREAT", line):
            writes.append(line)
    assert len(used) > 20, "trace too short to mean anything: %s" % sorted(used)
    for must in ("clock_adjtime", "sendto", "recvmsg", "accept4", "epoll_ctl"):
        assert must in used, "the traced run never called %s: it did not exercise the agent" % must
    missing = sorted(used - allowed)
    assert not missing, "system calls outside SystemCallFilter=: %s" % missing
    assert families <= FAMILIES, "socket families outside RestrictAddressFamilies=: %s" % sorted(families - FAMILIES)
    assert "AF_UNIX" in families, "the notify socket was never opened (NOTIFY_SOCKET ignored?)"
    assert not bad_mem, "writable+executable or later-executable memory:\n%s" % "\n".join(bad_mem)
    assert not writes, "files opened for writing:\n%s" % "\n".join(writes)
    return used


def main():
    args = tl.parse_args()
    unit_src = os.path.join(args.source_dir, "deploy", "systemd", "twamp-agent.service")
    unit = parse_unit(unit_src)
    check_directives(unit)
    with tempfile.TemporaryDirectory(prefix="deploy-systemd-") as tmp:
        if tl.tool("systemd-analyze", "the unit verified and its system-call filter"):
            path = local_unit(unit_src, args.agent, tmp)
            analyze_verify(path, args.source_dir, tmp)
            level = analyze_security(path)
            print("systemd-analyze security: exposure %.1f" % level)
            allowed = allowed_syscalls(unit)
        else:
            allowed = None
        if tl.tool("systemd-sysusers", "the sysusers.d entry"):
            sysusers(args.source_dir, unit, tmp)
        if dc.sanitizer_build(args.build_dir):
            print("sanitizer build: its runtime's system calls (and LeakSanitizer under ptrace) are not the "
                  "shipped binary's; trace skipped")
        elif allowed is not None and tl.tool("strace", "the traced run against SystemCallFilter="):
            notify = os.path.join(tmp, "notify.sock")
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.bind(notify)
                used = check_trace(run_traced(args.agent, tmp, notify), allowed)
            print("traced run: %d distinct system calls, all allowed" % len(used))
    print("deploy_systemd: OK")


if __name__ == "__main__":
    main()
