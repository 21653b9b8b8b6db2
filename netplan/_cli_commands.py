"""The ``defaults``, ``validate`` and ``completion`` commands of :mod:`netplan.cli`.

Each is a thin call into the library: :func:`netplan.defaults.describe` (the documented
assumptions and their sources), :func:`netplan.scenario.check_scenario` (a scenario checked
without solving) and :func:`netplan._cli_support.bash_completion`.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from ._cli_support import add_mirror
from .defaults import SECTIONS


def _cmd_defaults(args: argparse.Namespace) -> int:
    from netplan import defaults

    table = defaults.describe()
    if args.section:
        table = table[table["section"].isin(args.section)]
    if args.key:
        table = table[table["key"].str.contains(args.key, case=False, regex=False)]
    if args.csv:
        print(table.to_csv(index=False, lineterminator="\n"), end="")
        return 0
    section = None
    for row in table.itertuples(index=False):
        if row.section != section:
            section = row.section
            print(f"\n[{section}]")
        unit = f" {row.unit}" if row.unit else ""
        flags = f"confidence {row.confidence}" + (", derived here" if row.derived else "")
        print(f"{row.key} = {row.value}{unit}  ({flags})")
        for line in textwrap.wrap(f"source: {row.source}", width=92):
            print(f"    {line}")
    print(f"\n{len(table)} default(s); override any of them in a scenario (same dotted key)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from netplan.scenario import Scenario, check_scenario, overrides_from_sets

    scenario = Scenario.from_yaml(args.scenario)
    if args.set:
        scenario = scenario.with_overrides(overrides_from_sets(args.set))
    found = check_scenario(scenario, drive_times=args.drive_times)
    line = (
        f"{args.scenario}: OK ({scenario.name}): {found['zones']:,} zones, population "
        f"{found['population']:,}, {found['candidate_sites']:,} candidate sites, "
        f"{found['cyclotrons']} cyclotron(s)"
    )
    if "zones_within_standard" in found:
        line += (
            f"; {found['zones_within_standard']:,} zones have a candidate within "
            f"{scenario.drive_minutes:g} min"
        )
    print(line)
    return 0


def _cmd_completion(args: argparse.Namespace) -> int:
    from netplan._cli_support import bash_completion

    print(bash_completion(args.root_parser), end="")
    return 0


def register(sub: argparse._SubParsersAction, root: argparse.ArgumentParser) -> None:
    """Add ``defaults``, ``validate`` and ``completion`` to the subcommands ``sub``."""
    d = sub.add_parser(
        "defaults",
        help="print the documented default assumptions with their sources",
        description="Print every planning assumption of defaults.yaml: value, unit, "
        "confidence (H/M/L) and source. A scenario overrides any of them by the same key.",
        epilog="example: netplan defaults --section costs",
    )
    d.add_argument(
        "--section",
        action="append",
        choices=list(SECTIONS),  # every section of defaults.yaml
        help="only this section (repeatable)",
    )
    d.add_argument("--key", help="only keys containing this text, e.g. mobile")
    d.add_argument("--csv", action="store_true", help="print CSV instead of text")
    d.set_defaults(func=_cmd_defaults)
    v = sub.add_parser(
        "validate",
        help="check a scenario (keys, ids, data, study area) without solving it",
        description="Read and check a scenario as `netplan run` would, stopping before the "
        "placement model: schema, data files, study area, site and cyclotron ids. Exit 0 "
        "when it would start solving, 1 with the problem named otherwise.",
        epilog="example: netplan validate scenarios/england.yaml --set fleet.mobile_units=6",
    )
    v.add_argument("scenario", type=Path, help="scenario YAML, or the name of a shipped one")
    v.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a key first, as `netplan run --set` (repeatable)",
    )
    v.add_argument(
        "--drive-times",
        action="store_true",
        help="also build the network and drive times and check the standard can be met "
        "(slower: a minute or more for England)",
    )
    add_mirror(v)
    v.set_defaults(func=_cmd_validate)
    c = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a completion script for the shell. bash: add "
        '`eval "$(netplan completion bash)"` to ~/.bashrc (zsh: run `autoload bashcompinit '
        "&& bashcompinit` first).",
    )
    c.add_argument("shell", choices=["bash"], help="the shell (bash; zsh via bashcompinit)")
    c.set_defaults(func=_cmd_completion, root_parser=root)
