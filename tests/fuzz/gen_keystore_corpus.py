#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_keystore (tests/fuzz/corpus/keystore/).

Each seed is the content of a pfs key file: the interop captures' line,
layout variants (comments, blanks, CRLF, tabs), one seed per malformed-line
kind, duplicates, limits (80-octet identity, 1024-octet secret), and an
80-octet KeyID field (the fuzz target also reads the first 80 octets as
one). Standard library only.

usage: gen_keystore_corpus.py OUT_DIR
"""
import os
import sys

CAP = b"testuser 7477616d702d696e7465726f702d736563726574"

SEEDS = {
    "capture-line": CAP + b"\n",
    "capture-no-newline": CAP,
    "layout": b"# twamp-server.pfs\n\n   # indented\nalice 736563726574\n"
              b"  bob\t\t50415353574F5244   \ncarol 6869\r\n \t \r\n#dave 6869\nx!~ 00ff",
    "many": b"".join(b"id%03d %s\n" % (i, (b"%02x" % (0x20 + i)) * 16) for i in range(40)),
    "missing-secret": b"alice\n",
    "odd-hex": b"alice 616\n",
    "not-hex": b"alice 61zz\n",
    "extra-text": b"alice 6162 6364\n",
    "trailing-comment": b"alice 6162 # note\n",
    "long-identity": b"k" * 81 + b" 61\n",
    "max-identity": b"k" * 80 + b" 61\n",
    "control-identity": b"  al\x01ice 6162\n",
    "nul-identity": b"a\x00b 6162\n",
    "utf8-identity": "\u00e9t\u00e9 6162\n".encode(),
    "cr-secret": b"ok 61\nalice 610d62\n",
    "lf-secret": b"alice 0a\n",
    "long-secret": b"a " + b"bb" * 1025 + b"\n",
    "max-secret": b"a " + b"bb" * 1024 + b"\n",
    "duplicate": b"alice 61\nbob 62\n\nalice 63\nbob 64\nalice 65\n",
    "empty": b"",
    "comments-only": b"# nothing here\n\n   \n",
    "keyid-field": b"testuser" + b"\x00" * 72 + b"\ntestuser 74657374\n",
    "keyid-80": b"k" * 80,
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
