"""The one exception type that reaches a user as a one-line message (the CLI prints it and exits non-zero)."""


class UserError(ValueError):
    """Bad input from the user: a file, an argument or a value. The message names it and says what is wrong."""


_ADVICE = ("weights_only", "Please file an issue", "Check the documentation")


def load_failure_reason(exc: BaseException) -> str:
    """The first line of a failed `torch.load` that says why, without torch's advice to retry with
    ``weights_only=False`` (which runs arbitrary code from the file: never the fix for a file from elsewhere)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not any(a in ln for a in _ADVICE)]
    return lines[0][:200] if lines else type(exc).__name__
