"""Helpers for the integration tests: real twamp-agent processes on loopback.

Standard library only. Every wait is bounded; every process started here is
killed at exit even when a test fails.
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

_procs = []


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--agent", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-dir", required=True)
    return p.parse_args()


def free_port(family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A port that is free for both TCP and UDP on loopback right now."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    for _ in range(50):
        with socket.socket(family, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(family, other) as s2:
                s2.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found")


class Proc:
    """A background process whose output goes to a temporary log file."""

    def __init__(self, args, name="proc", env=None, cwd=None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=name + "-", suffix=".log", delete=False)
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                  start_new_session=True)
        _procs.append(self)

    def output(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        return self.p.returncode

    def wait(self, timeout):
        return self.p.wait(timeout)


def _cleanup():
    for pr in _procs:
        if pr.alive():
            try:
                os.killpg(pr.p.pid, signal.SIGKILL)
            except OSError:
                pass


atexit.register(_cleanup)


def wait_tcp(host, port, timeout=10.0, proc=None):
    """Waits until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise AssertionError("%s exited early:\n%s" % (proc.name, proc.output()))
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listening on %s:%d after %.0fs" % (host, port, timeout))


def run(args, timeout=60, env=None):
    """Runs a command to completion; returns CompletedProcess (text)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


def http_get(url, timeout=5.0, headers=None, method="GET", data=None):
    """Returns (status, headers dict, body bytes); HTTP errors are returned too."""
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def check(cond, msg, *context):
    """assert with context (process logs) printed on failure."""
    if not cond:
        for c in context:
            if isinstance(c, Proc):
                sys.stderr.write("---- %s output ----\n%s\n" % (c.name, c.output()))
            else:
                sys.stderr.write("%s\n" % (c,))
        raise AssertionError(msg)


SKIP = 77  # the ctest SKIP_RETURN_CODE of the tests that may be skipped


def strict():
    """True where every tool the tests use is installed (TW_REQUIRE_TOOLS,
    set by tests/run-all.sh, which installs them) or in CI: there a check
    that cannot run is a failure, never a skip."""
    return bool(os.environ.get("TW_REQUIRE_TOOLS") or os.environ.get("CI"))


def unavailable(what, whole=False, privileged=False):
    """what cannot be checked on this machine. Under strict() that fails
    the test (AssertionError), unless it needs privileges (privileged) and
    we are not root; otherwise a notice is printed and the caller leaves
    that part out, or with whole the test exits SKIP."""
    if strict() and (not privileged or os.geteuid() == 0):
        raise AssertionError("%s, but this run requires it (TW_REQUIRE_TOOLS or CI is set; "
                             "tests/run-all.sh installs every tool)" % what)
    print("notice: %s: %s" % (what, "test skipped" if whole else "not checked"))
    if whole:
        sys.exit(SKIP)


def tool(name, what, whole=False):
    """The path of the command name, or None after unavailable() when it
    is not installed (what: the check that needs it)."""
    path = shutil.which(name)
    if path is None:
        unavailable("%s is not installed (%s)" % (name, what), whole)
    return path


def ping_json(agent, target, extra, timeout=120):
    """Runs `twamp-agent ping --json ... target`; returns (rc, dict or None, proc)."""
    cp = run([agent, "ping", "--json"] + list(extra) + [target], timeout=timeout)
    data = None
    if cp.stdout.strip():
        try:
            data = json.loads(cp.stdout)
        except ValueError:
            data = None
    return cp.returncode, data, cp


# ---- reflector processes and ping runs ----

def hostport(host, port):
    """'127.0.0.1:862' or '[::1]:862'."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def start_reflector(agent, host="127.0.0.1", extra=(), name="reflect"):
    """Starts `twamp-agent reflect --listen host:PORT` on a free port and
    waits until it accepts connections. Returns (Proc, port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    port = free_port(family)
    pr = Proc([agent, "reflect", "--listen", hostport(host, port)] + list(extra), name=name)
    wait_tcp(host, port, proc=pr)
    return pr, port


def describe(cp):
    """A CompletedProcess as text for failure messages."""
    return "exit %s\n---- stdout ----\n%s\n---- stderr ----\n%s" % (cp.returncode, cp.stdout, cp.stderr)


# ---- TWAMP-Control messages (control.md byte tables), for scripted peers ----

NTP_UNIX_OFFSET = 2208988800


def ntp_now():
    t = time.time()
    sec = int(t)
    return struct.pack("!II", (sec + NTP_UNIX_OFFSET) & 0xFFFFFFFF, int((t - sec) * (1 << 32)))


def msg_greeting(modes=1, count=1024):
    return bytes(12) + struct.pack("!I", modes) + os.urandom(32) + struct.pack("!I", count) + bytes(12)


def msg_setup(mode=1):
    return struct.pack("!I", mode) + bytes(160)


def msg_server_start(accept=0):
    start = ntp_now() if accept == 0 else bytes(8)
    return bytes(15) + bytes([accept]) + bytes(16) + start + bytes(8)


def msg_request(sender_port, receiver_port, sender_addr=None, receiver_addr=None, padding=27,
                timeout_s=2, dscp=0, ipvn=4, conf_sender=0):
    """Request-TW-Session; addresses are packed (4 or 16 octets) or None = zero."""
    def addr16(a):
        return (a or b"").ljust(16, b"\0")
    return (struct.pack("!BBBBII", 5, ipvn, conf_sender, 0, 0, 0)
            + struct.pack("!HH", sender_port, receiver_port)
            + addr16(sender_addr) + addr16(receiver_addr) + bytes(16)
            + struct.pack("!I", padding) + bytes(8) + struct.pack("!II", timeout_s, 0)
            + struct.pack("!I", (dscp & 0x3F) << 24) + bytes(8) + bytes(16))


def msg_accept(accept, port, sid=None):
    return struct.pack("!BBH", accept, 0, port if accept == 0 else 0) + (sid or os.urandom(16)) + bytes(28)


def msg_start():
    return bytes([2]) + bytes(31)


def msg_start_ack(accept=0):
    return bytes([accept]) + bytes(31)


def msg_stop(nsessions):
    return bytes([3, 0, 0, 0]) + struct.pack("!I", nsessions) + bytes(24)


def recv_exact(sock, n, timeout=5.0):
    """Reads exactly n octets (bounded); returns fewer only when the peer closed."""
    deadline = time.monotonic() + timeout
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for %d octets (got %d)" % (n, len(buf)))
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            return buf
        if not chunk:
            return buf
        buf += chunk
    return buf


def wait_closed(sock, timeout=5.0):
    """True when the peer closes (FIN or RST) within timeout; data is discarded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def sender_packet(seq, padding=27):
    """An unauthenticated Session-Sender packet (14 octets + zero padding)."""
    return struct.pack("!I", seq) + ntp_now() + struct.pack("!H", 0x0001) + bytes(padding)


