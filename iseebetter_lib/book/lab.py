"""JupyterLab's contents manager for the chapters: jupytext's, plus the kernel's `language_info` on every notebook it
serves, so that a chapter opened in JupyterLab is not marked modified at once.

The `.py` chapters keep only `kernelspec` and `jupytext` in their header (machine-independent). JupyterLab writes the
running kernel's `language_info` (Python version included) into the notebook's metadata when the kernel starts and
marks the notebook dirty when that changes anything; serving it already filled in (the project kernel runs this
server's interpreter) leaves nothing to change. Saving drops it again (jupytext.toml's metadata filter).
Enabled by `jupyter/jupyter_server_config.json` (`make lab`, the lab tests).
"""

from __future__ import annotations

from typing import Any

from jupytext.async_contentsmanager import AsyncTextFileContentsManager


def kernel_language_info() -> dict[str, Any]:
    """The `language_info` that ipykernel reports for this interpreter."""
    import copy

    from ipykernel.ipkernel import IPythonKernel

    return copy.deepcopy(IPythonKernel.language_info)


class ProjectContentsManager(AsyncTextFileContentsManager):
    """Jupytext's contents manager that fills in the Python kernel's `language_info` of a served notebook."""

    async def get(self, path: str, content: bool = True, type: str | None = None,  # noqa: A002 - the API's name
                  format: str | None = None, **kwargs: Any) -> dict[str, Any]:  # noqa: A002
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        notebook = model.get("content") if model.get("type") == "notebook" else None
        if isinstance(notebook, dict):
            metadata = notebook.setdefault("metadata", {})
            if metadata.get("kernelspec", {}).get("language", "python") == "python":
                metadata.setdefault("language_info", kernel_language_info())
        return model
