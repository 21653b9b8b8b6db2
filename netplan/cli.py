"""netplan command line: a thin front end over the library.

Each subcommand parses its arguments, calls public netplan functions and writes files.
User mistakes (:class:`netplan.NetplanError`) and malformed command lines (unknown option,
``--minutes thirty``) print one clear line and exit with 1; anything else is a bug and
keeps its traceback. Output locations are checked before any long work starts. Help,
``-v/-q`` (anywhere on the line), logging and progress live in :mod:`netplan._cli_support`;
the ``defaults``, ``validate`` and ``completion`` commands in :mod:`netplan._cli_commands`.

Run ``netplan --help`` (or ``python -m netplan --help``, ``python cli.py --help`` in a
checkout) for the list of commands.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import netplan
from netplan import settings
from netplan._cli_support import (
    HelpFormatter,
    add_verbosity,
    add_verbosity_everywhere,
)
from netplan._cli_support import (
    add_mirror as _add_mirror,
)

Handler = Callable[[argparse.Namespace], int]


class _UsageError(Exception):
    """A malformed command line: one line on stderr, exit status 1 (a user mistake)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: error: {message} (see `{prog} --help`)")


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) raised to :func:`main`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(self.prog, message)


def _number(text: str, *, low: float, strict: bool, what: str) -> float:
    """Parse a finite number >= (or >) ``low`` for argparse."""
    try:
        value = float(text)
    except ValueError:
        msg = f"expected {what}, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not math.isfinite(value) or value < low or (strict and value == low):
        msg = f"expected {what}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _minutes(text: str) -> float:
    return _number(text, low=0.0, strict=True, what="a positive number of minutes")


def _metres(text: str) -> float:
    return _number(text, low=0.0, strict=False, what="a distance in metres (>= 0)")


def _positive_metres(text: str) -> float:
    return _number(text, low=0.0, strict=True, what="a distance in metres (> 0)")


def _minutes_list(text: str) -> list[float]:
    """``"30,60"`` -> [30.0, 60.0]; every item a positive finite number."""
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        msg = f"expected minutes such as 30,60, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return [_minutes(t) for t in items if t]


def _whole(text: str) -> int:
    """A whole number >= 1 for argparse."""
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        msg = f"expected a whole number >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _snap_nodes(text: str) -> int:
    """Entry nodes per point (1-16) for argparse."""
    value = int(text) if text.strip().isdigit() else 0
    if not 1 <= value <= 16:
        msg = f"expected a whole number of entry nodes from 1 to 16, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_snap_nodes(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--snap-nodes",
        type=_snap_nodes,
        default=None,
        metavar="K",
        help="entry nodes per point: its K nearest graph nodes within max(2 x nearest, "
        "nearest + 3 km), fastest taken (default: network.snap_nodes of defaults.yaml, 4; "
        "1 = nearest node only)",
    )


def _snap(args: argparse.Namespace) -> dict[str, int]:
    """``snap_nodes`` for the library call, when the user gave --snap-nodes."""
    k = getattr(args, "snap_nodes", None)
    return {} if k is None else {"snap_nodes": k}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        msg = f"expected a whole number of folds >= 2, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


# ---------------------------------------------------------------------------- data
def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from netplan import data

    if args.check:
        for line in data.check_cache():
            print(line)
    paths = data.fetch(args.ids or None, mirror=args.mirror, force=args.force)
    for path in paths:
        print(path)
    print(f"{len(paths)} dataset(s) ready in {settings.cache_folder}")
    return 0


def _cmd_data_assets(args: argparse.Namespace) -> int:
    from netplan.maps import offline

    folder = offline.fetch_leaflet(args.dest, url=args.url)
    print(f"Leaflet {offline.LEAFLET_CDN_VERSION} ready in {folder}; maps now open offline")
    return 0


def _cmd_data_list(args: argparse.Namespace) -> int:
    from netplan import data

    table = data.status(mirror=args.mirror)
    print(table.to_string(index=False))
    return 0


