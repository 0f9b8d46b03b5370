#!/usr/bin/env python3
"""status_page: the status page at / with live data, in headless Chromium.

An agent probes itself (by address and by name, the latter under a name
full of markup and quotes) and a port where nothing listens, 50 ms apart,
with the history period shortened to 500 ms (TW_HISTORY_PERIOD_MS, a knob
for tests only) so the charts fill in seconds. Then:

- GET / is valid UTF-8 HTML with balanced tags, every target (escaped, no
  markup from a name), numbers for the live sessions, a state and error for
  the dead one, the links, and one <svg> per session whose bands have data;
- headless Chromium renders it: the PNG screenshot has the requested size
  and is not blank (decoded here: many colours, among them the chart's band
  colours and the "no loss" green);
- Chromium's --dump-dom holds the SVG elements and no <script> element.

Without chromium the test is skipped (77) on a developer machine; under
tests/run-all.sh (which installs it) or CI it fails instead
(twamplib.strict()).
"""
import html.parser
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twamplib as tl  # noqa: E402

WIDTH, HEIGHT = 1280, 2000
EVIL = "<script>alert(\"x\")</script> & 'q'"
EVIL_HTML = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
DURATION_CELL = re.compile(r'<td class="n">[0-9.]+ (?:ns|µs|ms|s)</td>')
BAND_COLOURS = {(0xc6, 0xdb, 0xef): "p5-p95 band", (0x9e, 0xca, 0xe1): "p10-p90 band",
                (0x6b, 0xae, 0xd6): "p25-p75 band", (0x1a, 0x98, 0x50): "no-loss green"}

CONFIG = """
reflector:
  listen: ["127.0.0.1:{refl}"]
defaults:
  interval: 50ms
  loss_timeout: 1s
targets:
  - name: self
    host: 127.0.0.1
    port: {refl}
  - name: '{evil}'
    host: localhost
    port: {refl}
  - name: nobody-listens
    host: 127.0.0.1
    port: {dead}
"""


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    tl.unavailable("chromium is not installed (apt-get install chromium)", whole=True)


# ---- the HTML ----

class TagChecker(html.parser.HTMLParser):
    """Balanced tags (void elements aside), element counts, script check."""
    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.counts, self.errors, self.text = [], {}, [], []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1:] or "nothing"))
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def band_segments(page, chart_index):
    """Rectangles in the p25-p75 band path of the chart with that index."""
    start = page.find('<h3 id="s%d">' % chart_index)
    if start < 0:
        return 0
    d = page.find('<path class="b3" d="', start)
    return page[d:page.find('"/>', d)].count("M") if d >= 0 else 0


def fetch_page(port):
    status, headers, body = tl.http_get("http://127.0.0.1:%d/" % port)
    tl.check(status == 200, "GET / answered %d" % status)
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    tl.check(ctype == "text/html; charset=utf-8", "Content-Type %r" % ctype)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("the page is not UTF-8: %s" % e)


def check_html(page, pr):
    p = TagChecker()
    p.feed(page)
    p.close()
    tl.check(not p.errors and not p.stack, "unbalanced tags: %s, open at the end: %s" % (p.errors[:5], p.stack), pr)
    tl.check(page.startswith("<!DOCTYPE html>"), "no doctype", pr)
    tl.check(p.counts.get("script", 0) == 0 and "<script" not in page, "a <script> element in the page", pr)
    tl.check(p.counts.get("svg", 0) == 3, "expected 3 charts, found %d" % p.counts.get("svg", 0), pr)
    tl.check(page.count(EVIL_HTML) == 3, "the escaped name should appear in row, heading and title", pr)
    text = "".join(p.text)
    for name in ("self", EVIL, "nobody-listens"):
        tl.check(name in text, "target %r missing from the page text" % name, pr)
    for link in ('href="/metrics"', 'href="/-/healthy"', 'href="/-/ready"'):
        tl.check(link in page, "missing link %s" % link, pr)
    for frag in ("Uptime", "Last reload</th><td>ok", "<td class=\"st-up\">up</td>", ">connect</td>"):
        tl.check(frag in page, "missing %r" % frag, pr)
    return p.counts


def self_row(page):
    start = page.find('<a href="#s2">self</a>')
    return page[start:page.find("</tr>", start)] if start >= 0 else ""


