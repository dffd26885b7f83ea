"""The one exception type that reaches a user as a one-line message (the CLI prints it and exits non-zero)."""

import re


class UserError(ValueError):
    """Bad input from the user: a file, an argument or a value. The message names it and says what is wrong."""


_ADVICE = ("weights_only", "Please file an issue", "Check the documentation", "two options")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_REFUSED_GLOBAL = re.compile(r"[Uu]nsupported (?:global: )?GLOBAL ([\w.]+)")


def load_failure_reason(exc: BaseException) -> str:
    """Why a `torch.load` failed, as one clean line (no terminal colour codes, at most 200 characters): for a file
    that asks to run code, the object it names; else the first line of the message that is not torch's advice to
    retry with ``weights_only=False`` (which runs arbitrary code from the file: never the fix for a file from
    elsewhere)."""
    text = _ANSI.sub("", str(exc))
    refused = _REFUSED_GLOBAL.search(text)
    if refused:
        return f"it asks to run code: {refused.group(1)}"
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not any(a in ln for a in _ADVICE)]
    return lines[0][:200] if lines else type(exc).__name__
