#!/usr/bin/env python3
"""measure-resources.py - measures what one agent of a mesh uses, to size
the DaemonSet's resource requests and limits.

One agent measures N targets and reflects for them (all on loopback, so
the process carries both halves of an N+1-node mesh: N sessions out, N
in), is scraped every 5s, and after a warm-up its CPU time and resident
memory are sampled from /proc over a window:

  measure-resources.py --agent build/twamp-agent [--targets 50]
                       [--interval 1s] [--seconds 60]
                       [--security unauthenticated|authenticated|encrypted]

Prints one JSON object: cpu_millicores (average over the window),
rss_bytes (at the end), rss_peak_bytes (VmHWM), plus the parameters.
Standard library only; used by tests/integration/deploy_kubernetes.py.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(n, interval, refl, security, key_file):
    lines = ['reflector:', '  listen: ["127.0.0.1:%d"]' % refl, '  max_control_connections: %d' % (n + 8),
             '  modes: [unauthenticated, authenticated, encrypted]', '  key_file: %s' % key_file,
             'defaults:', '  interval: %s' % interval, '  port: %d' % refl, '  security: %s' % security,
             '  identity: mesh', '  key_file: %s' % key_file, 'targets:']
    lines += ['  - {name: peer-%03d, host: 127.0.0.1}' % i for i in range(n)]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def status_bytes(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def wait_ready(web, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("agent exited with %s" % proc.returncode)
        try:
            if get("http://127.0.0.1:%d/-/ready" % web)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("agent not ready")


def measure(agent, n, interval, seconds, warmup, security="unauthenticated"):
    with tempfile.TemporaryDirectory(prefix="measure-") as tmp:
        keys = os.path.join(tmp, "twamp.pfs")
        with open(os.open(keys, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("mesh %s\n" % os.urandom(16).hex())
        cfg = os.path.join(tmp, "agent.yml")
        refl = free_port()
        web = free_port()
        while web == refl:
            web = free_port()
        with open(cfg, "w") as f:
            f.write(config(n, interval, refl, security, keys))
        log = open(os.path.join(tmp, "agent.log"), "w+")
        proc = subprocess.Popen([agent, "run", "--config.file", cfg, "--web.listen-address",
                                 "127.0.0.1:%d" % web, "--log.level", "warn"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_ready(web, proc)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read())
                raise
            time.sleep(warmup)
            _, body = get("http://127.0.0.1:%d/metrics" % web)
            up = sum(1 for l in body.decode().splitlines()
                     if l.startswith("twamp_session_up{") and l.endswith(" 1"))
            c0, t0 = cpu_seconds(proc.pid), time.monotonic()
            end = t0 + seconds
            scrape_bytes = 0
            while time.monotonic() < end:
                _, body = get("http://127.0.0.1:%d/metrics" % web)
                scrape_bytes = len(body)
                time.sleep(min(5.0, max(0.0, end - time.monotonic())))
            c1, t1 = cpu_seconds(proc.pid), time.monotonic()
            return {
                "targets": n, "interval": interval, "security": security, "seconds": round(t1 - t0, 1), "sessions_up": up,
                "cpu_millicores": round(1000 * (c1 - c0) / (t1 - t0), 1),
                "rss_bytes": status_bytes(proc.pid, "VmRSS"),
                "rss_peak_bytes": status_bytes(proc.pid, "VmHWM"),
                "scrape_bytes": scrape_bytes,
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--agent", required=True)
    p.add_argument("--targets", type=int, default=50)
    p.add_argument("--interval", default="1s")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--security", default="unauthenticated")
    a = p.parse_args()
    json.dump(measure(a.agent, a.targets, a.interval, a.seconds, a.warmup, a.security), sys.stdout)
    print()


if __name__ == "__main__":
    main()
