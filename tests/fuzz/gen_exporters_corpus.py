#!/usr/bin/env python3
"""Writes the seed corpora of the exporter fuzz targets (accept, listen,
procstat) into tests/fuzz/corpus/<name>/. Run from anywhere; commit the
files it writes."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

ACCEPT = [
    "gzip", "gzip, deflate, br", "deflate, gzip;q=1.0, *;q=0.5", "gzip;q=0",
    "*;q=0, identity", "identity;q=1, gzip;q=0.5", "x-gzip;q=0.001",
    "gzip;level=\"a,b\";q=0.5", "gzip;q=\"0.5\"", ",,gzip;q=1.000,,", "gzip ; Q=0.7 ",
    "gzip;q=0.5;q", "", "\t*\t;\tq=1",
]
LISTEN = [
    ":9862", "0.0.0.0:9862", "127.0.0.1:0", "[::1]:9862", "[::]:862",
    "[fe80::1%eth0]:80", "localhost:9862", "host.example.net:65535", ":65536",
    "::1:80", "[]:80", "[::1]", "x", "[::1]x:1", "a:b:c", ":",
]
PROCSTAT = [
    b"4242 (twamp-agent) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 1 0 "
    b"123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
    b"1 (a) b) R 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 4 5\n",
    b"cpu  1 2 3 4\nintr 1 2 3\nbtime 1700000000\nprocesses 10\n",
    b"btime 12",
    b"4242 tw S 1",
]


def write(name, items):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for i, item in enumerate(items):
        data = item.encode() if isinstance(item, str) else item
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(data)


write("accept", ACCEPT)
write("listen", LISTEN)
write("procstat", PROCSTAT)
