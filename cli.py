"""netplan command line: a thin front end over the library.

Each subcommand parses its arguments, calls public netplan functions and writes files.
User mistakes (:class:`netplan.NetplanError`) print one clear message and exit with 1;
anything else is a bug and keeps its traceback.

Run ``netplan --help`` (or ``python cli.py --help``) for the list of commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import netplan
from netplan import settings

Handler = Callable[[argparse.Namespace], int]


def _add_mirror(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mirror",
        type=Path,
        metavar="DIR",
        help="offline data mirror folder (default: $NETPLAN_DATA_MIRROR)",
    )


# ---------------------------------------------------------------------------- data
def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from netplan import data

    paths = data.fetch(args.ids or None, mirror=args.mirror, force=args.force)
    for path in paths:
        print(path)
    print(f"{len(paths)} dataset(s) ready in {settings.cache_folder}")
    return 0


def _cmd_data_list(args: argparse.Namespace) -> int:
    from netplan import data

    table = data.status(mirror=args.mirror)
    print(table.to_string(index=False))
    return 0


def _register_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="fetch and list the datasets netplan uses")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="{fetch,list}")
    f = dsub.add_parser("fetch", help="copy datasets from the mirror or download them")
    f.add_argument("ids", nargs="*", help="dataset ids (default: all); see `netplan data list`")
    f.add_argument("--force", action="store_true", help="fetch again even if the cache is valid")
    _add_mirror(f)
    f.set_defaults(func=_cmd_data_fetch)
    lst = dsub.add_parser("list", help="show each dataset's status and licence")
    _add_mirror(lst)
    lst.set_defaults(func=_cmd_data_list)


# ----------------------------------------------------------------- traveltimes / isochrones
# (network commands are registered here)


# ------------------------------------------------------------- run / compare / sweep
# (scenario commands are registered here)


_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [_register_data]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``netplan`` command."""
    parser = argparse.ArgumentParser(
        prog="netplan",
        description=(
            "Plan PET/CT scanner networks by road drive time, capacity and tracer supply. "
            "Start with `netplan data fetch`, then `netplan run scenarios/england.yaml --out DIR`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"netplan {netplan.__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``netplan`` command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    saved_mirror = settings.data_mirror
    if getattr(args, "mirror", None) is not None:
        settings.data_mirror = args.mirror
    try:
        return int(args.func(args))
    except netplan.NetplanError as exc:
        print(f"netplan: error: {exc}", file=sys.stderr)
        return 1
    finally:
        settings.data_mirror = saved_mirror


if __name__ == "__main__":
    sys.exit(main())