# ---- the long-running agent (run mode): processes, scrapes, exposition ----

def wait_until(fn, timeout, what, *context, interval=0.1):
    """Polls fn() until it returns something truthy (returned) or timeout
    seconds pass (AssertionError naming what, with context)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            check(False, "timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last), *context)
        for c in context:
            if isinstance(c, Proc) and not c.alive():
                check(False, "%s exited while waiting for %s" % (c.name, what), *context)
        time.sleep(interval)


def write_file(path, text, mode=0o600):
    """Writes text to path with mode (set explicitly: the umask does not apply)."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def write_key_file(path, entries, mode=0o600):
    """A pfs key file: one 'identity hex(secret)' line per (identity, secret)."""
    lines = ["# test keys"] + ["%s %s" % (ident, secret.encode().hex()) for ident, secret in entries]
    return write_file(path, "\n".join(lines) + "\n", mode)


def write_secret_dir(path, entries):
    """A key directory in the layout of a Kubernetes Secret volume:
    path/..2024_01_01_00_00_00.1/<identity> (0400 files), path/..data ->
    that directory, and path/<identity> -> ..data/<identity>."""
    stamp = "..2024_01_01_00_00_00.1"
    os.makedirs(os.path.join(path, stamp), mode=0o755)
    for ident, secret in entries:
        write_file(os.path.join(path, stamp, ident), secret + "\n", 0o400)
    os.symlink(stamp, os.path.join(path, "..data"))
    for ident, _ in entries:
        os.symlink(os.path.join("..data", ident), os.path.join(path, ident))
    return path


def start_agent(agent, workdir, config_text, name="agent", extra=(), web_port=None):
    """Writes workdir/<name>.yml and starts `twamp-agent run` with it on a
    free loopback web port; waits (bounded) until /-/ready answers 200.
    Returns (Proc, web port, config path)."""
    path = write_file(os.path.join(workdir, name + ".yml"), config_text, 0o644)
    port = web_port or free_port()
    pr = Proc([agent, "run", "--config.file", path, "--web.listen-address", "127.0.0.1:%d" % port] + list(extra),
              name=name)
    wait_ready(port, pr)
    return pr, port, path


