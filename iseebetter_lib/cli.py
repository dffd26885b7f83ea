"""The `iseebetter` command: train, evaluate, upscale and run the book.

Each area registers its own subcommand (`register(subparsers)`); this module only wires them and turns user errors
into one line on stderr and exit status 2, so that bad input never ends in a traceback. SIGTERM is handled like
Ctrl-C (the same clean-up of partial files runs; exit status 143 instead of 130); warnings print as one line each,
once per kind per run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import warnings
from typing import Iterator, Sequence

from iseebetter_lib import __version__
from iseebetter_lib.errors import UserError

# (module, summary) for every subcommand, in the order --help lists them.
SUBCOMMANDS = (
    ("iseebetter_lib.training.command", "train"),
    ("iseebetter_lib.evaluation.command", "evaluate"),
    ("iseebetter_lib.inference.command", "upscale"),
    ("iseebetter_lib.book.command", "book"),
    ("iseebetter_lib.data.fetch.command", "fetch"),
)

DESCRIPTION = """\
iSeeBetter, reproduced: 4x video super-resolution with a recurrent back-projection generator (RBPN) and an SRGAN
discriminator trained with MSE + VGG perceptual + adversarial + total-variation loss.

Typical use:
  iseebetter train --preset compact                 train a small model on the embedded sample clips (CPU)
  iseebetter fetch vid4                             download the Vid4 test set into the data home
  iseebetter evaluate --dataset vid4 --method bicubic   the literature's Vid4 bicubic row (23.78 dB / 0.6347)
  iseebetter upscale clip.mp4 -o clip_x4.mp4 --weights runs/compact/checkpoints/last.pt
  iseebetter book run --profile smoke               execute the whole book headlessly (papermill)
Run `iseebetter COMMAND --help` for the options of each command."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="iseebetter", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name, _ in SUBCOMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up (atomic writes, data-loader workers) runs the same way."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings as ``iseebetter: warning: ...`` without source lines, once per kind: the text after the first
    ``NAME: `` (e.g. one "grey image converted to RGB" for a whole folder of grey frames)."""
    seen: set[tuple[type, str]] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = " ".join(str(message).split())
        key = (category, text.split(": ", 1)[-1])
        if key in seen:
            return
        seen.add(key)
        print(f"iseebetter: warning: {text}", file=sys.stderr if file is None else file)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        with _sigterm_as_interrupt(), _one_line_warnings():
            return int(args.run(args) or 0)
    except UserError as exc:
        print(f"iseebetter: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("iseebetter: terminated (nothing partially written)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("iseebetter: interrupted (nothing partially written)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
