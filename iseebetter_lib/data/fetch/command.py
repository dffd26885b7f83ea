"""`iseebetter fetch`: install a dataset or published weights into the data home (never implicitly)."""

from __future__ import annotations

import argparse

from iseebetter_lib.errors import UserError

EPILOG = """\
examples:
  iseebetter fetch --list                         what can be fetched, where it lands, whether it is present
  iseebetter fetch vid4                           Vid4 ground truth from the VSR-DUF repository (inputs/G/)
  iseebetter fetch vid4 --from VSR-DUF-master.zip an archive or folder downloaded by hand (offline machines)
  iseebetter fetch rbpn-4x                        the RBPN authors' 4x generator (RBPN_4x.pth)
  iseebetter fetch weights                        every published weights file
  iseebetter fetch vimeo90k --dest /big/disk      Vimeo-90K septuplets (~82 GB download, ~170 GB free needed)

The data home is --dest, else $ISEEBETTER_DATA, else ~/.cache/iseebetter ($XDG_CACHE_HOME respected).
Downloads resume after an interruption (run the same command again) and are checked before being installed;
their SHA-256 digests are recorded in the data home's manifest.json."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `fetch` subcommand."""
    p = subparsers.add_parser(
        "fetch", help="download Vid4, Vimeo-90K or the published weights into the data home",
        description="Install a dataset or published weights from its public source (or --from a local copy) into "
                    "the data home.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", help="catalogue item (see --list)")
    p.add_argument("--list", action="store_true", help="list the catalogue and what is present")
    p.add_argument("--dest", metavar="DIR", help="data home to install into (default: the data home)")
    p.add_argument("--from", dest="source", metavar="PATH_OR_URL",
                   help="install from a local archive, a folder, or another URL instead of the public source")
    p.add_argument("--force", action="store_true", help="fetch again even when already present")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


def catalogue_table(dest: str | None = None) -> str:
    """The `--list` table: name, size, source, where it lands, present."""
    from iseebetter_lib.data import home
    from iseebetter_lib.data.fetch.catalogue import CATALOGUE, human_size

    rows = [("name", "size", "present", "lands in", "source")]
    for e in CATALOGUE.values():
        rows.append((e.name, "~" + human_size(e.size), "yes" if e.present(dest) else "no", str(e.target(dest)),
                     e.url if e.kind != "group" else "all weights files above"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    return f"data home: {home.data_home(dest)}\n" + "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """List the catalogue, or install one item and print where it went."""
    from iseebetter_lib.data.fetch.install import fetch

    if args.list:
        print(catalogue_table(args.dest))
        return 0
    if not args.name:
        raise UserError("fetch: name an item to fetch, or pass --list")
    for line in fetch(args.name, data_home=args.dest, source=args.source, force=args.force,
                      progress=not args.quiet):
        print(line)
    return 0