def wait_http_ok(port, path, timeout, what, *context, interval=0.1):
    """Polls http://127.0.0.1:port/path until it answers 200 (bounded, see
    wait_until: the processes in context must stay alive meanwhile)."""
    def ok():
        try:
            return http_get("http://127.0.0.1:%d%s" % (port, path), timeout=1.0)[0] == 200
        except OSError:
            return False
    wait_until(ok, timeout, what, *context, interval=interval)


def wait_ready(port, proc, timeout=15.0):
    """Waits until the agent proc, serving HTTP on port, answers 200 on /-/ready."""
    wait_http_ok(port, "/-/ready", timeout, "%s /-/ready" % proc.name, proc)


def _unescape_label(s, i):
    """Reads a quoted label value starting after the opening quote at s[i];
    returns (value, index after the closing quote)."""
    out = []
    while i < len(s):
        ch = s[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            nxt = s[i + 1] if i + 1 < len(s) else ""
            if nxt not in ('\\', '"', 'n'):
                raise ValueError("bad escape \\%s in label value" % nxt)
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        if ch == "\n":
            raise ValueError("raw newline in label value")
        out.append(ch)
        i += 1
    raise ValueError("unterminated label value")


def _parse_sample(line):
    """'name{a="x",b="y"} 1.5' -> (name, {labels}, value). Strict: no
    timestamps (the agent never writes them)."""
    i = 0
    while i < len(line) and (line[i].isalnum() or line[i] in "_:"):
        i += 1
    name = line[:i]
    labels = {}
    if i < len(line) and line[i] == "{":
        i += 1
        while line[i] != "}":
            j = line.index("=", i)
            lname = line[i:j]
            if line[j + 1] != '"':
                raise ValueError("label %s value not quoted" % lname)
            if lname in labels:
                raise ValueError("label %s twice" % lname)
            labels[lname], i = _unescape_label(line, j + 2)
            if line[i] == ",":
                i += 1
    i += 1 if i < len(line) and line[i] == "}" else 0
    rest = line[i:]
    if not rest.startswith(" ") or len(rest.split()) != 1:
        raise ValueError("expected one value after the labels: %r" % line)
    v = rest.strip()
    value = {"+Inf": float("inf"), "-Inf": float("-inf"), "NaN": float("nan")}.get(v)
    return name, labels, float(v) if value is None else value


def parse_exposition(text):
    """Parses the Prometheus text format 0.0.4 and checks its structure:
    HELP then TYPE before each family's samples, families contiguous and
    declared once, the text ends in a newline. Returns (families, samples):
    families maps name -> {"help", "type"}; samples is a list of
    (name, labels, value) in order. Raises ValueError on a violation."""
    if not text.endswith("\n"):
        raise ValueError("exposition does not end in a newline")
    families, samples = {}, []
    current = None
    suffixes = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in families:
                raise ValueError("line %d: family %s declared twice (not contiguous)" % (n, name))
            families[name] = {"help": line.split(" ", 3)[3] if line.count(" ") >= 3 else "", "type": None}
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if name != current or families[name]["type"] is not None:
                raise ValueError("line %d: TYPE %s not right after its HELP" % (n, name))
            families[name]["type"] = typ
        elif line.startswith("#") or not line:
            raise ValueError("line %d: unexpected line %r" % (n, line))
        else:
            name, labels, value = _parse_sample(line)
            typ = families.get(current, {}).get("type")
            ok = [current + s for s in suffixes.get(typ, ("",))]
            if current is None or typ is None or name not in ok:
                raise ValueError("line %d: sample %s outside its family (current %s)" % (n, name, current))
            samples.append((name, labels, value))
    return families, samples


def select(samples, name, **labels):
    """The samples named name whose labels include every given one."""
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]


def value(samples, name, **labels):
    """The value of the only sample matching (AssertionError when there is
    not exactly one)."""
    m = select(samples, name, **labels)
    if len(m) != 1:
        raise AssertionError("%d samples match %s%s" % (len(m), name, labels))
    return m[0][2]


