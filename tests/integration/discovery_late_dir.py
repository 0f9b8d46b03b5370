"""file_sd patterns whose directory does not exist when the agent starts
(a volume mounted later) are watched as soon as it appears, without waiting
for the periodic re-read."""
import os
import sys
import tempfile

import twamplib as t


def main():
    args = t.parse_args()
    tcp = t.free_port()
    with tempfile.TemporaryDirectory() as d:
        sd = os.path.join(d, "later")
        cfg = ("reflector: {listen: [\"127.0.0.1:%d\"]}\n"
               "defaults: {interval: 50ms}\n"
               "target_groups:\n"
               "  - {name: late, exclude_self: false,\n"
               "     discovery: {file_sd: {files: [\"%s/*.json\"], refresh: 10m}}}\n" % (tcp, sd))
        proc, web, _ = t.start_agent(args.agent, d, cfg)
        t.check(not t.select(t.scrape_samples(web), "twamp_test_packets_sent_total"), "no target before", proc)
        os.mkdir(sd)
        t.write_file(os.path.join(sd, "a.json"), '[{"targets": ["127.0.0.1:%d"]}]' % tcp, 0o644)
        name = "127.0.0.1:%d" % tcp
        t.wait_until(lambda: t.select(t.scrape_samples(web), "twamp_test_packets_received_total", target=name)
                     and t.value(t.scrape_samples(web), "twamp_test_packets_received_total", target=name) > 0,
                     10, "the target in the directory created later is measured", proc)
        t.check(proc.stop() == 0, "agent exit status", proc)
    print("a file_sd directory created after start-up is picked up")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.stderr.write("FAIL: %s\n" % e)
        sys.exit(1)
