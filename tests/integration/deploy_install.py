#!/usr/bin/env python3
"""deploy_install: `cmake --install` puts every file where it belongs.

1. `cmake --install BUILD --prefix TMP`: the binary in bin/ (runs), the
   man page in share/man/man8, the example configurations in
   share/doc/twamp-agent/examples (the self-contained ones pass
   --config.check with the installed binary), the systemd unit in
   lib/systemd/system with ExecStart at TMP/bin/twamp-agent, the
   sysusers.d entry, the dashboard and the rules in share/twamp-agent;
   installed copies equal their sources; install_manifest.txt lists them.
2. `DESTDIR=D cmake --install BUILD --prefix /usr` (how packages are
   built): the same files under D/usr, the unit naming /usr/bin/twamp-agent.
"""
import filecmp
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

EXAMPLES = ["agent.yml", "minimal.yml", "mesh.yml", "secure.yml"]
CHECKABLE = ["agent.yml", "minimal.yml", "mesh.yml"]  # secure.yml names key files of a real host


def expected(source_dir):
    """installed path (relative to the prefix) -> source file (None: generated)."""
    s = lambda *p: os.path.join(source_dir, *p)  # noqa: E731
    out = {
        "bin/twamp-agent": None,
        "share/man/man8/twamp-agent.8": s("deploy", "man", "twamp-agent.8"),
        "lib/systemd/system/twamp-agent.service": None,
        "lib/sysusers.d/twamp-agent.conf": s("deploy", "systemd", "twamp-agent.sysusers"),
        "share/twamp-agent/grafana/twamp-agent.json": s("deploy", "grafana", "twamp-agent.json"),
        "share/twamp-agent/prometheus/twamp-rules.yml": s("deploy", "prometheus", "twamp-rules.yml"),
        "share/twamp-agent/prometheus/twamp-rules_test.yml": s("deploy", "prometheus", "twamp-rules_test.yml"),
    }
    for e in EXAMPLES:
        out["share/doc/twamp-agent/examples/" + e] = s("config", "examples", e)
    return out


def install(build_dir, prefix, destdir=None):
    env = dict(os.environ)
    if destdir:
        env["DESTDIR"] = destdir
    cp = subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix], capture_output=True, text=True,
                        timeout=300, env=env)
    assert cp.returncode == 0, "cmake --install failed:\n%s%s" % (cp.stdout, cp.stderr)
    return cp.stdout


def check_tree(root, source_dir, bindir, agent):
    for rel, src in expected(source_dir).items():
        path = os.path.join(root, rel)
        assert os.path.isfile(path), "not installed: %s" % rel
        if src:
            assert filecmp.cmp(path, src, shallow=False), "%s differs from %s" % (rel, src)
    binary = os.path.join(root, "bin", "twamp-agent")
    assert os.access(binary, os.X_OK), "bin/twamp-agent is not executable"
    assert filecmp.cmp(binary, agent, shallow=False), "bin/twamp-agent differs from the built binary"
    with open(os.path.join(root, "lib/systemd/system/twamp-agent.service")) as f:
        unit = f.read()
    start = [l for l in unit.splitlines() if l.startswith("ExecStart=")]
    assert start == ["ExecStart=%s/twamp-agent run --config.file /etc/twamp-agent/agent.yml" % bindir], start
    assert "/usr/bin/twamp-agent" not in unit or bindir == "/usr/bin", "the unit still names /usr/bin"


def check_examples(root):
    binary = os.path.join(root, "bin", "twamp-agent")
    cp = tl.run([binary, "--version"])
    assert cp.returncode == 0 and cp.stdout.startswith("twamp-agent "), tl.describe(cp)
    for e in CHECKABLE:
        path = os.path.join(root, "share/doc/twamp-agent/examples", e)
        cp = tl.run([binary, "run", "--config.file", path, "--config.check"])
        assert cp.returncode == 0, "installed example %s fails --config.check:\n%s" % (e, tl.describe(cp))


def check_manifest(build_dir, root, source_dir):
    with open(os.path.join(build_dir, "install_manifest.txt")) as f:
        listed = set(f.read().split())
    for rel in expected(source_dir):
        assert os.path.join(root, rel) in listed, "install_manifest.txt lacks %s" % rel


def main():
    args = tl.parse_args()
    build = os.path.abspath(args.build_dir)
    with tempfile.TemporaryDirectory(prefix="deploy-install-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        install(build, prefix)
        check_tree(prefix, args.source_dir, os.path.join(prefix, "bin"), args.agent)
        check_examples(prefix)
        check_manifest(build, prefix, args.source_dir)

        dest = os.path.join(tmp, "dest")
        install(build, "/usr", destdir=dest)
        check_tree(os.path.join(dest, "usr"), args.source_dir, "/usr/bin", args.agent)
    print("deploy_install: OK (%d files)" % len(expected(args.source_dir)))


if __name__ == "__main__":
    main()