def scrape(port, path="/metrics", headers=None):
    """GETs the agent's metrics and parses them; returns (families, samples)."""
    st, hdr, body = http_get("http://127.0.0.1:%d%s" % (port, path), headers=headers)
    if st != 200:
        raise AssertionError("GET %s: status %d: %r" % (path, st, body[:300]))
    return parse_exposition(body.decode())


def scrape_samples(port, path="/metrics"):
    return scrape(port, path)[1]


def check_histograms(families, samples):
    """Histogram invariants promtool 2.42 does not check: per series,
    buckets in strictly increasing le, cumulative (non-decreasing), a +Inf
    bucket equal to _count, and a _sum. Returns the number of series."""
    series = {}
    for name, labels, v in samples:
        for fam, f in families.items():
            if f["type"] != "histogram" or not name.startswith(fam):
                continue
            suffix = name[len(fam):]
            if suffix not in ("_bucket", "_sum", "_count"):
                continue
            key = (fam, tuple(sorted((k, x) for k, x in labels.items() if k != "le")))
            s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
            if suffix == "_bucket":
                s["buckets"].append((float(labels["le"]), v))
            else:
                s[suffix[1:]] = v
    for key, s in series.items():
        b = s["buckets"]
        if not b or b[-1][0] != float("inf"):
            raise AssertionError("%s: no +Inf bucket last" % (key,))
        for (le1, c1), (le2, c2) in zip(b, b[1:]):
            if not le1 < le2 or not c1 <= c2:
                raise AssertionError("%s: buckets not increasing/cumulative at le=%s..%s" % (key, le1, le2))
        if s["count"] is None or s["sum"] is None or b[-1][1] != s["count"]:
            raise AssertionError("%s: +Inf %s, _count %s, _sum %s" % (key, b[-1][1], s["count"], s["sum"]))
    return len(series)


# ---- target discovery (discovery_*.py): fake DNS and http_sd servers, file_sd files ----

def try_samples(port):
    """scrape_samples, or None while the agent cannot be scraped."""
    try:
        return scrape_samples(port)
    except (OSError, AssertionError, ValueError):
        return None


def series_of(samples, target, **labels):
    """Every sample (any family) whose target label is target and whose
    labels include the given ones."""
    return [s for s in samples if s[1].get("target") == target and
            all(s[1].get(k) == v for k, v in labels.items())]


def counter_of(samples, name, target, **labels):
    """The value of the one sample name{target=...}, or None when absent
    (AssertionError when several match)."""
    m = select(samples, name, target=target, **labels)
    if len(m) > 1:
        raise AssertionError("%d samples match %s{target=%s %s}" % (len(m), name, target, labels))
    return m[0][2] if m else None


def wait_samples(port, fn, what, timeout, *context):
    """Scrapes the agent on port until fn(samples) is truthy (bounded by
    timeout, see wait_until); returns those samples."""
    def poll():
        s = try_samples(port)
        return s if s is not None and fn(s) else None
    return wait_until(poll, timeout, what, *context)


def received(samples, target, **labels):
    """twamp_test_packets_received_total of target (0 while absent)."""
    return counter_of(samples, "twamp_test_packets_received_total", target, **labels) or 0


def sent_now(samples, targets, **labels):
    """{target: twamp_test_packets_sent_total (None when absent)}."""
    return {x: counter_of(samples, "twamp_test_packets_sent_total", x, **labels) for x in targets}


def check_kept(samples, before, *context, **labels):
    """Each target of before ({target: its sent count then}) is still in
    its first TWAMP-Control session (one attempt) and its sent counter
    did not go back."""
    for x, b in before.items():
        att = counter_of(samples, "twamp_control_connection_attempts_total", x, **labels)
        sent = counter_of(samples, "twamp_test_packets_sent_total", x, **labels)
        check(att == 1 and sent is not None and sent >= b, "%s: attempts %s, sent %s (was %s)" % (x, att, sent, b),
              *context)


def discovery_stats(samples, group):
    """(successes, failures, targets) of a group's discovery; None for a
    missing sample."""
    def one(name, **labels):
        m = select(samples, name, group=group, **labels)
        return m[0][2] if len(m) == 1 else None
    return (one("twamp_discovery_refreshes_total", result="success"),
            one("twamp_discovery_refreshes_total", result="failure"),
            one("twamp_discovery_targets"))


