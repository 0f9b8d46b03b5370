"""A reload that turns the reflector off and on again keeps the
twamp_reflector_* counters monotonic (counters of the stopped server are
carried over), while the gauges follow the running server."""
import signal
import sys
import tempfile

import twamplib as t


def config(tcp, with_reflector):
    refl = "reflector: {listen: [\"127.0.0.1:%d\"]}\n" % tcp if with_reflector else ""
    return refl + ("defaults: {interval: 20ms}\n"
                   "targets: [{name: self, host: 127.0.0.1, port: %d}]\n" % tcp)


def reflected(port):
    return t.value(t.scrape_samples(port), "twamp_reflector_test_packets_reflected_total", protocol="twamp")


def connections(port):
    return t.value(t.scrape_samples(port), "twamp_reflector_control_connections_total")


def main():
    args = t.parse_args()
    tcp = t.free_port()
    with tempfile.TemporaryDirectory() as d:
        proc, web, path = t.start_agent(args.agent, d, config(tcp, True))
        t.wait_until(lambda: reflected(web) > 20, 10, "the reflector reflects", proc)
        before, conns = reflected(web), connections(web)
        t.write_file(path, config(tcp, False), 0o644)
        proc.signal(signal.SIGHUP)
        t.wait_until(lambda: t.value(t.scrape_samples(web), "twamp_reflector_sessions", protocol="twamp") == 0, 10,
                     "the reflector stops", proc)
        off = reflected(web)
        t.check(off >= before, "reflected went back from %s to %s after the reflector stopped" % (before, off), proc)
        t.check(connections(web) >= conns, "control connections went back", proc)
        t.write_file(path, config(tcp, True), 0o644)
        proc.signal(signal.SIGHUP)
        t.wait_until(lambda: reflected(web) > off + 20, 15, "the restarted reflector reflects again", proc)
        t.check(connections(web) > conns, "the new server's connections are added", proc)
        t.check(proc.stop() == 0, "agent exit status", proc)
    print("reflector counters stay monotonic across off/on reloads")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.stderr.write("FAIL: %s\n" % e)
        sys.exit(1)
