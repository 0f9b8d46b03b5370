#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_testpkt (tests/fuzz/corpus/testpkt/).

Each seed is one selector octet (see fuzz_testpkt.c) followed by a UDP
payload: the first sender and reflector packets of every interop capture,
the spec/vectors.md V10 packets (V9 keys), and a few open-mode variants
(Symmetrical Size, DSCP/ECN, truncated). Standard library only.

usage: gen_testpkt_corpus.py SHARED_DIR OUT_DIR
"""
import os
import struct
import sys

# (file, selector: security | key set << 4, reflector port)
CAPTURES = [
    ("twping-twampd-open.pcap", 0x00, 18799),
    ("twping-twampd-authenticated.pcap", 0x11, 18816),
    ("twping-twampd-encrypted.pcap", 0x22, 18991),
    ("twping-twampd-ipv6-open.pcap", 0x00, 18893),
    ("twping-twampd-open-pad64-dscp-ef.pcap", 0x00, 18886),
    ("twping-twampd-open-nopad.pcap", 0x00, 18822),
    ("twping-twampd-mixed.pcap", 0x00, 18987),
]

V10 = {
    "v10-open-sender": (0x00, "00000001e8fe6f82400000008001" + "00" * 27),
    "v10-open-reflector": (0x00, "00000000e8fe6f824020000080010000"
                                 "e8fe6f824010000000000001e8fe6f82"
                                 "400000008001000040"),
    "v10-auth-sender": (0x01, "ce243d3f1ff15b577f837a44d35b62fbe8fe6f82400000008001000000000000"
                               "9c4f6943883011bf0b4f55d0167206bb"),
    "v10-enc-sender": (0x02, "ce243d3f1ff15b577f837a44d35b62fb7ec2d54c0c38aeda8daa958aac2ddd08"
                              "b10294eda16000dc79ad1893bd22407d"),
    "v10-auth-reflector": (0x01, "b7402dae8ad0e6590bb144aa5ebf6c94"
                                  "e8fe6f82402000008001000000000000"
                                  "e8fe6f82401000000000000000000000"
                                  "00000001000000000000000000000000"
                                  "e8fe6f82400000008001000000000000"
                                  "40000000000000000000000000000000"
                                  "7073a19607553c535484a0196d228991"),
    "v10-enc-reflector": (0x02, "b7402dae8ad0e6590bb144aa5ebf6c94900cb8c37fd0b4c672b544d526cd0120"
                                 "b1b326c98fd7f8a8f7c07983d72a9a5ba1e6214633779a1682b15e7aad74693e"
                                 "753c184599f846c03ae0572f0daa068e4d75f1820d2223be98b4c5f966cca734"
                                 "5ec723c39fcca3bf680a424c0b4bf322"),
}


def udp_payloads(path):
    """Yields (dport, payload) for every UDP datagram of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data, 0)
    assert magic == 0xA1B2C3D4, path
    off = 24
    while off + 16 <= len(data):
        incl, = struct.unpack_from("<I", data, off + 8)
        frame = data[off + 16: off + 16 + incl]
        off += 16 + incl
        ethertype, = struct.unpack_from(">H", frame, 12)
        ip = frame[14:]
        if ethertype == 0x0800:
            ihl = (ip[0] & 15) * 4
            proto, l4 = ip[9], ip[ihl:]
        elif ethertype == 0x86DD:
            proto, l4 = ip[6], ip[40:]
        else:
            continue
        if proto != 17:
            continue
        dport, ulen = struct.unpack_from(">HH", l4, 2)
        yield dport, l4[8:ulen]


def write(out_dir, name, selector, payload):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(bytes([selector]) + payload)


def main():
    shared, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for fname, sel, rport in CAPTURES:
        path = os.path.join(shared, "interop", "captures", fname)
        stem = fname.replace("twping-twampd-", "cap-").replace(".pcap", "")
        seen = set()
        for dport, payload in udp_payloads(path):
            kind = "sender" if dport == rport else "reflector"
            if kind not in seen:
                seen.add(kind)
                write(out_dir, f"{stem}-{kind}", sel, payload)
    for name, (sel, hx) in V10.items():
        write(out_dir, name, sel, bytes.fromhex(hx))
    snd = bytes.fromhex(V10["v10-open-sender"][1])
    refl = bytes.fromhex(V10["v10-open-reflector"][1])
    write(out_dir, "open-symmetric-sender", 0x04, snd + b"\x5a" * 5)
    write(out_dir, "open-dscp-ecn-reflector", 0x08, refl + b"\xb8\x00\x00" + b"\xa5" * 9)
    write(out_dir, "open-symmetric-dscp-ecn", 0x0C, snd + b"\x00" * 3)
    write(out_dir, "truncated-sender", 0x00, snd[:13])
    write(out_dir, "truncated-auth", 0x01, bytes.fromhex(V10["v10-auth-sender"][1])[:47])
    write(out_dir, "invalid-security", 0x03, snd)
    write(out_dir, "empty", 0x00, b"")


if __name__ == "__main__":
    main()
