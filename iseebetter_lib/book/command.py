"""`iseebetter book run|build --profile smoke|laptop|full [--only NAME]`: the CLI face of the book runner and
builder."""

from __future__ import annotations

import argparse
import sys


def _run(args: argparse.Namespace) -> int:
    from iseebetter_lib.book.runner import run_book

    results = run_book(args.profile, only=args.only, root=args.root, progress=not args.no_progress,
                       dry_run=args.dry_run)
    for result in results:
        print(f"{result.name}\t{result.seconds:.1f} s\t{result.output}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from iseebetter_lib.book.build import build_book

    index = build_book(args.profile, root=args.root, quiet=args.quiet, only=args.only)
    print(index)
    return 0


PROFILES = ("smoke", "laptop", "full")


def _missing(args: argparse.Namespace) -> int:
    print("iseebetter book: choose a subcommand: run or build", file=sys.stderr)
    return 2


def register(subparsers) -> None:
    """Add `book` with `run` and `build` to the `iseebetter` command."""
    book = subparsers.add_parser("book", help="execute the notebooks (papermill) and build the HTML book",
                                 description="Execute the book's notebooks for a profile, or build its HTML.")
    book.set_defaults(run=_missing)
    sub = book.add_subparsers(dest="book_command", metavar="{run,build}")
    run = sub.add_parser("run", help="execute the chapters with papermill into _build/<profile>/notebooks")
    run.add_argument("--profile", choices=PROFILES, default="smoke",
                     help="smoke: CPU, minutes; laptop: CPU, about 2 hours on 2 cores, results committed under "
                          "figures/laptop/ and the shipped model iseebetter_lib/weights/laptop.pt; full: GPU, the paper's "
                          "configuration (default: smoke). A stopped run continues where it stopped when "
                          "run again: finished trainings are reused, an unfinished one resumes")
    run.add_argument("--only", metavar="NAME", default=None,
                     help="run only these chapters (comma-separated names, e.g. 03_training)")
    run.add_argument("--root", default=None, help="repository holding book.yml (default: this checkout)")
    run.add_argument("--no-progress", action="store_true", help="no papermill progress bars")
    run.add_argument("--dry-run", action="store_true",
                     help="every chapter on a CPU at the smallest sizes (book.yml's dry_run blocks) on generated "
                          "fixtures, into _build/<profile>-dry; no GPU needed")
    run.set_defaults(run=_run)
    build = sub.add_parser("build", help="build the HTML book of the executed notebooks with jupyter-book")
    build.add_argument("--profile", choices=PROFILES, default="smoke")
    build.add_argument("--root", default=None, help="repository holding book.yml (default: this checkout)")
    build.add_argument("--only", metavar="NAME", default=None,
                       help="a book of these chapters only (comma-separated names), e.g. to preview one")
    build.add_argument("--quiet", action="store_true", help="only print warnings and the result")
    build.set_defaults(run=_build)