def _register_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="fetch and list the datasets netplan uses")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="{fetch,list,assets}")
    f = dsub.add_parser("fetch", help="copy datasets from the mirror or download them")
    f.add_argument("ids", nargs="*", help="dataset ids (default: all); see `netplan data list`")
    f.add_argument("--force", action="store_true", help="fetch again even if the cache is valid")
    f.add_argument(
        "--check",
        action="store_true",
        help="verify every cached file first (checksums, built graphs, derived files): "
        "corrupt ones are fetched again or removed to be rebuilt",
    )
    _add_mirror(f)
    f.set_defaults(func=_cmd_data_fetch)
    lst = dsub.add_parser("list", help="show each dataset's status and licence")
    _add_mirror(lst)
    lst.set_defaults(func=_cmd_data_list)
    a = dsub.add_parser("assets", help="download Leaflet (npm registry) so maps open offline")
    a.add_argument(
        "--dest",
        type=Path,
        default=None,
        metavar="DIR",
        help="assets folder (default: $NETPLAN_ASSETS if writable, else the cache)",
    )
    a.add_argument("--url", default=None, help="another address of the leaflet .tgz")
    a.set_defaults(func=_cmd_data_assets)


# ----------------------------------------------------------------- traveltimes / isochrones
# (network commands are registered here)
def _read_points(path: Path, option: str = "points") -> object:
    """A CSV of ``id, lon, lat``; ids kept as text exactly as written (``007``, ``1.10``)."""
    from netplan._validate import read_csv_table

    return read_csv_table(path, what=f"{option} file", required=["id", "lon", "lat"])


def _check_out_file(args: argparse.Namespace, *inputs: str, **kwargs: object) -> None:
    """Fail before the work when ``args.out`` cannot be written (or is an input)."""
    from netplan._io import check_output_file

    pairs = [(f"--{name.replace('_', '-')}", getattr(args, name, None)) for name in inputs]
    check_output_file(args.out, inputs=pairs, **kwargs)  # type: ignore[arg-type]


def _cmd_traveltimes(args: argparse.Namespace) -> int:
    from netplan import network, traveltime
    from netplan.odio import od_format, write_od

    fmt = od_format(args.out, args.format)
    meta = args.out.with_name(args.out.name + ".meta.json")
    _check_out_file(args, "origins", "destinations", also=[meta], what="OD table")
    origins = _read_points(args.origins, "--origins")
    destinations = _read_points(args.destinations, "--destinations")
    G = network.graph_from_name(args.network, profile=args.profile)
    od = traveltime.od_matrix(
        G,
        origins,
        destinations,
        max_minutes=args.max_minutes,
        on_outside=args.on_outside,
        **_snap(args),
    )
    write_od(od, args.out, fmt=fmt)
    print(
        f"{len(od):,} origin-destination pairs written to {args.out} ({fmt}, "
        f"profile {G.profile.label})"
    )
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from netplan import calibrate, network

    _check_out_file(args, "observed", "profile", suffixes=[".yaml", ".yml"], what="profile")
    calibrate.read_observed(args.observed)  # a bad file fails before the network is built
    G = network.graph_from_name(args.network, profile=args.profile)
    res = calibrate.calibrate_profile(
        G, args.observed, name=args.name, folds=args.folds, **_snap(args)
    )
    res.profile.to_yaml(args.out)
    print(res.summary())
    print(f"profile written to {args.out} (use: network: {{profile: {args.out}}})")
    return 0


def _cmd_validate_times(args: argparse.Namespace) -> int:
    from netplan import calibrate, network
    from netplan._validate import check_od, read_csv_table

    ref = read_csv_table(
        args.reference,
        what="--reference file",
        text_columns=["origin_id", "destination_id"],
        required=["origin_id", "destination_id", "minutes"],
    )
    check_od(ref, source=str(args.reference))
    origins = _read_points(args.origins, "--origins")
    destinations = _read_points(args.destinations, "--destinations")
    G = network.graph_from_name(args.network, profile=args.profile)
    table = calibrate.validate_times(G, ref, origins, destinations, **_snap(args))
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
    """A reference OD table (kept for callers of the old helper)."""
    from netplan._validate import read_csv_table

    return read_csv_table(path, text_columns=["origin_id", "destination_id"])


