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
def _read_points(path: Path) -> object:
    import pandas as pd

    from netplan._errors import ValidationError

    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        msg = f"cannot read {path}: {exc}; give a CSV with columns id, lon, lat (WGS84)."
        raise ValidationError(msg) from exc


def _cmd_traveltimes(args: argparse.Namespace) -> int:
    from netplan import network, traveltime

    G = network.graph_from_name(args.network, profile=args.profile)
    od = traveltime.od_matrix(
        G,
        _read_points(args.origins),
        _read_points(args.destinations),
        max_minutes=args.max_minutes,
        on_outside=args.on_outside,
    )
    traveltime.to_csv(od, args.out)
    print(f"{len(od):,} origin-destination pairs written to {args.out} (profile {G.profile.label})")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from netplan import calibrate, network

    G = network.graph_from_name(args.network, profile=args.profile)
    res = calibrate.calibrate_profile(G, args.observed, name=args.name, folds=args.folds)
    res.profile.to_yaml(args.out)
    print(res.summary())
    print(f"profile written to {args.out} (use: network: {{profile: {args.out}}})")
    return 0


def _cmd_validate_times(args: argparse.Namespace) -> int:
    from netplan import calibrate, network
    from netplan._errors import ValidationError

    G = network.graph_from_name(args.network, profile=args.profile)
    try:
        ref = pd_read(args.reference)
    except (OSError, ValueError) as exc:
        msg = f"cannot read {args.reference}: {exc}; give origin_id, destination_id, minutes."
        raise ValidationError(msg) from exc
    table = calibrate.validate_times(
        G, ref, _read_points(args.origins), _read_points(args.destinations)
    )
    print(f"netplan ({G.source}, profile {G.profile.label}) vs {args.reference}:")
    print(
        table.to_string(
            index=False,
            formatters={
                "pearson_r": "{:.3f}".format,
                "median_rel_error": "{:.1%}".format,
                "median_ratio": "{:.3f}".format,
                "mean_bias_minutes": "{:+.1f}".format,
            },
        )
    )
    return 0


def pd_read(path: Path) -> object:
    import pandas as pd

    return pd.read_csv(path, encoding="utf-8-sig")


def _cmd_isochrones(args: argparse.Namespace) -> int:
    from netplan import isochrones, network

    G = network.graph_from_name(args.network, profile=args.profile)
    minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    gdf = isochrones.isochrones(
        G,
        _read_points(args.sites),
        minutes=minutes,
        buffer_m=args.buffer_m,
        simplify_m=args.simplify_m,
    )
    isochrones.to_file(gdf, args.out)
    print(f"{len(gdf)} isochrone(s) written to {args.out}")
    return 0


def _register_network(sub: argparse._SubParsersAction) -> None:
    net_help = "england-major-roads (default), rutland, leeds or an .osm.pbf/.osm file"
    prof_help = "speed profile: free_flow (default), daytime or a profile YAML file"
    p = sub.add_parser("traveltimes", help="drive-time table between two point CSVs")
    p.add_argument("--network", default="england-major-roads", help=net_help)
    p.add_argument("--origins", type=Path, required=True, help="CSV with id, lon, lat")
    p.add_argument("--destinations", type=Path, required=True, help="CSV with id, lon, lat")
    p.add_argument("--out", type=Path, required=True, help="output CSV (long form)")
    p.add_argument("--max-minutes", type=float, default=None, help="keep pairs within M minutes")
    p.add_argument("--profile", default="free_flow", help=prof_help)
    p.add_argument(
        "--on-outside",
        choices=["raise", "warn", "drop"],
        default="raise",
        help="points outside the network: fail (default), keep or drop them",
    )
    _add_mirror(p)
    p.set_defaults(func=_cmd_traveltimes)
    q = sub.add_parser("isochrones", help="reachable-area polygons around sites")
    q.add_argument("--network", default="england-major-roads", help=net_help)
    q.add_argument("--sites", type=Path, required=True, help="CSV with id, lon, lat")
    q.add_argument("--minutes", default="30,45,60", help="thresholds, e.g. 30,60")
    q.add_argument("--buffer-m", type=float, default=100.0, help="corridor half-width (m)")
    q.add_argument("--simplify-m", type=float, default=50.0, help="simplify tolerance (m)")
    q.add_argument("--out", type=Path, required=True, help=".geojson, .gpkg or .fgb")
    q.add_argument("--profile", default="free_flow", help=prof_help)
    _add_mirror(q)
    q.set_defaults(func=_cmd_isochrones)
    c = sub.add_parser("calibrate", help="fit a speed profile to observed trips")
    c.add_argument("--network", default="england-major-roads", help="a major-road network")
    c.add_argument(
        "--observed",
        type=Path,
        required=True,
        help="CSV: origin_lon, origin_lat, destination_lon, destination_lat, minutes",
    )
    c.add_argument("--profile", default="free_flow", help="start values: " + prof_help)
    c.add_argument("--name", default="calibrated", help="name of the fitted profile")
    c.add_argument("--folds", type=int, default=5, help="k-fold cross-validation (default 5)")
    c.add_argument("--out", type=Path, required=True, help="profile YAML to write")
    _add_mirror(c)
    c.set_defaults(func=_cmd_calibrate)
    v = sub.add_parser("validate-times", help="agreement of a reference OD table with netplan's")
    v.add_argument("--network", default="england-major-roads", help=net_help)
    v.add_argument("--profile", default="free_flow", help=prof_help)
    v.add_argument(
        "--reference", type=Path, required=True, help="CSV: origin_id, destination_id, minutes"
    )
    v.add_argument("--origins", type=Path, required=True, help="CSV with id, lon, lat")
    v.add_argument("--destinations", type=Path, required=True, help="CSV with id, lon, lat")
    _add_mirror(v)
    v.set_defaults(func=_cmd_validate_times)