def wait_for_charts(port, pr):
    """Until the live charts hold several periods and the self row shows
    last-period numbers (not since-start ones)."""
    def ready():
        page = fetch_page(port)
        row = self_row(page)
        ok = (band_segments(page, 0) >= 4 and band_segments(page, 2) >= 4 and "*" not in row
              and len(DURATION_CELL.findall(row)) >= 2)
        return page if ok else None
    return tl.wait_until(ready, 30, "charts with data on /", pr, interval=0.5)


# ---- Chromium ----

def run_chromium(chromium, tmp, extra, timeout=120):
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", "--force-color-profile=srgb", "--user-data-dir=" + profile] + extra
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        tl.check(False, "chromium did not finish within %ds: %s" % (timeout, err.decode(errors="replace")[-2000:]))
    try:
        os.killpg(p.pid, signal.SIGKILL)  # helpers it may have left behind
    except OSError:
        pass
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def png_decode(data):
    """(width, height, set of RGB colours) of an 8-bit RGB/RGBA PNG."""
    tl.check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    tl.check(hdr is not None, "PNG without IHDR")
    width, height, depth, ctype, _, _, interlace = hdr
    tl.check(depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG format %r" % (hdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    tl.check(len(raw) == height * (stride + 1), "PNG data size %d != %d" % (len(raw), height * (stride + 1)))
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(ftype, line, prev, bpp)
        for x in range(0, stride, bpp):
            colours.add(bytes(line[x:x + 3]))
        prev = line
    return width, height, colours


def unfilter(ftype, line, prev, bpp):
    n = len(line)
    if ftype == 0:
        return
    if ftype == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif ftype == 2:
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif ftype == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif ftype == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        raise AssertionError("bad PNG filter type %d" % ftype)


def screenshot(chromium, tmp, url, pr):
    out = os.path.join(tmp, "status.png")
    rc, _, err = run_chromium(chromium, tmp, ["--screenshot=" + out, "--window-size=%d,%d" % (WIDTH, HEIGHT), url])
    tl.check(os.path.exists(out), "chromium wrote no screenshot (exit %s): %s" % (rc, err[-2000:]), pr)
    with open(out, "rb") as f:
        data = f.read()
    width, height, colours = png_decode(data)
    tl.check((width, height) == (WIDTH, HEIGHT), "screenshot is %dx%d, asked for %dx%d" % (width, height, WIDTH,
                                                                                          HEIGHT), pr)
    tl.check(len(colours) >= 20, "the screenshot looks blank: %d colours" % len(colours), pr)
    for rgb, what in BAND_COLOURS.items():
        tl.check(bytes(rgb) in colours, "the screenshot has no %s (#%02x%02x%02x)" % ((what,) + rgb), pr)
    return len(data), len(colours)


def dump_dom(chromium, tmp, url, pr):
    rc, dom, err = run_chromium(chromium, tmp, ["--dump-dom", url])
    tl.check(rc == 0 and "</html>" in dom, "chromium --dump-dom failed (exit %s): %s" % (rc, err[-2000:]), pr)
    tl.check(dom.count("<svg") == 3, "DOM holds %d <svg> elements, expected 3" % dom.count("<svg"), pr)
    for frag in ('<path class="b1"', '<path class="b3"', '<path class="m l0"', '<rect class="frame"', "<text "):
        tl.check(frag in dom, "DOM lacks %s" % frag, pr)
    tl.check("<script" not in dom, "a <script> element reached the DOM", pr)
    tl.check(EVIL_HTML.replace("&quot;", '"').replace("&#39;", "'") in dom, "the escaped name is not text", pr)


def main():
    args = tl.parse_args()
    chromium = find_chromium()
    os.environ["TW_HISTORY_PERIOD_MS"] = "500"  # inherited by the agent
    with tempfile.TemporaryDirectory(prefix="status-page-") as tmp:
        config = CONFIG.format(refl=tl.free_port(), dead=tl.free_port(), evil=EVIL.replace("'", "''"))
        pr, port, _ = tl.start_agent(args.agent, tmp, config)
        page = wait_for_charts(port, pr)
        counts = check_html(page, pr)
        url = "http://127.0.0.1:%d/" % port
        png_bytes, ncolours = screenshot(chromium, tmp, url, pr)
        dump_dom(chromium, tmp, url, pr)
        tl.check(pr.alive(), "agent died", pr)
        rc = pr.stop()
        tl.check(rc == 0, "agent exit status %s" % rc, pr)
    print("status_page: OK (page %d bytes, %d paths; screenshot %d bytes, %d colours)" %
          (len(page.encode()), counts.get("path", 0), png_bytes, ncolours))


if __name__ == "__main__":
    main()
