"""Sphinx extension of the HTML book: pages that load nothing from the network and raise no script errors.

Thebe (live code through a Binder) is off in this book, but Jupyter Book 1 still adds sphinx-thebe's scripts, whose
inline configuration is emitted twice per page (a JavaScript redeclaration error) and names a CDN: they are dropped.
The colour mode starts as "light" instead of an empty value the theme complains about on a first visit.
"""

from __future__ import annotations

from typing import Any


def _is_thebe(script: Any) -> bool:
    name = str(getattr(script, "filename", script) or "")
    body = str((getattr(script, "attributes", None) or {}).get("body", ""))
    return name.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def _page_context(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]
    context.setdefault("default_mode", "light")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
