"""Headless Chromium (the system's, never downloaded): the HTML-book checker catches what a reader would see
broken, and JupyterLab shows a chapter as a rendered notebook, not as text with `# %%` lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from iseebetter_lib.book.browser import find_chromium

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    find_chromium() is None, reason="chromium not installed (Debian: apt-get install chromium; CI's script does)")]
pytest.importorskip("websocket", reason="websocket-client not installed (the test extra installs it)")

PAGE = "<!doctype html><html><head><title>{title}</title></head><body><main>{body}</main></body></html>"


def write_site(root: Path, pages: dict[str, tuple[str, str]]) -> Path:
    for name, (title, body) in pages.items():
        (root / name).write_text(PAGE.format(title=title, body=body))
    return root


def test_the_checker_passes_a_clean_site_and_reports_each_kind_of_problem(tmp_path):
    from iseebetter_lib.book.check_html import check_site

    good = tmp_path / "good"
    good.mkdir()
    write_site(good, {"index.html": ("Home", "<h1>Home</h1><p>costs $5 and <code>$x$</code></p>"),
                      "two.html": ("Two", "<p>text</p>")})
    assert check_site(good) == []

    bad = tmp_path / "bad"
    bad.mkdir()
    write_site(bad, {"a.html": ("Same", "<img src='missing.png'>"),
                     "b.html": ("Same", "<script src='https://cdn.example.org/mathjax.js'></script>"),
                     "c.html": ("C", "<p>the loss $\\alpha + \\beta$ and \\(x\\)</p>"),
                     "d.html": ("D", "<script>notDefinedAnywhere()</script>"),
                     "e.html": ("E", "<p>$\\mathcal{L}_G = \\alpha</p><ul><li>\\delta\\,TV$</li></ul>")})
    problems = check_site(bad)
    text = "\n".join(problems)
    assert "a.html: broken image" in text and "a.html: failed request" in text and "missing.png" in text
    assert "b.html: external request https://cdn.example.org/mathjax.js" in text
    assert "b.html: same title as a.html" in text
    assert "c.html: raw TeX" in text and "d.html: JavaScript error" in text and "notDefinedAnywhere" in text
    assert "e.html: raw TeX" in text  # a formula torn apart by a Markdown list
    assert not any(p.startswith("c.html: JavaScript") for p in problems)


def test_jupyterlab_opens_a_chapter_as_a_rendered_notebook(tmp_path):
    pytest.importorskip("jupyterlab", reason="JupyterLab not installed (the book extra installs it)")
    from lab_server import Lab

    from iseebetter_lib.book.browser import Chromium

    lab = Lab(tmp_path)
    lab.wait()
    try:
        with Chromium(timeout=120) as chrome:
            chrome.visit(f"{lab.base}/lab/tree/notebooks/00_overview.py?token={lab.token}&reset")
            rendered = chrome.wait_for("document.querySelector('.jp-Notebook .jp-RenderedMarkdown h1')", 90)
            if rendered:
                chrome.screenshot(tmp_path / "lab.png", full_page=False)
            heading = chrome.evaluate("(document.querySelector('.jp-Notebook .jp-RenderedMarkdown h1') || {})"
                                      ".textContent || ''")
            editor_lines = chrome.evaluate("[...document.querySelectorAll('.jp-FileEditor .cm-line')]"
                                           ".map(l => l.textContent).filter(t => t.startsWith('# %%')).length")
            # the project kernel starts and reports its spec and language_info: nothing may change, so the tab
            # must not be marked modified (JupyterLab's jp-mod-dirty)
            kernel_up = chrome.wait_for("document.body.innerText.includes('Python (iseebetter)')", 90)
            chrome.wait_for("document.querySelector('.jp-mod-dirty')", 5)
            dirty = chrome.evaluate("document.querySelectorAll('.jp-mod-dirty').length")
    finally:
        lab.stop()
    assert rendered, "no rendered notebook heading: the chapter did not open as a notebook"
    assert heading.startswith("iSeeBetter"), heading
    assert editor_lines == 0, "the chapter also shows in the text editor"
    assert kernel_up, "the chapter did not start the project kernel, Python (iseebetter)"
    assert dirty == 0, "the chapter is marked modified right after opening"
