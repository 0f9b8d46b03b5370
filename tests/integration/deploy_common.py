"""Helpers shared by the deploy_* integration tests (standard library only)."""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

# An agent that measures its own reflector: every sender, reflector,
# resolver (the name "localhost" goes through the hosts file) and exporter
# path runs.
SELF_CONFIG = """
reflector:
  listen: ["127.0.0.1:{refl}"]
defaults:
  interval: {interval}
targets:
  - {{name: self, host: localhost, port: {refl}}}
  - {{name: self-v4, host: 127.0.0.1, port: {refl}, dscp: 46}}
"""


def sanitizer_build(build_dir):
    """True when the build under test uses ASan/UBSan (TW_SANITIZE): its
    binary's resource use and system calls are not the shipped binary's."""
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if not os.path.exists(cache):
        return False
    with open(cache) as f:
        return any(l.strip() == "TW_SANITIZE:BOOL=ON" for l in f)


def write_self_config(path, refl_port, interval="50ms"):
    with open(path, "w") as f:
        f.write(SELF_CONFIG.format(refl=refl_port, interval=interval))


def scrape(web_port):
    status, _, body = tl.http_get("http://127.0.0.1:%d/metrics" % web_port)
    if status != 200:
        raise AssertionError("/metrics answered %d" % status)
    return body.decode()


def metric_families(text):
    """Family names of an exposition (from # TYPE lines), with their types."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def sample_names(text):
    """Every sample name of an exposition (x_bucket, x_sum, x_count included)."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("{", 1)[0].split(" ", 1)[0])
    return names


def label_names(text):
    """metric name -> set of label names seen on its samples."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "{" not in line:
            continue
        name, rest = line.split("{", 1)
        labels = out.setdefault(name, set())
        body = rest.rsplit("}", 1)[0]
        i = 0
        while i < len(body):
            eq = body.index("=", i)
            labels.add(body[i:eq].strip(","))
            j = eq + 2  # past ="
            while body[j] != '"':
                j += 2 if body[j] == "\\" else 1
            i = j + 2  # past ",
    return out


def live_exposition(agent, tmp, seconds=1.5):
    """Starts a self-measuring agent, lets it run, returns one scrape."""
    cfg = os.path.join(tmp, "live.yml")
    write_self_config(cfg, tl.free_port())
    web = tl.free_port()
    pr = tl.Proc([agent, "run", "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % web],
                 name="agent")
    tl.wait_ready(web, pr, timeout=20)
    time.sleep(seconds)
    text = scrape(web)
    pr.stop()
    return text


def kubectl_json(args, stdin=None, timeout=60):
    """Runs kubectl, returns the list of objects it printed as JSON (it
    prints one JSON document per object, back to back)."""
    cp = subprocess.run(["kubectl"] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    if cp.returncode != 0:
        raise AssertionError("kubectl %s failed:\n%s" % (" ".join(args), cp.stderr))
    dec = json.JSONDecoder()
    text, i, objs = cp.stdout, 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, i = dec.raw_decode(text, i)
        objs.extend(obj["items"] if obj.get("kind") == "List" else [obj])
    return objs


def privileged_free_port():
    """A TCP+UDP port below 1024 that is free on 127.0.0.1 (we run as root).
    Random, so concurrent runs of the suite (several build trees on one
    machine) rarely pick the same one."""
    import random
    ports = list(range(600, 1024))
    random.shuffle(ports)
    for port in ports:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                s.bind(("127.0.0.1", port))
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port below 1024")


class LiveStack:
    """A self-measuring agent scraped every second by a real Prometheus
    server (Debian's `prometheus`), optionally evaluating rule files."""

    def __init__(self, agent, tmp, rule_files=()):
        cfg = os.path.join(tmp, "stack-agent.yml")
        write_self_config(cfg, tl.free_port())
        self.web = tl.free_port()
        self.agent = tl.Proc([agent, "run", "--config.file", cfg, "--web.listen-address",
                              "127.0.0.1:%d" % self.web], name="agent")
        tl.wait_ready(self.web, self.agent, timeout=20)
        self.port = tl.free_port()
        pcfg = os.path.join(tmp, "prometheus.yml")
        with open(pcfg, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n")
            f.write("rule_files: [%s]\n" % ", ".join(json.dumps(os.path.abspath(r)) for r in rule_files))
            f.write("scrape_configs:\n  - job_name: twamp-agent\n")
            f.write("    static_configs: [{targets: [\"127.0.0.1:%d\"]}]\n" % self.web)
        self.prom = tl.Proc(["prometheus", "--config.file", pcfg, "--storage.tsdb.path",
                             os.path.join(tmp, "tsdb"), "--web.listen-address", "127.0.0.1:%d" % self.port],
                            name="prometheus")
        tl.wait_http_ok(self.port, "/-/ready", 30, "prometheus /-/ready", self.prom, interval=0.2)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def query(self, expr):
        """Instant query; returns the result list (raises on an API error)."""
        import urllib.parse
        status, _, body = tl.http_get(self.url("/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
        data = json.loads(body)
        if status != 200 or data.get("status") != "success":
            raise AssertionError("query %r failed: %s" % (expr, body[:500]))
        return data["data"]["result"]

    def wait_for(self, expr, timeout=30.0):
        """Polls until expr returns something; returns the result."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            res = self.query(expr)
            if res:
                return res
            time.sleep(0.5)
        tl.check(False, "%r stayed empty for %.0fs" % (expr, timeout), self.prom, self.agent)

    def stop(self):
        self.prom.stop()
        self.agent.stop()
