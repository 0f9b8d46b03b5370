"""The README documents what the binary really has.

* every configuration key printed by `twamp-agent --config.schema`;
* every long option printed by `--help` of run, reflect and ping;
* every metric family a live agent exports (with Light/STAMP reflectors and a
  discovery group, so those families are present too);
* the two quick-start commands at the top.
"""
import os
import re
import sys
import tempfile
import time

import twamplib as t


def schema_keys(agent):
    cp = t.run([agent, "--config.schema"], timeout=10)
    t.check(cp.returncode == 0, "--config.schema failed", cp.stderr)
    keys = []
    for line in cp.stdout.splitlines():
        if not line or line.startswith("KEY") or line.startswith("Target settings"):
            continue
        keys.append(line.split()[0])
    t.check(len(keys) > 40, "too few schema keys: %r" % keys)
    return keys


def long_options(agent, cmd):
    cp = t.run([agent, cmd, "--help"], timeout=10)
    t.check(cp.returncode == 0, "%s --help failed" % cmd, cp.stderr)
    return sorted(set(re.findall(r"(--[a-z][a-z0-9.\-]+)", cp.stdout)))


def live_families(agent):
    port = t.free_port()
    tcp = t.free_port()
    light = t.free_port(kind=__import__("socket").SOCK_DGRAM)
    stamp = t.free_port(kind=__import__("socket").SOCK_DGRAM)
    web = t.free_port()
    with tempfile.TemporaryDirectory() as d:
        sd = os.path.join(d, "sd")
        os.mkdir(sd)
        with open(os.path.join(sd, "a.json"), "w") as f:
            f.write('[{"targets": ["127.0.0.1:%d"]}]' % tcp)
        cfg = os.path.join(d, "agent.yml")
        with open(cfg, "w") as f:
            f.write("reflector:\n"
                    "  listen: [\"127.0.0.1:%d\"]\n"
                    "  light: {listen: [\"127.0.0.1:%d\"]}\n"
                    "  stamp: {listen: [\"127.0.0.1:%d\"]}\n"
                    "defaults: {interval: 100ms}\n"
                    "targets: [{name: self, host: 127.0.0.1, port: %d}]\n"
                    "target_groups:\n"
                    "  - {name: files, exclude_self: false, discovery: {file_sd: {files: [\"%s/*.json\"]}}}\n"
                    % (tcp, light, stamp, tcp, sd))
        proc = t.Proc([agent, "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % web], "agent")
        t.wait_tcp("127.0.0.1", web, proc=proc)
        deadline = time.monotonic() + 10
        body = ""
        while time.monotonic() < deadline:
            status, _, raw = t.http_get("http://127.0.0.1:%d/metrics" % web)
            body = raw.decode()
            if status == 200 and 'twamp_discovery_targets{group="files"} 1' in body:
                break
            time.sleep(0.2)
        proc.stop()
    fams = sorted(set(re.findall(r"^# TYPE (\S+) ", body, re.M)))
    t.check(len(fams) > 30, "too few families in a live scrape", body[:2000])
    del port
    return fams


def main():
    args = t.parse_args()
    with open(os.path.join(args.source_dir, "README.md")) as f:
        readme = f.read()
    missing = []
    for k in schema_keys(args.agent):
        # table rows name keys in backticks; grouped rows list light/stamp together
        if "`%s`" % k not in readme:
            missing.append("config key " + k)
    for cmd in ("run", "reflect", "ping"):
        for opt in long_options(args.agent, cmd):
            if opt in ("--help", "--version"):
                continue
            if opt not in readme:
                missing.append("%s option %s" % (cmd, opt))
    for fam in live_families(args.agent):
        if fam not in readme:
            missing.append("metric " + fam)
    t.check(not missing, "README does not document:\n  " + "\n  ".join(missing))
    head = readme[:2500]
    t.check("apt-get install" in head and "./build/twamp-agent" in head and "tests/run-all.sh" in head,
            "the quick start must begin the README with the run and test commands")
    print("README documents every key, option and metric family")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.stderr.write("FAIL: %s\n" % e)
        sys.exit(1)