def _cmd_isochrones(args: argparse.Namespace) -> int:
    from netplan import isochrones, network

    _check_out_file(args, "sites", suffixes=isochrones.FORMATS, what="isochrone file")
    sites = _read_points(args.sites, "--sites")
    G = network.graph_from_name(args.network, profile=args.profile)
    gdf = isochrones.isochrones(
        G,
        sites,
        minutes=args.minutes,
        buffer_m=args.buffer_m,
        simplify_m=args.simplify_m,
        **_snap(args),
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
    p.add_argument("--out", type=Path, required=True, help="output CSV or Parquet (long form)")
    p.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default=None,
        help="table format (default: parquet for a .parquet --out, else csv)",
    )
    p.add_argument(
        "--max-minutes", type=_minutes, default=None, help="keep pairs within M minutes (> 0)"
    )
    p.add_argument("--profile", default="free_flow", help=prof_help)
    p.add_argument(
        "--on-outside",
        choices=["raise", "warn", "drop"],
        default="raise",
        help="points outside the network: fail (default), keep or drop them",
    )
    _add_snap_nodes(p)
    _add_mirror(p)
    p.set_defaults(func=_cmd_traveltimes)
    q = sub.add_parser("isochrones", help="reachable-area polygons around sites")
    q.add_argument("--network", default="england-major-roads", help=net_help)
    q.add_argument("--sites", type=Path, required=True, help="CSV with id, lon, lat")
    q.add_argument(
        "--minutes", type=_minutes_list, default=[30.0, 45.0, 60.0], help="thresholds, e.g. 30,60"
    )
    q.add_argument(
        "--buffer-m", type=_positive_metres, default=100.0, help="corridor half-width (m)"
    )
    q.add_argument("--simplify-m", type=_metres, default=50.0, help="simplify tolerance (m)")
    q.add_argument("--out", type=Path, required=True, help=".geojson, .gpkg or .fgb")
    q.add_argument("--profile", default="free_flow", help=prof_help)
    _add_snap_nodes(q)
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
    c.add_argument("--folds", type=_count, default=5, help="k-fold cross-validation (default 5)")
    c.add_argument("--out", type=Path, required=True, help="profile YAML to write")
    _add_snap_nodes(c)
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
    _add_snap_nodes(v)
    _add_mirror(v)
    v.set_defaults(func=_cmd_validate_times)


# ------------------------------------------------------------- run / compare / sweep
# (scenario commands are registered here)
def _progress(args: argparse.Namespace) -> bool:
    """A progress bar on stderr for a terminal (else one log line per stage, see main)."""
    return bool(getattr(args, "progress_bar", False))


def _print_paths(paths: dict[str, Path], keys: Sequence[str]) -> None:
    for key in keys:
        if key in paths:
            print(f"{key}: {paths[key]}")


def _cmd_run(args: argparse.Namespace) -> int:
    from netplan import report
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    if args.set:
        from netplan.scenario import overrides_from_sets

        scenario = scenario.with_overrides(overrides_from_sets(args.set))
    report.check_output_folder(
        args.out,
        force=args.force,
        names=report.output_names(scenario),
        inputs=report.input_files(scenario),
    )
    result = scenario.run(progress=_progress(args))
    paths = result.to_folder(args.out, force=args.force)
    print(result)
    print(f"outputs in {args.out}")
    _print_paths(paths, ["report", "map"])
    return 0