def write_atomic(path, text, mode=0o644):
    """Replaces path by a rename, as config management tools do (the
    temporary name starts with '.' so no *.json/*.yml pattern sees it)."""
    d, base = os.path.split(path)
    tmp = os.path.join(d, ".tmp-" + base)
    write_file(tmp, text, mode)
    os.rename(tmp, path)


def sd_json(groups):
    """file_sd/http_sd JSON of [(targets, labels), ...]."""
    return json.dumps([{"targets": list(ts), "labels": dict(ls)} for ts, ls in groups])


def sd_yaml(groups):
    """The same as file_sd YAML (block style)."""
    out = []
    for ts, ls in groups:
        out.append("- targets:")
        out.extend("    - '%s'" % x for x in ts)
        out.append("  labels:")
        out.extend("    %s: '%s'" % kv for kv in sorted(ls.items()))
    return "\n".join(out) + "\n"


class ConfigMapDir:
    """A directory laid out like a Kubernetes ConfigMap volume: the files
    live in DIR/..<stamp>/, DIR/..data links to the current stamp, and
    DIR/<name> links to ..data/<name>. update() switches all files at once
    the way the kubelet does: a new stamp directory, ..data swapped by a
    rename, top-level links added or removed, the old stamp deleted."""

    def __init__(self, path, files):
        self.path = path
        self.n = 0
        self.stamp = None
        self.names = set()
        os.makedirs(path, exist_ok=True)
        self.update(files)

    def update(self, files):
        self.n += 1
        stamp = "..2026_01_01_00_00_%02d.%d" % (self.n, os.getpid())
        os.mkdir(os.path.join(self.path, stamp))
        for name, text in files.items():
            write_file(os.path.join(self.path, stamp, name), text, 0o644)
        tmp = os.path.join(self.path, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, os.path.join(self.path, "..data"))
        for name in set(files) - self.names:
            os.symlink(os.path.join("..data", name), os.path.join(self.path, name))
        for name in self.names - set(files):
            os.unlink(os.path.join(self.path, name))
        if self.stamp:
            old = os.path.join(self.path, self.stamp)
            for name in os.listdir(old):
                os.unlink(os.path.join(old, name))
            os.rmdir(old)
        self.stamp = stamp
        self.names = set(files)


class FakeDns:
    """A tiny authoritative DNS server on UDP 127.0.0.1:<free port>, in a
    thread. records maps a lower-case name to {"A": [...], "AAAA": [...]};
    other names get NXDOMAIN, a known name without records of the type
    NODATA. mode "servfail" answers SERVFAIL to everything. Every answer
    has TTL 0, so the agent's resolver cache never hides a change.
    queries lists (name, qtype) as received."""

    TYPES = {"A": 1, "AAAA": 28}

    def __init__(self):
        import threading
        self.records = {}
        self.mode = "ok"
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            r = self.answer(q)
            if r:
                self.sock.sendto(r, peer)

    @staticmethod
    def _question(q):
        """(name, qtype, end offset of the question) of a query, or None."""
        if len(q) < 12 or struct.unpack("!H", q[4:6])[0] != 1:
            return None
        i, labels = 12, []
        while i < len(q) and q[i] != 0:
            n = q[i]
            if n > 63 or i + 1 + n > len(q):
                return None
            labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        if i + 5 > len(q):
            return None
        qtype, _ = struct.unpack("!HH", q[i + 1:i + 5])
        return ".".join(labels).lower(), qtype, i + 5

    def answer(self, q):
        parsed = self._question(q)
        if parsed is None:
            return None
        name, qtype, end = parsed
        self.queries.append((name, qtype))
        qid, flags = struct.unpack("!HH", q[:4])
        rcode, rdata = 0, []
        if self.mode == "servfail":
            rcode = 2
        elif name not in self.records:
            rcode = 3
        else:
            fam = {1: socket.AF_INET, 28: socket.AF_INET6}.get(qtype)
            kind = {1: "A", 28: "AAAA"}.get(qtype)
            rdata = [socket.inet_pton(fam, a) for a in self.records[name].get(kind, [])] if fam else []
        # QR, the query's opcode and RD, AA, RA, rcode
        rflags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
        head = struct.pack("!HHHHHH", qid, rflags, 1, len(rdata), 0, 0)
        answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 0, len(d)) + d for d in rdata)
        return head + q[12:end] + answers


