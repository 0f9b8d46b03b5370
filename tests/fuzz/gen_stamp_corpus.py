#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_stamp and fuzz_tlv.

fuzz_stamp seeds: one selector octet (see fuzz_stamp.c) + a UDP payload -
spec/vectors.md V11 and V14, TWAMP Light 14/41-octet packets, reflector
replies, and STAMP packets carrying every TLV type, malformed TLVs and
HMAC TLVs. fuzz_tlv seeds: two selector octets (see fuzz_tlv.c) + a TLV
area - the same TLVs one by one and together, the malformed and HMAC cases
of test_tlv.c. HMACs use the fuzz targets' fixed key 00..1f (HMAC-SHA-256
truncated to 16 octets). Standard library only.

usage: gen_stamp_corpus.py CORPUS_DIR   (writes CORPUS_DIR/stamp, CORPUS_DIR/tlv)
"""
import hashlib
import hmac
import os
import struct
import sys

KEY = bytes(range(32))
T1 = struct.pack(">II", 3908988802, 0x40000000)
T2 = struct.pack(">II", 3908988802, 0x40100000)
T3 = struct.pack(">II", 3908988802, 0x40200000)
EE = struct.pack(">H", 0x8001)
TLV_RX_SEQ = 0x01020304  # fuzz_tlv's RX_SEQ


def mac(data):
    return hmac.new(KEY, data, hashlib.sha256).digest()[:16]


def tlv(type_, value, flags=0x80):
    return bytes([flags, type_]) + struct.pack(">H", len(value)) + value


def hmac_tlv(seq, preceding):
    return tlv(8, mac(struct.pack(">I", seq) + preceding))


PAD = tlv(1, bytes(8))
LOC = tlv(2, bytes(4) + tlv(1, bytes(8)) + tlv(4, bytes(16)) + tlv(7, bytes(16)))
TSI = tlv(3, bytes(4))
COS = tlv(4, struct.pack(">I", 46 << 26))
DM = tlv(5, struct.pack(">III", 0x11223344, 0, 0))
ACC = tlv(6, bytes([0x10, 1, 0, 0]))
FU = tlv(7, bytes(16))
PRIV = tlv(252, bytes([0, 0, 1, 2, 0xaa]))
UNKNOWN = tlv(99, b"\xab\xcd\xef")
ALL = PAD + LOC + TSI + COS + DM + ACC + FU + PRIV + UNKNOWN

MALFORMED = {
    "cos-short": COS + tlv(4, b"\xb8\x00\x00") + PAD,
    "past-end": PAD + bytes.fromhex("8005000c112233440000"),
    "cos-empty": tlv(4, b"") + PAD,
    "fu-12": tlv(7, bytes(12)),
    "loc-sub-len": tlv(2, bytes(4) + tlv(4, bytes(8))),
    "loc-sub-past-end": bytes.fromhex("80020010 00000000 80040010 0000000000000000".replace(" ", "")),
    "private-short": tlv(253, b"\x00\x00") + COS,
    "trailing": tlv(1, b"") + b"\xab\xcd",
    "one-octet": b"\x80",
    "flags-set": tlv(4, struct.pack(">I", 46 << 26), 0xe0) + tlv(5, bytes(12), 0x40),
}


def stamp_open_sender(seq, ssid, tlvs=b""):
    return struct.pack(">I", seq) + T1 + EE + struct.pack(">H", ssid) + bytes(28) + tlvs


def stamp_auth_sender(seq, ssid, tlvs=b""):
    base = struct.pack(">I", seq) + bytes(12) + T1 + EE + struct.pack(">H", ssid) + bytes(68)
    return base + mac(base) + tlvs


def stamp_open_reply(seq, ssid, sseq, tlvs=b""):
    return (struct.pack(">I", seq) + T3 + EE + struct.pack(">H", ssid) + T2 + struct.pack(">I", sseq) +
            T1 + EE + bytes(2) + bytes([64]) + bytes(3) + tlvs)


def stamp_auth_reply(seq, ssid, sseq, tlvs=b""):
    base = (struct.pack(">I", seq) + bytes(12) + T3 + EE + struct.pack(">H", ssid) + bytes(4) + T2 +
            bytes(8) + struct.pack(">I", sseq) + bytes(12) + T1 + EE + bytes(6) + bytes([64]) + bytes(15))
    return base + mac(base) + tlvs


def stamp_seeds():
    light = struct.pack(">I", 1) + T1 + EE
    auth_tlvs = COS + hmac_tlv(7, COS) + tlv(1, bytes(16))
    seeds = {
        "v11-auth-sender": (0x01, stamp_auth_sender(7, 0)),
        "v11-auth-sender-resign": (0x0b, stamp_auth_sender(7, 0)),
        "v14-open-sender": (0x02, stamp_open_sender(5, 0x1234, PAD)),
        "v14-open-sender-stateless": (0x06, stamp_open_sender(5, 0x1234, PAD)),
        "v14-open-sender-verbatim": (0x00, stamp_open_sender(5, 0x1234, PAD)),
        "light-14": (0x02, light),
        "light-41": (0x02, light + bytes(27)),
        "open-44": (0x00, stamp_open_sender(1, 0)),
        "open-all-tlvs": (0x02, stamp_open_sender(9, 77, ALL)),
        "open-all-tlvs-v6": (0x12, stamp_open_sender(9, 77, ALL)),
        "auth-tlvs": (0x03, stamp_auth_sender(7, 0x1234, auth_tlvs)),
        "auth-tlvs-resign": (0x0b, stamp_auth_sender(7, 0x1234, auth_tlvs)),
        "auth-tlvs-misplaced": (0x0b, stamp_auth_sender(7, 1, hmac_tlv(7, b"") + COS)),
        "open-reply": (0x00, stamp_open_reply(9, 0, 1)),
        "open-reply-tlvs": (0x00, stamp_open_reply(9, 5, 5, tlv(4, struct.pack(">I", 0xb8a40000), 0))),
        "auth-reply": (0x01, stamp_auth_reply(3, 0x1234, 7)),
        "auth-reply-tlvs": (0x01, stamp_auth_reply(3, 0x1234, 7,
                                                   tlv(4, struct.pack(">I", 0xb8a40000), 0) +
                                                   tlv(8, mac(struct.pack(">II", 3, 0x00040004) +
                                                              struct.pack(">I", 0xb8a40000)), 0))),
        "truncated-13": (0x00, light[:13]),
        "truncated-auth-111": (0x01, stamp_auth_sender(7, 0)[:111]),
        "empty": (0x00, b""),
    }
    for name, area in MALFORMED.items():
        seeds["open-" + name] = (0x02, stamp_open_sender(3, 3, area))
    return seeds


def tlv_seeds():
    seeds = {
        "all-types": (0x04, 0x29, ALL),
        "all-types-v6-mac-stateless": (0x36, 0xb9, ALL),
        "padding": (0x00, 0x00, PAD),
        "location": (0x24, 0x29, LOC),
        "location-v6": (0x30, 0x29, LOC),
        "tsinfo": (0x00, 0x00, TSI + tlv(1, b"", 0x80)),
        "cos-v14": (0x04, 0x29, COS),
        "cos-refused": (0x00, 0x29, COS),
        "dm": (0x00, 0x00, DM),
        "access": (0x00, 0x00, ACC + tlv(6, bytes([0x30, 1, 0, 0]))),
        "follow-up": (0x00, 0x00, FU),
        "follow-up-stateless": (0x02, 0x00, FU),
        "unknown": (0x00, 0x00, UNKNOWN + tlv(0, b"") + tlv(255, b"\x77", 0) + PRIV),
        "hmac-good": (0x05, 0x29, COS + hmac_tlv(TLV_RX_SEQ, COS)),
        "hmac-good-padding-after": (0x05, 0x29, COS + hmac_tlv(TLV_RX_SEQ, COS) + tlv(1, b"\xab\xcd")),
        "hmac-resign": (0x0d, 0x29, PAD + DM + FU + tlv(8, bytes(16)) + PAD),
        "hmac-bad": (0x05, 0x29, COS + hmac_tlv(7, COS)),
        "hmac-misplaced": (0x05, 0x29, hmac_tlv(TLV_RX_SEQ, b"") + COS),
        "hmac-twice": (0x0d, 0x29, COS + tlv(8, bytes(16)) + tlv(8, bytes(16))),
        "hmac-missing": (0x01, 0x29, COS),
        "hmac-short": (0x01, 0x29, tlv(8, bytes(8)) + bytes.fromhex("8001ffff")),
        "hmac-unkeyed": (0x04, 0x29, COS + hmac_tlv(TLV_RX_SEQ, COS)),
        "empty": (0x00, 0x00, b""),
    }
    for name, area in MALFORMED.items():
        seeds[name] = (0x04, 0x29, area)
        seeds[name + "-keyed"] = (0x0d, 0x29, area)
    return seeds


def main():
    root = sys.argv[1]
    for sub, seeds, head in (("stamp", stamp_seeds(), lambda s: bytes([s[0]])),
                             ("tlv", tlv_seeds(), lambda s: bytes([s[0], s[1]]))):
        out_dir = os.path.join(root, sub)
        os.makedirs(out_dir, exist_ok=True)
        for name, seed in seeds.items():
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(head(seed) + seed[-1])


if __name__ == "__main__":
    main()
