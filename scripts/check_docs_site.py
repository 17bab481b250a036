"""Check the built documentation as a reader sees it, in headless Chromium.

1. Builds the site into ``docs/_build/html`` (``--no-build`` reuses it). When
   ``npm`` is available, MathJax is installed into ``docs/_build/mathjax`` and
   served from the site itself, so the maths renders without the network.
2. Serves the site on 127.0.0.1 (a free port) from a thread.
3. Crawls it from the home page: every page, image, stylesheet and script a
   page points to inside the site must load, and every ``#fragment`` must
   name an element of its page.
4. Opens the home page, the user guide, the estimators page, the benchmark
   tables, the API page of FunkMF and a gallery page in headless Chromium
   (Debian's ``chromium`` package) and writes screenshots to
   ``docs/_build/screenshots/``; checks that each screenshot is not blank,
   that the gallery page shows its (coloured) figures, that MathJax typeset
   the maths, and that no request the browser made failed.

Not part of the test suite (CI has no browser)::

    apt-get install -y chromium
    python scripts/check_docs_site.py

Exits non-zero when a check fails.
"""

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "docs" / "_build"
PAGES = {
    "home": "index.html",
    "user_guide": "user_guide/index.html",
    "estimators": "user_guide/estimators.html",
    "benchmarks": "benchmarks.html",
    "api_funkmf": "generated/skembrec.FunkMF.html",
    "gallery_plots": "auto_examples/plot_embeddings_and_errors.html",
    # the same page whole, down to its last figure, in a window 9000 px tall
    "gallery_full": "auto_examples/plot_embeddings_and_errors.html",
}
WINDOW_HEIGHTS = {"gallery_full": 9000}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
    # let MathJax, fonts and images finish before the picture is taken
    "--virtual-time-budget=15000",
]


# ------------------------------------------------------------------ build
def install_mathjax():
    """A local MathJax 3 (``es5/``) from npm, or None when npm is unavailable."""
    target = BUILD / "mathjax"
    es5 = target / "node_modules" / "mathjax" / "es5"
    if (es5 / "tex-chtml.js").exists():
        return es5
    if shutil.which("npm") is None:
        return None
    proc = subprocess.run(["npm", "install", "--prefix", str(target), "--no-save",
                           "--no-audit", "--no-fund", "mathjax@3"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not (es5 / "tex-chtml.js").exists():
        print(f"npm could not install MathJax; maths stays TeX:\n{proc.stderr[-800:]}")
        return None
    return es5


def build(html):
    mathjax = install_mathjax()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    if mathjax is not None:
        # relative to _static/ of the built site
        env["SKEMBREC_DOCS_MATHJAX"] = "mathjax/tex-chtml.js"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         # run the examples again: the package may have changed since
         "-D", "sphinx_gallery_conf.run_stale_examples=1",
         str(ROOT / "docs"), str(html)], env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"sphinx-build failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    if mathjax is not None:
        shutil.copytree(mathjax, html / "_static" / "mathjax", dirs_exist_ok=True)
    print(f"built {html} in {seconds:.1f} s"
          f" ({'local MathJax' if mathjax else 'MathJax from its CDN'})")


# ------------------------------------------------------------------ serve
class _Handler(http.server.SimpleHTTPRequestHandler):
    failures = []  # (status, path) of every request that failed

    def log_message(self, format, *args):  # quiet; failures are recorded instead
        pass

    def send_error(self, code, message=None, explain=None):
        type(self).failures.append((code, self.path))
        super().send_error(code, message, explain)


def serve(html):
    handler = functools.partial(_Handler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# ------------------------------------------------------------------ crawl
class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.urls = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.urls.append((tag, attrs[key]))


def fetch(url):
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status, response.headers.get_content_type(), response.read()


def crawl(base):
    """Every page reachable from the home page; returns (pages, problems, external)."""
    queue, seen, pages = deque([urljoin(base, "index.html")]), set(), {}
    problems, external, resources = [], set(), {}
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            _, kind, body = fetch(url)
        except urllib.error.HTTPError as exc:
            problems.append(f"{url}: HTTP {exc.code}")
            continue
        if kind != "text/html":
            continue
        parser = _Parser()
        parser.feed(body.decode("utf-8", "replace"))
        pages[url] = parser
        for tag, link in parser.urls:
            target = urljoin(url, link)
            parts = urlsplit(target)
            if not target.startswith(base):
                if parts.scheme in ("http", "https"):
                    external.add(target)
                continue
            plain = target.split("#")[0].split("?")[0]
            if plain.endswith(".html") or plain.endswith("/"):
                queue.append(plain)
                if parts.fragment:
                    resources.setdefault(plain, []).append((url, unquote(parts.fragment)))
            elif plain not in resources:
                resources[plain] = []
                try:
                    _, _, data = fetch(plain)
                    if plain.endswith(".png") and data[:8] != b"\x89PNG\r\n\x1a\n":
                        problems.append(f"{url}: {tag} -> {link}: not a PNG")
                except urllib.error.HTTPError as exc:
                    problems.append(f"{url}: {tag} -> {link}: HTTP {exc.code}")
    for page, anchors in resources.items():
        if page in pages:
            for origin, fragment in anchors:
                if fragment not in pages[page].ids:
                    problems.append(f"{origin}: -> {page}#{fragment}: no such id")
    return pages, problems, external


# ------------------------------------------------------------------ look
def chromium(binary, url, *extra, height=2000):
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--window-size=1280,{height}",
                               f"--user-data-dir={profile}", *extra, url],
                              capture_output=True, text=True, timeout=180)