class SdHttpServer:
    """An http_sd endpoint on 127.0.0.1:<free port>, in a thread: GET
    answers status with body (bytes), after sleeping delay seconds (a
    hanging server, bounded). requests lists (method, path, headers)."""

    def __init__(self, body=b"[]"):
        import http.server
        import threading
        outer = self
        self.body, self.status, self.delay = body, 200, 0.0
        self.requests = []
        self._stop = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(("GET", self.path, dict(self.headers)))
                body, status, delay = outer.body, outer.status, outer.delay
                if delay and outer._stop.wait(delay):
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the agent gave up waiting (timeout test)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/sd" % self.port
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def close(self):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


# ---- TWAMP Light, STAMP and the TWAMP options (issue 5) ----

def free_udp_port():
    """A UDP port free on 127.0.0.1 and ::1 (and the wildcards reflect
    binds with --light-port/--stamp-port) and a free TCP port too."""
    for _ in range(100):
        port = free_port(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for fam, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                with socket.socket(fam, socket.SOCK_DGRAM) as s:
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free UDP port found")


def wait_log(proc, text, timeout=10.0, count=1):
    """Waits until proc's output contains text (count times)."""
    wait_until(lambda: proc.output().count(text) >= count, timeout, "%r in %s's log" % (text, proc.name), proc)


def start_udp_reflector(agent, light=(), stamp=(), extra=(), name="reflect-udp"):
    """`twamp-agent reflect` with --light-port/--stamp-port for each port
    given (its TWAMP-Control listener on a free 127.0.0.1 port); waits for
    every Light/STAMP listener's log line. Returns (Proc, control port)."""
    ctl = free_port()
    args = [agent, "reflect", "--listen", "127.0.0.1:%d" % ctl]
    for p in light:
        args += ["--light-port", str(p)]
    for p in stamp:
        args += ["--stamp-port", str(p)]
    pr = Proc(args + list(extra), name=name)
    wait_tcp("127.0.0.1", ctl, proc=pr)
    shared = set(light) & set(stamp)
    if light:
        wait_log(pr, "TWAMP Light reflector listening", count=2 * len(set(light) - shared))
    if stamp:
        wait_log(pr, "STAMP reflector listening", count=2 * len(set(stamp)))
    return pr, ctl


def write_hex_key_file(path, entries, mode=0o600):
    """A pfs key file from raw secrets: one 'identity hex' line per
    (identity, bytes) - e.g. a 48-octet TWAMP Light key (AES || HMAC)."""
    lines = ["# raw test keys"] + ["%s %s" % (ident, secret.hex()) for ident, secret in entries]
    return write_file(path, "\n".join(lines) + "\n", mode)


def msg_request_options(sender_port, receiver_port, octets=0, reflect_len=0, **kw):
    """Request-TW-Session with the RFC 6038 fields (Octets to be reflected,
    Length of padding to reflect at offsets 88-91)."""
    m = bytearray(msg_request(sender_port, receiver_port, **kw))
    m[88:92] = struct.pack("!HH", octets, reflect_len)
    return bytes(m)


def msg_sids(cmd, sids):
    """Start-N-Sessions (7) / Stop-N-Sessions (9) in open mode (zero HMAC)."""
    return bytes([cmd]) + bytes(11) + struct.pack("!I", len(sids)) + b"".join(sids) + bytes(16)


class ScriptedClient:
    """A TWAMP Control-Client in open mode (with feature bits) speaking the
    byte tables directly; every read is bounded."""

    def __init__(self, host, port, mode=1, timeout=5.0):
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        g = recv_exact(self.sock, 64, timeout)
        if len(g) != 64:
            raise AssertionError("no Greeting from %s:%d" % (host, port))
        self.offered = struct.unpack("!I", g[12:16])[0]
        self.sock.sendall(msg_setup(mode))
        ss = recv_exact(self.sock, 48, timeout)
        self.server_accept = ss[15] if len(ss) == 48 else None

    def addr(self):
        packed = socket.inet_pton(self.family, self.host)
        return packed, (6 if self.family == socket.AF_INET6 else 4)

    def request(self, sender_port, padding=27, dscp=0, octets=0, reflect_len=0, timeout_s=2):
        """Returns (accept, port, sid, reflected octets, server octets)."""
        a, ipvn = self.addr()
        self.sock.sendall(msg_request_options(sender_port, 0, octets, reflect_len, sender_addr=a, receiver_addr=a,
                                              padding=padding, timeout_s=timeout_s, dscp=dscp, ipvn=ipvn))
        r = recv_exact(self.sock, 48, self.timeout)
        if len(r) != 48:
            raise AssertionError("no Accept-Session")
        accept, port = r[0], struct.unpack("!H", r[2:4])[0]
        refl, srv = struct.unpack("!HH", r[20:24])
        return accept, port, r[4:20], refl, srv

    def start(self):
        self.sock.sendall(msg_start())
        return recv_exact(self.sock, 32, self.timeout)[0]

    def sids(self, cmd, sids):
        """Start-N/Stop-N; returns (ack command, accept, N)."""
        self.sock.sendall(msg_sids(cmd, sids))
        r = recv_exact(self.sock, 32 + 16 * len(sids), self.timeout)
        return r[0], r[1], struct.unpack("!I", r[12:16])[0]

    def close(self):
        self.sock.close()


def udp_socket(host, timeout=1.0):
    """A UDP socket bound to host:0."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(timeout)
    return s


def udp_exchange(sock, dst, payload, timeout=1.0):
    """Sends payload to dst and returns the first datagram back (None when
    nothing comes within timeout)."""
    sock.settimeout(timeout)
    sock.sendto(payload, dst)
    try:
        return sock.recvfrom(65535)[0]
    except socket.timeout:
        return None


def start_capture(pcap, bpf, name="tshark", whole=False):
    """Starts `tshark -i lo -f bpf -w pcap`; returns the Proc once it
    captures, or None after unavailable() (whole: the test is skipped)
    when tshark is missing or capture is not permitted (any other failure
    raises)."""
    if tool("tshark", "packet capture", whole) is None:
        return None
    cap = Proc(["tshark", "-i", "lo", "-f", bpf, "-w", pcap], name=name)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = cap.output()
        if "Capturing on" in out:
            time.sleep(0.5)  # the message comes a little before the first read
            return cap
        if not cap.alive():
            low = out.lower()
            if "permission" in low or "operation not permitted" in low or "no interfaces" in low:
                sys.stderr.write("capture not permitted:\n%s\n" % out)
                unavailable("capture on lo is not permitted", whole, privileged=True)
                return None
            raise AssertionError("tshark exited before capturing:\n%s" % out)
        time.sleep(0.05)
    raise AssertionError("tshark did not start capturing:\n%s" % cap.output())


def stop_capture(cap):
    """Lets tshark write what it has and exit (bounded)."""
    time.sleep(0.5)
    cap.signal(signal.SIGINT)
    try:
        cap.wait(15)
    except subprocess.TimeoutExpired:
        cap.stop()


def tshark_reader(pcap, decode_as=()):
    """A function read(extra) that runs `tshark -r pcap -d RULE... extra`
    (bounded) and returns its output; a tshark failure raises."""
    base = ["tshark", "-r", pcap] + sum((["-d", rule] for rule in decode_as), [])

    def read(extra):
        cp = run(base + list(extra), timeout=60)
        if cp.returncode != 0:
            raise AssertionError("tshark -r failed:\n%s" % describe(cp))
        return cp.stdout
    return read


def tshark_fields(fields):
    """The tshark arguments printing fields, one tab-separated line per frame."""
    return ["-T", "fields"] + sum((["-e", f] for f in fields), [])


def tshark_rows(text, fields):
    """tshark_fields() output as one dict per frame (absent fields "")."""
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        out.append(dict(zip(fields, cols)))
    return out


def check_dissection(read, ours, canary, fields, *context):
    """Wireshark finds nothing wrong in our frames (the display filter
    ours): no frame is malformed and no expert warning names TWAMP or
    Malformed. The canary, a truncated packet sent to UDP port canary
    (decoded as TWAMP-Test by read), must be flagged both ways: that
    proves the two checks are live."""
    bad = tshark_rows(read(["-Y", "_ws.malformed and (%s or udp.port==%d)" % (ours, canary)]
                           + tshark_fields(fields)), fields)
    check(sorted({r["udp.dstport"] for r in bad}) == [str(canary)],
          "malformed frames other than the canary: %s" % bad, *context)
    warn = read(["-q", "-z", "expert,warn,%s" % ours])
    for line in warn.splitlines():
        check("TWAMP" not in line.upper() and "Malformed" not in line,
              "expert warning from a TWAMP dissector: %s" % line, warn)
    canary_warn = read(["-q", "-z", "expert,warn,udp.port==%d" % canary])
    check("Malformed" in canary_warn, "the expert check misses a malformed packet", canary_warn)


def tcp_streams(pcap, server_ports):
    """The TCP payloads of a capture per connection: {stream: (client
    octets, server octets)}, the server being the side on server_ports."""
    fields = ["tcp.stream", "tcp.srcport", "tcp.payload"]
    text = tshark_reader(pcap)(["-Y", "tcp.len > 0"] + tshark_fields(fields))
    streams = {}
    for r in tshark_rows(text, fields):
        if not r["tcp.payload"]:
            continue
        c, s = streams.setdefault(int(r["tcp.stream"]), (bytearray(), bytearray()))
        (s if int(r["tcp.srcport"]) in server_ports else c).extend(bytes.fromhex(r["tcp.payload"].replace(":", "")))
    return {k: (bytes(c), bytes(s)) for k, (c, s) in streams.items()}


def control_commands(client, server):
    """An open-mode TWAMP-Control conversation as (mode, [client command
    numbers], [server message first octets]) following control.md §7.7:
    Set-Up-Response 164, then commands 5 (112), 2/3 (32), 7/9 (32 + 16 N);
    the server's Greeting 64, Server-Start 48, then one answer per command
    (Accept-Session 48, Start-Ack 32, Start-N-Ack/Stop-N-Ack 32 + 16 N)."""
    mode = struct.unpack("!I", client[0:4])[0] if len(client) >= 4 else 0
    cmds, answers, pos, spos = [], [], 164, 64 + 48
    while pos < len(client):
        cmd = client[pos]
        if cmd == 5:
            size, reply = 112, 48
        elif cmd in (2, 3):
            size, reply = 32, (32 if cmd == 2 else 0)
        elif cmd in (7, 9):
            size = 32 + 16 * struct.unpack("!I", client[pos + 12:pos + 16])[0]
            reply = size
        else:
            raise AssertionError("unknown client command %d at %d" % (cmd, pos))
        cmds.append(cmd)
        if reply and spos < len(server):
            answers.append(server[spos])
            spos += reply
        pos += size
    return mode, cmds, answers


def _retry_taken(start, name, tries):
    """start() on fresh free ports, called again (up to tries times in all)
    only when it failed because another test took an address between the
    check and the bind: the last process named name said "in use"."""
    for attempt in range(tries):
        try:
            return start()
        except AssertionError:
            mine = [p for p in _procs if p.name == name]
            if attempt + 1 == tries or not mine or "in use" not in mine[-1].output():
                raise
            sys.stderr.write("%s: an address was taken meanwhile; retrying with other ports\n" % name)
    raise AssertionError("unreachable")


def start_agent_on_free_ports(agent, workdir, make_config, nudp=0, ntcp=0, name="agent", tries=3, ntcp6=0):
    """start_agent() with a config that needs free ports: make_config(udp
    ports, tcp ports) -> YAML (tcp: ntcp ports free on 127.0.0.1, then
    ntcp6 free on ::1). Other tests on the machine may take a port between
    the check and the bind, so an agent that exits because an address is
    in use is retried with fresh ports. Returns (Proc, web port, config
    path, udp ports, tcp ports)."""
    def start():
        udp = [free_udp_port() for _ in range(nudp)]
        tcp = [free_port() for _ in range(ntcp)] + [free_port(socket.AF_INET6) for _ in range(ntcp6)]
        pr, web, path = start_agent(agent, workdir, make_config(udp, tcp), name=name)
        return pr, web, path, udp, tcp
    return _retry_taken(start, name, tries)


def start_udp_reflector_free(agent, nlight=1, nstamp=1, extra=(), name="reflect-udp", tries=3):
    """start_udp_reflector() on fresh free ports, retried when one was taken
    meanwhile. Returns (Proc, control port, light ports, stamp ports)."""
    def start():
        light = [free_udp_port() for _ in range(nlight)]
        stamp = [free_udp_port() for _ in range(nstamp)]
        pr, ctl = start_udp_reflector(agent, light, stamp, extra, name)
        return pr, ctl, light, stamp
    return _retry_taken(start, name, tries)


def random_key(n):
    """n random octets without CR or LF: the key store refuses secrets
    that decode to either (a TWAMP passphrase rule it applies to the raw
    TWAMP Light / STAMP keys too), which would hit ~31% of random 48-octet
    Light keys."""
    out = b""
    while len(out) < n:
        out += bytes(b for b in os.urandom(n) if b not in (0x0A, 0x0D))
    return out[:n]