def _cmd_rollout(args: argparse.Namespace) -> int:
    from netplan.report import check_output_folder, input_files
    from netplan.report.rollout import rollout_output_names
    from netplan.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    names = rollout_output_names(scenario)
    check_output_folder(args.out, force=args.force, names=names, inputs=input_files(scenario))
    run = scenario.run_rollout()
    paths = run.to_folder(args.out, force=args.force)
    print(run)
    print(run.headline().to_string(index=False))
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


def _check_comparison(args: argparse.Namespace, scenarios: list) -> None:
    """Before any run: unique names and a writable, safe output folder."""
    from netplan import report
    from netplan._errors import ValidationError

    names = [s.name for s in scenarios]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        msg = f"scenario name(s) {twice} given more than once; every scenario needs its own name"
        raise ValidationError(msg)
    report.check_output_folder(
        args.out,
        force=args.force,
        names=report.comparison_names(scenarios),
        inputs=[f for s in scenarios for f in report.input_files(s)],
    )


def _run_all(args: argparse.Namespace, scenarios: list) -> list:
    """Run ``scenarios`` on the chosen executor, with a bar of finished runs."""
    from tqdm import tqdm

    from netplan.scenario.batch import run_scenarios

    with tqdm(
        total=len(scenarios), disable=not _progress(args), file=sys.stderr, unit="run"
    ) as bar:
        return run_scenarios(
            scenarios,
            executor=args.executor,
            scheduler=args.scheduler,
            workers=args.workers,
            on_done=lambda done, total, label: bar.update(1),
            warm_start=getattr(args, "warm_start", False),
        )


def _cmd_compare(args: argparse.Namespace) -> int:
    from netplan.scenario import Scenario, ScenarioResult
    from netplan.scenario.saved import is_run_folder

    # a run folder is read back (no solve); a scenario file is validated first, run later
    saved = {i: ScenarioResult.from_folder(p) for i, p in enumerate(args.scenarios)
             if is_run_folder(p)}  # fmt: skip
    scenarios = [saved[i].scenario if i in saved else Scenario.from_yaml(path)
                 for i, path in enumerate(args.scenarios)]  # fmt: skip
    _check_comparison(args, scenarios)
    # the scenario files run on the chosen executor; saved runs keep their place
    fresh = iter(_run_all(args, [s for i, s in enumerate(scenarios) if i not in saved]))
    results = [saved[i] if i in saved else next(fresh) for i in range(len(scenarios))]
    return _write_comparison(results, args)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from netplan.scenario import Scenario, sweep_variants

    variants = sweep_variants(Scenario.from_yaml(args.scenario), args.set)
    _check_comparison(args, variants)
    results = _run_all(args, variants)
    return _write_comparison(results, args, title=f"Sweep of {args.scenario.name}")


def _add_executor(p: argparse.ArgumentParser, *, runs: bool = False) -> None:
    """--executor, --scheduler and --workers of a multi-run command (and ``--warm-start``
    for the commands that run whole scenarios, ``runs``)."""
    p.add_argument(
        "--executor",
        choices=["serial", "processes", "dask"],
        default="serial",
        help="run the scenarios one after another (default), in local processes, or on "
        "dask.distributed (a LocalCluster unless --scheduler is given)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of an existing dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(with --executor dask)",
    )
    p.add_argument("--workers", type=_whole, help="local worker processes (default: the CPU count)")
    if not runs:
        return
    p.add_argument(
        "--warm-start",
        action="store_true",
        help="run the first scenario of each set of shared inputs first and start the others "
        "from its plan: same optima, proven sooner, but among plans of equal cost a run may "
        "get another one than on its own (default: every run from scratch)",
    )


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from netplan import report
    from netplan._validate import read_csv_table
    from netplan.report.uncertainty import uncertainty_names
    from netplan.scenario import Scenario
    from netplan.scenario.uncertainty import run_uncertainty

    scenario = Scenario.from_yaml(args.scenario)
    inputs = [*report.input_files(scenario), *([args.plan] if args.plan else [])]
    report.check_output_folder(args.out, force=args.force, names=uncertainty_names(), inputs=inputs)
    need = ("site_id", "static_scanners", "mobile_days_per_week")
    plan = (
        read_csv_table(args.plan, what="plan", text_columns=("site_id",), required=need)
        if args.plan
        else None
    )
    result = run_uncertainty(
        scenario, draws=args.draws, seed=args.seed, plan_sites=plan, resolve=args.resolve,
        executor=args.executor, scheduler=args.scheduler, workers=args.workers,
    )  # fmt: skip
    paths = result.to_folder(args.out, force=args.force, inputs=inputs)
    print(result.summary.set_index("figure")[["median", "p5", "p95"]].to_string())
    print(f"outputs in {args.out}: {paths['markdown'].name}, {paths['draws'].name}")
    return 0