# ------------------------------------------------------------- run / compare / sweep
# (scenario commands are registered here)
def _progress(args: argparse.Namespace) -> bool:
    """Progress bars on stderr only for a terminal or with -v."""
    return bool(args.verbose) or sys.stderr.isatty()


def _print_paths(paths: dict[str, Path], keys: Sequence[str]) -> None:
    for key in keys:
        if key in paths:
            print(f"{key}: {paths[key]}")


def _cmd_run(args: argparse.Namespace) -> int:
    from netplan import report
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    report.check_output_folder(args.out, force=args.force)
    result = scenario.run(progress=_progress(args))
    paths = result.to_folder(args.out, force=args.force)
    print(result)
    print(f"outputs in {args.out}")
    _print_paths(paths, ["report", "map"])
    return 0


_PER_RUN = ("/report", "/map")


def _write_comparison(results: list, args: argparse.Namespace, *, title: str | None = None) -> int:
    """Write the comparison of ``results`` into ``args.out`` and print the headline table."""
    from netplan import report

    kwargs = {} if title is None else {"title": title}
    paths = report.write_comparison(results, args.out, force=args.force, **kwargs)
    headline = ["share_within_standard", "annual_cost_gbp", "cost_per_scan_change"]
    print(report.compare(results)[headline].to_string())
    _print_paths(paths, ["comparison", *sorted(k for k in paths if k.endswith(_PER_RUN))])
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from netplan import report
    from netplan.scenario import Scenario

    scenarios = [Scenario.from_yaml(path) for path in args.scenarios]  # validate all first
    report.check_output_folder(args.out, force=args.force)
    results = [s.run(progress=_progress(args)) for s in scenarios]
    return _write_comparison(results, args)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from netplan import report
    from netplan.scenario import Scenario, sweep_variants

    variants = sweep_variants(Scenario.from_yaml(args.scenario), args.set)
    report.check_output_folder(args.out, force=args.force)
    results = [v.run(progress=_progress(args)) for v in variants]
    return _write_comparison(results, args, title=f"Sweep of {args.scenario.name}")


def _register_scenarios(sub: argparse._SubParsersAction) -> None:
    force_help = "replace DIR even if it exists and was not written by netplan"
    p = sub.add_parser(
        "run",
        help="run one scenario: capacity report, map and tables",
        description="Run a scenario file and write report.html, map.html, CSV/XLSX tables, "
        "a GeoPackage and the resolved scenario into DIR (atomically).",
        epilog="example: netplan run scenarios/england.yaml --out outputs/england",
    )
    p.add_argument("scenario", type=Path, help="scenario YAML (see scenarios/england.yaml)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--force", action="store_true", help=force_help)
    _add_mirror(p)
    p.set_defaults(func=_cmd_run)
    c = sub.add_parser(
        "compare",
        help="run several scenarios and compare them side by side",
        description="Run each scenario into DIR/<name>/ and write DIR/comparison.html "
        "(changes against the first scenario, e.g. the contract's 18 %% saving target).",
        epilog="example: netplan compare scenarios/mobile_led.yaml scenarios/england.yaml "
        "--out outputs/compare",
    )
    c.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario YAMLs")
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    c.add_argument("--force", action="store_true", help=force_help)
    _add_mirror(c)
    c.set_defaults(func=_cmd_compare)
    w = sub.add_parser(
        "sweep",
        help="run one scenario over several values of a key and compare",
        description="Vary scenario keys (dotted names; several --set make a grid) and compare.",
        epilog="example: netplan sweep scenarios/england.yaml --set drive_minutes=45,60,75 "
        "--out outputs/sweep",
    )
    w.add_argument("scenario", type=Path, help="base scenario YAML")
    w.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help="key and comma-separated values, e.g. fleet.mobile_units=0,4,8",
    )
    w.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    w.add_argument("--force", action="store_true", help=force_help)
    _add_mirror(w)
    w.set_defaults(func=_cmd_sweep)


_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [
    _register_data,
    _register_network,
    _register_scenarios,
]


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