def picture_stats(path):
    """Share of non-white pixels and of strongly coloured ones in a screenshot."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    small = image.resize((320, 320 * image.size[1] // image.size[0]))
    pixels = list(small.get_flattened_data() if hasattr(small, "get_flattened_data")
                  else small.getdata())
    ink = sum(1 for r, g, b in pixels if min(r, g, b) < 235) / len(pixels)
    colour = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 60) / len(pixels)
    return image.size, ink, colour


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--html", type=Path, default=BUILD / "html")
    parser.add_argument("--out", type=Path, default=BUILD / "screenshots")
    parser.add_argument("--no-build", action="store_true", help="reuse --html as built")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)

    if not args.no_build:
        build(args.html)
    if not (args.html / "index.html").exists():
        sys.exit(f"no site in {args.html}: build it first")
    server, base = serve(args.html)
    failed = []
    try:
        pages, problems, external = crawl(base)
        print(f"crawled {len(pages)} pages from {base}; {len(external)} external links "
              "not followed (no network)")
        failed += problems
        for problem in problems:
            print(f"  BROKEN {problem}")

        args.out.mkdir(parents=True, exist_ok=True)
        for name, page in PAGES.items():
            shot = args.out / f"{name}.png"
            shot.unlink(missing_ok=True)
            proc = chromium(args.chromium, base + page, f"--screenshot={shot}",
                            height=WINDOW_HEIGHTS.get(name, 2000))
            if not shot.exists():
                failed.append(f"{page}: no screenshot ({proc.stderr[-500:]})")
                continue
            size, ink, colour = picture_stats(shot)
            print(f"  {shot.relative_to(ROOT)}: {size[0]}x{size[1]}, "
                  f"{ink:.0%} of pixels inked, {colour:.1%} coloured")
            if ink < 0.02:
                failed.append(f"{page}: the screenshot is blank")
            if name == "gallery_full" and colour < 0.01:
                failed.append(f"{page}: no coloured figure visible")
        dom = chromium(args.chromium, base + PAGES["estimators"], "--dump-dom").stdout
        typeset = dom.count("<mjx-container")
        print(f"  MathJax typeset {typeset} formulas on {PAGES['estimators']}")
        if typeset < 10:
            failed.append(f"{PAGES['estimators']}: MathJax did not typeset the maths")
        # a site without a favicon is normal; browsers ask for one anyway
        for code, path in [f for f in _Handler.failures if f[1] != "/favicon.ico"]:
            failed.append(f"the browser or crawler asked for {path}: HTTP {code}")
    finally:
        server.shutdown()
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
