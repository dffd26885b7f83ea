"""The built HTML book as a reader's browser shows it: every page served on 127.0.0.1 and loaded in headless Chromium.

A page fails on a broken image, a failed request, a JavaScript error, a request that leaves the local server (a CDN),
raw TeX left in its text, a literal `{placeholder}` in its text (a template never filled in), or a link to a web host
that is not one the book really cites (`laptop.pt` turned into http://laptop.pt); the book fails when two pages share
a title. Screenshots of the index and of chapter
05 go to `_build/<profile>/screenshots/`.

    python -m iseebetter_lib.book.check_html --profile smoke      (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import re
import urllib.parse
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iseebetter_lib.book.browser import Chromium, PageVisit
from iseebetter_lib.errors import UserError

SCREENSHOTS = {"index.html": "index.png", "notebooks/05_vid4.html": "05_vid4.png"}
LOCAL_SCHEMES = ("data:", "blob:", "about:")
BROWSER_OWN = ("/favicon.ico",)  # asked for by the browser itself when a page names no icon
# in visible text outside code and rendered maths: $$, \( \) \[ \] delimiters, a `$` beside a TeX command (also
# the halves of a formula torn apart by Markdown), a short `$x$`, or a common TeX command
RAW_TEX = re.compile(r"\$\$|\\[()\[\]]|\$\s*\\[A-Za-z]|\\[A-Za-z]+(\{[^}\n]*\})?\s*\$|\$[^$\s]{1,3}\$"
                     r"|\\(mathcal|mathrm|mathbf|frac|sqrt|alpha|beta|gamma|delta|phi|sigma|cdot|times|log|sum)\b")
VISIBLE_TEXT = """(() => {
  const body = document.querySelector('main') || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, .highlight, .headerlink, '
                        + 'mjx-assistive-mml').forEach(n => n.remove());
  return copy.innerText;
})()"""
# a `{name}` left in the visible text (code and rendered maths are not text here)
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*\}")
# the web hosts the book may link to: the references it cites and the tools that build it
KNOWN_HOSTS = frozenset({"doi.org", "dx.doi.org", "github.com", "arxiv.org", "jupyterbook.org", "www.sphinx-doc.org",
                         "sphinx-doc.org", "pydata-sphinx-theme.readthedocs.io", "sphinx-book-theme.readthedocs.io",
                         "executablebooks.org", "toflow.csail.mit.edu", "people.csail.mit.edu"})
BROKEN_IMAGES = "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages(html: Path) -> list[str]:
    """The book's pages, relative to `html` (not the theme's static files or the page sources)."""
    skip = ("_static", "_sources", "_images")
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in skip)


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def links_in(page_html: str) -> list[str]:
    """The `href` of every link of an HTML page."""
    parser = _Links()
    parser.feed(page_html)
    return parser.links


def text_problems(text: str) -> list[str]:
    """Raw TeX and literal `{placeholder}`s in a page's visible text."""
    problems = []
    tex = list(RAW_TEX.finditer(text))
    if tex:
        at = tex[0].start()
        problems.append(f"raw TeX in the text ({len(tex)} place(s)), first: {text[max(at - 20, 0):at + 40]!r}")
    problems += [f"literal placeholder {m.group(0)} in the text: {text[max(m.start() - 30, 0):m.end() + 30]!r}"
                 for m in PLACEHOLDER.finditer(text)]
    return problems


def link_problems(links: list[str]) -> list[str]:
    """Links to http(s) hosts that are not among the book's known hosts (local and relative links are fine)."""
    problems = []
    for link in links:
        url = urllib.parse.urlsplit(link)
        host = (url.hostname or "").lower()
        if url.scheme in ("http", "https") and host not in KNOWN_HOSTS and host not in ("127.0.0.1", "localhost"):
            problems.append(f"link to an unknown web host {host!r}: {link}")
    return problems


def page_problems(visit: PageVisit, base: str, broken_images: list[str], text: str,
                  links: list[str] | None = None) -> list[str]:
    """One line per problem of one visited page."""
    problems = [f"external request {u}" for u in visit.requests if not u.startswith(base) and not
                u.startswith(LOCAL_SCHEMES)]
    problems += [f"failed request {f}" for f in visit.failed if not f.split(" ")[0].endswith(BROWSER_OWN)]
    problems += [f"JavaScript error: {e}" for e in visit.js_errors]
    problems += [f"broken image {src}" for src in broken_images]
    return problems + text_problems(text) + link_problems(links or [])


def check_site(html: Path, screenshots: Path | None = None, browser: Chromium | None = None) -> list[str]:
    """Load every page of the site in `html`; returns the problems as 'page: problem' lines (empty: all good)."""
    problems: list[str] = []
    titles: dict[str, str] = {}
    with serve(html) as base, (browser or Chromium()) as chrome:
        for page in pages(html):
            visit = chrome.visit(base + page)
            text = chrome.evaluate(VISIBLE_TEXT) or ""
            broken = chrome.evaluate(BROKEN_IMAGES) or []
            links = links_in((html / page).read_text(errors="replace"))
            problems += [f"{page}: {p}" for p in page_problems(visit, base, broken, text, links)]
            if screenshots is not None and page in SCREENSHOTS:
                chrome.screenshot(screenshots / SCREENSHOTS[page])
            if chrome.evaluate("location.href") != base + page:
                continue  # a redirect (index.html -> the first page): its title is the target's
            if visit.title in titles:
                problems.append(f"{page}: same title as {titles[visit.title]}: {visit.title!r}")
            titles.setdefault(visit.title, page)
    return problems


def main(argv: list[str] | None = None) -> int:
    from iseebetter_lib.paths import book_root

    parser = argparse.ArgumentParser(prog="python -m iseebetter_lib.book.check_html",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="smoke", help="the built book's profile (default: smoke)")
    parser.add_argument("--html", default=None, help="folder of the built site (default: the profile's book)")
    args = parser.parse_args(argv)
    build = book_root() / "_build" / args.profile
    html = Path(args.html) if args.html else build / "book" / "_build" / "html"
    try:
        if not (html / "index.html").is_file():
            raise UserError(f"{html}: no built book (run `iseebetter book build --profile {args.profile}` first)")
        problems = check_site(html, screenshots=build / "screenshots")
    except UserError as exc:
        print(f"check_html: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    print(f"check_html: {len(pages(html))} page(s), {len(problems)} problem(s); screenshots in {build / 'screenshots'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
