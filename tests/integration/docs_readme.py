"""The README documents what the binary really has, and names nothing it
lacks.

* every configuration key printed by `twamp-agent --config.schema`;
* every long option printed by `--help` of run, reflect and ping;
* every metric family a live agent exports (with Light/STAMP reflectors and a
  discovery group, so those families are present too);
* the other way round: every key and option in the first column of a
  README table is one the binary prints, and every metric the README names
  (outside recording-rule names) is a family of that live scrape or one of
  its _bucket/_sum/_count series;
* the two quick-start commands at the top.
"""
import os
import re
import socket
import sys
import tempfile

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


def help_text(agent, cmd):
    cp = t.run([agent, cmd, "--help"], timeout=10)
    t.check(cp.returncode == 0, "%s --help failed" % cmd, cp.stderr)
    return cp.stdout


def long_options(text):
    return sorted(set(re.findall(r"(--[a-z][a-z0-9.\-]+)", text)))


def short_options(text):
    return set(re.findall(r"(?<![\w-])(-[a-zA-Z0-9])(?![\w-])", text))


def live_families(agent):
    tcp = t.free_port()
    light = t.free_port(kind=socket.SOCK_DGRAM)
    stamp = t.free_port(kind=socket.SOCK_DGRAM)
    web = t.free_port()
    with tempfile.TemporaryDirectory() as d:
        sd = os.path.join(d, "sd")
        os.mkdir(sd)
        t.write_file(os.path.join(sd, "a.json"), '[{"targets": ["127.0.0.1:%d"]}]' % tcp, 0o644)
        cfg = t.write_file(os.path.join(d, "agent.yml"),
                           "reflector:\n"
                           "  listen: [\"127.0.0.1:%d\"]\n"
                           "  light: {listen: [\"127.0.0.1:%d\"]}\n"
                           "  stamp: {listen: [\"127.0.0.1:%d\"]}\n"
                           "defaults: {interval: 100ms}\n"
                           "targets: [{name: self, host: 127.0.0.1, port: %d}]\n"
                           "target_groups:\n"
                           "  - {name: files, exclude_self: false, discovery: {file_sd: {files: [\"%s/*.json\"]}}}\n"
                           % (tcp, light, stamp, tcp, sd), 0o644)
        # no "run": the default command
        proc = t.Proc([agent, "--config.file", cfg, "--web.listen-address", "127.0.0.1:%d" % web], "agent")
        t.wait_tcp("127.0.0.1", web, proc=proc)

        def scrape():
            status, _, raw = t.http_get("http://127.0.0.1:%d/metrics" % web)
            body = raw.decode()
            return body if status == 200 and 'twamp_discovery_targets{group="files"} 1' in body else None
        body = t.wait_until(scrape, 10, "the discovered target in /metrics", proc)
        proc.stop()
    fams = sorted(set(re.findall(r"^# TYPE (\S+) ", body, re.M)))
    t.check(len(fams) > 30, "too few families in a live scrape", body[:2000])
    return fams


def table_names(readme):
    """The backticked names (first word) in the first column of every
    README table row."""
    names = set()
    for line in readme.splitlines():
        if line.startswith("| `"):
            names.update(x.split()[0] for x in re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def undocumented(readme, keys, helps, fams):
    missing = ["config key " + k for k in keys if "`%s`" % k not in readme]
    missing += ["%s option %s" % (cmd, o) for cmd, text in helps.items() for o in long_options(text)
                if o not in ("--help", "--version") and o not in readme]
    missing += ["metric " + f for f in fams if f not in readme]
    return missing


def unknown(readme, keys, options, fams):
    """What the README names that the binary does not have."""
    series = set(fams) | {f + s for f in fams for s in ("_bucket", "_sum", "_count")}
    bad = []
    for name in sorted(table_names(readme)):
        if name.startswith("-"):
            bad += [] if name in options else ["option " + name]
        elif re.match(r"(twamp|process)_", name):
            bad += [] if name in series else ["metric " + name]
        elif name not in keys:
            bad.append("config key " + name)
    named = set(re.findall(r"(?<![\w:])((?:twamp|process)_[a-z0-9_]*[a-z0-9])(?![\w:])", readme))
    bad += ["metric " + m for m in named - series]
    return sorted(set(bad))


def main():
    args = t.parse_args()
    with open(os.path.join(args.source_dir, "README.md")) as f:
        readme = f.read()
    keys = schema_keys(args.agent)
    helps = {cmd: help_text(args.agent, cmd) for cmd in ("run", "reflect", "ping")}
    options = set().union(*(set(long_options(x)) | short_options(x) for x in helps.values()))
    fams = live_families(args.agent)
    missing = undocumented(readme, keys, helps, fams)
    t.check(not missing, "README does not document:\n  " + "\n  ".join(missing))
    bad = unknown(readme, set(keys), options, fams)
    t.check(not bad, "README names what the binary lacks:\n  " + "\n  ".join(bad))
    head = readme[:2500]
    t.check("apt-get install" in head and "./build/twamp-agent" in head and "tests/run-all.sh" in head,
            "the quick start must begin the README with the run and test commands")
    print("README documents every key, option and metric family, and names no other")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.stderr.write("FAIL: %s\n" % e)
        sys.exit(1)