def _cmd_od_chunks(args: argparse.Namespace) -> int:
    from netplan import network
    from netplan.od_chunks import od_to_parquet

    origins = _read_points(args.origins, "--origins")
    destinations = _read_points(args.destinations, "--destinations")
    G = network.graph_from_name(args.network, profile=args.profile)
    stats = od_to_parquet(
        G, origins, destinations, args.out, chunk_size=args.chunk_size, split=args.split,
        force=args.force, executor=args.executor, scheduler=args.scheduler,
        workers=args.workers, max_minutes=args.max_minutes, **_snap(args),
    )  # fmt: skip
    print(stats.to_string(index=False))
    print(f"{int(stats['rows'].sum()):,} pairs in {len(stats)} Parquet chunk(s) under {args.out}")
    return 0


def _register_uncertainty(sub: argparse._SubParsersAction) -> None:
    o = sub.add_parser(
        "od-chunks",
        help="a drive-time table in chunks (tasks) written to partitioned Parquet",
        description="Split the destinations (or origins) into chunks, run each as a task "
        "(--executor) and write DIR/chunk=NNNNN/part.parquet (origin_id, destination_id, "
        "minutes), so no process holds the whole table.",
        epilog="example: netplan od-chunks --network rutland --origins O.csv --destinations "
        "D.csv --chunk-size 500 --executor dask --out od_parquet",
    )
    o.add_argument("--network", default="england-major-roads", help="network name or file")
    o.add_argument("--profile", default="free_flow", help="speed profile")
    o.add_argument("--origins", type=Path, required=True, help="CSV with id, lon, lat")
    o.add_argument("--destinations", type=Path, required=True, help="CSV with id, lon, lat")
    o.add_argument("--chunk-size", type=_whole, required=True, help="points per chunk")
    o.add_argument("--split", choices=["destinations", "origins"], default="destinations")
    o.add_argument("--max-minutes", type=_minutes, help="keep pairs within this time")
    o.add_argument("--out", type=Path, required=True, metavar="DIR", help="dataset folder")
    o.add_argument("--force", action="store_true", help="write into a folder netplan did not")
    _add_snap_nodes(o)
    _add_executor(o)
    _add_mirror(o)
    o.set_defaults(func=_cmd_od_chunks)
    u = sub.add_parser(
        "uncertainty",
        help="a fixed plan under sampled demand, and each cyclotron failing in turn",
        description="Sample demand (growth, rate per 1,000, tracer mix; defaults.yaml section "
        "uncertainty), evaluate the scenario's plan on each draw and write the median, 5-95 %%, "
        "the probability each standard is met and the sites that bind most often.",
        epilog="example: netplan uncertainty england --draws 200 --seed 1 --out outputs/unc",
    )
    u.add_argument("scenario", type=Path, help="scenario YAML or the name of a shipped one")
    u.add_argument("--draws", type=_whole, default=200, help="demand draws (default 200)")
    u.add_argument("--seed", type=int, default=0, help="seed of the sampler (default 0)")
    u.add_argument("--plan", type=Path, help="a run's sites.csv (default: solve the scenario)")
    u.add_argument("--resolve", action="store_true", help="also re-solve each draw")
    u.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    u.add_argument("--force", action="store_true", help="write into a folder netplan did not")
    _add_executor(u)
    _add_mirror(u)
    u.set_defaults(func=_cmd_uncertainty)


