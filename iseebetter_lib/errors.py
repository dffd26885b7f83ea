"""The one exception type that reaches a user as a one-line message (the CLI prints it and exits non-zero)."""


class UserError(ValueError):
    """Bad input from the user: a file, an argument or a value. The message names it and says what is wrong."""