def _register_scenarios(sub: argparse._SubParsersAction) -> None:
    force_help = (
        "write into DIR even if it exists and was not written by netplan (netplan adds its "
        "files; nothing else in DIR is changed or deleted)"
    )
    p = sub.add_parser(
        "run",
        help="run one scenario: capacity report, map and tables",
        description="Run a scenario file and write report.html, map.html, CSV/XLSX tables, "
        "a GeoPackage and the resolved scenario into DIR (atomically).",
        epilog="example: netplan run scenarios/england.yaml --out outputs/england",
    )
    p.add_argument(
        "scenario",
        type=Path,
        help="scenario YAML, or the name of a shipped one (england, rutland_small, ...)",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--force", action="store_true", help=force_help)
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario key for this run, e.g. fleet.mobile_units=6 (dotted "
        "names as in the YAML; repeatable; several values: use `netplan sweep`)",
    )
    _add_mirror(p)
    p.set_defaults(func=_cmd_run)
    c = sub.add_parser(
        "compare",
        help="run several scenarios and compare them side by side",
        description="Run each scenario into DIR/<name>/ and write DIR/comparison.html "
        "(changes against the first scenario, e.g. the contract's 18 % saving target).",
        epilog="example: netplan compare scenarios/mobile_led.yaml scenarios/england.yaml "
        "--out outputs/compare",
    )
    c.add_argument(
        "scenarios",
        type=Path,
        nargs="+",
        metavar="SCENARIO",
        help="scenario YAMLs, or folders of saved runs (`netplan run --out DIR`: read back, "
        "not solved again)",
    )
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    c.add_argument("--force", action="store_true", help=force_help)
    _add_executor(c, runs=True)
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
    _add_executor(w, runs=True)
    _add_mirror(w)
    w.set_defaults(func=_cmd_sweep)
    r = sub.add_parser(
        "rollout",
        help="plan a year-by-year roll-out of static scanners (the scenario's rollout: keys)",
        description="Solve the multi-year roll-out of a scenario and write rollout.csv, "
        "rollout_summary.csv, rollout_report.html and rollout_map.html into DIR (atomically).",
        epilog="example: netplan rollout scenarios/contract_rollout.yaml --out outputs/rollout",
    )
    r.add_argument("scenario", type=Path, help="scenario YAML, or the name of a shipped one")
    r.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    r.add_argument("--force", action="store_true", help=force_help)
    _add_mirror(r)
    r.set_defaults(func=_cmd_rollout)


_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [
    _register_data,
    _register_network,
    _register_scenarios,
    _register_uncertainty,
]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``netplan`` command."""
    parser = _Parser(
        prog="netplan",
        description=(
            "Plan PET/CT scanner networks by road drive time, capacity and tracer supply. "
            "Start with `netplan data fetch`, then `netplan run england --out DIR` (a shipped "
            "scenario by name, or the path of your own YAML file)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"netplan {netplan.__version__}")
    add_verbosity(parser, top=True)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for register in _REGISTRARS:
        register(sub)
    from netplan import _cli_commands

    _cli_commands.register(sub, parser)
    add_verbosity_everywhere(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``netplan`` command line and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 1
    from netplan._cli_support import logging_for, progress_mode, verbosity

    level = verbosity(args)
    args.progress_bar, stage_lines = progress_mode(level)
    saved_mirror = settings.data_mirror
    if getattr(args, "mirror", None) is not None:
        settings.data_mirror = args.mirror
    try:
        with logging_for(level, stage_lines=stage_lines, bar=args.progress_bar):
            return int(args.func(args))
    except netplan.NetplanError as exc:
        print(f"netplan: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("netplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `netplan defaults | head`: the reader left; stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        settings.data_mirror = saved_mirror


if __name__ == "__main__":
    sys.exit(main())
