"""Fit a speed profile to observed trips, and measure agreement with reference times.

:func:`calibrate_profile` fits the free parameters of a profile on a major-road network
(motorway and other major-road speeds, each rural and urban; access-leg speeds, rural and
urban; a constant minutes per trip) to a table of observed trips by robust least squares on
relative error. A trip's time is linear in the *paces* (minutes per km) of these groups for a
fixed route, so each round routes every trip with the current profile, sums each route's
kilometres per group (urban share splitting a road's km between its rural and urban pace) and
refits the paces with ``scipy.optimize.least_squares`` (``soft_l1`` loss); rounds repeat until
the paces settle. k-fold cross-validation on the last round's routes gives the error a new
trip can expect. :func:`agreement` compares any two time columns (n, Pearson r, median
relative error, median ratio, by distance band), as ``netplan validate-times`` prints.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._errors import ValidationError
from ._validate import check_columns

if TYPE_CHECKING:
    from .graph import DriveGraph
    from .profiles import SpeedProfile

logger = logging.getLogger(__name__)

#: The fitted parameters: (profile key, group of the feature matrix).
PARAMETERS = (
    "major_roads.motorway.rural_kph",
    "major_roads.motorway.urban_kph",
    "major_roads.major.rural_kph",
    "major_roads.major.urban_kph",
    "access.rural_kph",
    "access.urban_kph",
)
OBSERVED_COLUMNS = ["origin_lon", "origin_lat", "destination_lon", "destination_lat", "minutes"]
#: Distance bands (straight-line km) of :func:`agreement`.
DISTANCE_BANDS_KM = (0, 10, 25, 50, 100, 1_000)


@dataclass
class CalibrationResult:
    """What :func:`calibrate_profile` found."""

    profile: SpeedProfile
    parameters: dict[str, float]
    constant_minutes: float
    rounds: int
    fit: dict[str, float]
    cross_validation: dict[str, float]
    trips: pd.DataFrame = field(repr=False)

    def summary(self) -> str:
        """Lines for the terminal: fitted values, in-sample and cross-validated error."""
        lines = [f"calibrated profile {self.profile.label} ({self.rounds} rounds)"]
        lines += [f"  {k:34s} {v:8.1f}" for k, v in self.parameters.items()]
        lines.append(f"  {'constant_minutes':34s} {self.constant_minutes:8.2f}")
        f, cv = self.fit, self.cross_validation
        lines.append(
            f"  fit: n {f['n']:,}, median relative error {f['median_rel_error']:.1%}, "
            f"median ratio {f['median_ratio']:.3f}, Pearson r {f['pearson_r']:.3f}"
        )
        lines.append(
            f"  {cv['folds']}-fold cross-validated: median relative error "
            f"{cv['median_rel_error']:.1%}, bias (median ratio) {cv['median_ratio']:.3f}"
        )
        return "\n".join(lines)


def read_observed(path_or_frame: Any, *, source: str | None = None) -> pd.DataFrame:
    """Read and check an observed-trips table (``OBSERVED_COLUMNS``)."""
    from ._validate import check_lonlat

    if isinstance(path_or_frame, pd.DataFrame):
        df, source = path_or_frame.copy(), source or "observed trips"
    else:
        from ._validate import read_csv_table

        source = source or str(path_or_frame)
        df = read_csv_table(path_or_frame, what="observed-trips file", text_columns=())
    check_columns(df, OBSERVED_COLUMNS, source=source)
    minutes = pd.to_numeric(df["minutes"], errors="coerce")
    bad = ~(np.isfinite(minutes) & (minutes > 0))
    if bad.any():
        rows = (df.index[bad][:5] + 2).tolist()
        msg = f"{source}: 'minutes' must be positive numbers; bad at line(s) {rows}."
        raise ValidationError(msg)
    df["minutes"] = minutes.astype(float)
    df = df.reset_index(drop=True)
    df["trip"] = np.arange(len(df))
    for end in ("origin", "destination"):
        pts = df[["trip", f"{end}_lon", f"{end}_lat"]].rename(
            columns={f"{end}_lon": "lon", f"{end}_lat": "lat"}
        )
        check_lonlat(pts, source=f"{source} ({end})", id_column="trip")
    return df


def trip_features(
    G: DriveGraph, trips: pd.DataFrame, *, snap_nodes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Route every trip on ``G`` (its profile) and return (km per group, modelled minutes).

    Each trip is routed as :func:`netplan.traveltime.od_matrix` times it: from the fastest
    of its origin's ``snap_nodes`` entry nodes to the fastest of its destination's
    (default ``network.snap_nodes``, 4), each end a virtual node joined to its entry nodes
    by their access minutes. Columns of the km matrix follow :data:`PARAMETERS`; access km
    are the chosen entry nodes' straight lines x the profile's detour factor, split by the
    end point's urban share.
    """
    from . import traveltime
    from ._snapping import DEFAULT_SNAP_NODES, check_snap_nodes, entry_nodes, with_virtual_sources
    from .graph import _CLASS_CODE

    if G.profile is None:
        msg = "calibration needs a graph built from a speed profile (graph_from_name(profile=...))."
        raise ValidationError(msg)
    k = check_snap_nodes(DEFAULT_SNAP_NODES if snap_nodes is None else snap_nodes)
    o = pd.DataFrame({"id": trips["trip"], "lon": trips["origin_lon"], "lat": trips["origin_lat"]})
    d = pd.DataFrame(
        {"id": trips["trip"], "lon": trips["destination_lon"], "lat": trips["destination_lat"]}
    )
    so = traveltime.snap(G, o, on_outside="warn", source="observed origins")
    sd = traveltime.snap(G, d, on_outside="warn", source="observed destinations")
    prof = G.profile
    eo = entry_nodes(G, so, snap_nodes=k, access=prof.access_minutes)
    ed = entry_nodes(G, sd, snap_nodes=k, access=prof.access_minutes)
    edge_at = _edge_index_csr(G)
    share = G.urban_share
    cls = G.edge_class
    km = G.edge_length_m / 1000.0
    feats = np.zeros((len(G.edge_u), 4))
    for j, group in enumerate(("motorway", "major")):
        on = cls == _CLASS_CODE[group]
        feats[on, 2 * j] = km[on] * (1 - share[on])
        feats[on, 2 * j + 1] = km[on] * share[on]
    fixed_minutes = np.where((feats.sum(axis=1) == 0), G.edge_minutes, 0.0)  # ferries, links
    n, n_t = G.n_nodes, len(trips)
    X = np.zeros((n_t, len(PARAMETERS)))
    other = np.zeros(n_t)
    model = np.zeros(n_t)
    # nodes n .. n + n_t - 1: trip origins (edges out to their entry nodes); the next n_t:
    # trip destinations (edges in from theirs, written as the reverse of "edges out")
    A = with_virtual_sources(G.csr, eo.nodes, eo.minutes)
    sink = with_virtual_sources(sp.csr_array(G.csr.shape), ed.nodes, ed.minutes).tocoo()
    m = n + 2 * n_t
    rows = np.concatenate([A.tocoo().row, sink.col])
    cols = np.concatenate([A.tocoo().col, sink.row + n_t])
    data = np.concatenate([A.tocoo().data, sink.data])
    A = sp.csr_array((data, (rows, cols)), shape=(m, m))
    chosen_o, chosen_d = np.zeros(n_t, dtype=np.int64), np.zeros(n_t, dtype=np.int64)
    step = max(1, 25_000_000 // m)
    for b0 in range(0, n_t, step):
        trip = np.arange(b0, min(b0 + step, n_t))
        dist, pred = csgraph.dijkstra(A, directed=True, indices=n + trip, return_predecessors=True)
        for r, i in enumerate(trip):
            end = n + n_t + i
            model[i] = dist[r, end]
            node = pred[r, end]  # the destination entry node taken (-9999: unreachable)
            if node < 0:
                continue
            chosen_d[i] = int(np.flatnonzero(ed.nodes[i] == node)[0])
            while True:
                p = pred[r, node]
                if p < 0 or p >= n:  # p is the trip's virtual origin: node is its entry
                    break
                e = edge_at[p, node]
                X[i, :4] += feats[e]
                other[i] += fixed_minutes[e]
                node = p
            chosen_o[i] = int(np.flatnonzero(eo.nodes[i] == node)[0])
    t = np.arange(n_t)
    for end, entries, chosen in ((so, eo, chosen_o), (sd, ed, chosen_d)):
        acc_km = entries.km[t, chosen] * prof.detour_factor
        s = np.nan_to_num(end["urban_share"].to_numpy(), nan=0.5)
        X[:, 4] += acc_km * (1 - s)
        X[:, 5] += acc_km * s
        other += prof.terminal_minutes
    return np.column_stack([X, other]), model


def _edge_index_csr(G: DriveGraph) -> Any:
    """``M[u, v]`` = index of the fastest edge u -> v (+1 stored, read back with -1)."""
    order = np.lexsort((G.edge_minutes, G.edge_v, G.edge_u))
    u, v = G.edge_u[order], G.edge_v[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    M = sp.csr_array((order[first] + 1, (u[first], v[first])), shape=(G.n_nodes, G.n_nodes)).todok()

    class _Lookup:
        def __getitem__(self, key: tuple[int, int]) -> int:
            return int(M[key]) - 1

    return _Lookup()


def _fit(X: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Paces (min/km) per group and a constant, robust least squares on relative error."""
    from scipy.optimize import least_squares

    A, fixed = X[:, :-1], X[:, -1]

    def resid(theta: np.ndarray) -> np.ndarray:
        return (A @ theta[:-1] + theta[-1] + fixed - y) / y

    lo = np.r_[np.full(A.shape[1], 60.0 / 200.0), 0.0]
    hi = np.r_[np.full(A.shape[1], 60.0 / 5.0), 30.0]
    x0 = np.clip(start, lo + 1e-9, hi - 1e-9)
    res = least_squares(resid, x0, bounds=(lo, hi), loss="soft_l1", f_scale=0.1)
    return res.x


def calibrate_profile(
    G: DriveGraph,
    observed: Any,
    *,
    name: str = "calibrated",
    folds: int = 5,
    max_rounds: int = 5,
    seed: int = 0,
    snap_nodes: int | None = None,
) -> CalibrationResult:
    """Fit ``G.profile``'s free parameters to observed trips (see the module docstring).

    Parameters
    ----------
    G
        A major-road graph built from a profile (the start values), e.g.
        ``graph_from_name("england-major-roads")``.
    observed
        A DataFrame or CSV path with ``origin_lon, origin_lat, destination_lon,
        destination_lat, minutes``.
    name
        Name of the fitted profile.
    folds
        k of the k-fold cross-validation (>= 2).
    max_rounds
        Route-and-refit rounds at most (stops earlier when every speed moves < 0.5 %).
    seed
        Fold assignment seed.
    snap_nodes
        Entry nodes per trip end, as :func:`netplan.traveltime.od_matrix` (default
        ``network.snap_nodes``, 4).

    Returns
    -------
    CalibrationResult
        The fitted profile (constant minutes go to ``access.terminal_minutes``, half at
        each end), parameters, in-sample and cross-validated error.
    """
    if G.detail != "major" or G.profile is None:
        msg = (
            "calibrate: give a major-road graph built from a speed profile (e.g. "
            "england-major-roads); full-detail OSM profiles are set by class in profiles.yaml."
        )
        raise ValidationError(msg)
    if not (isinstance(folds, int) and folds >= 2):
        msg = f"calibrate: folds must be an integer >= 2, got {folds!r}."
        raise ValidationError(msg)
    trips = read_observed(observed)
    if len(trips) < 5 * len(PARAMETERS):
        msg = (
            f"calibrate: {len(trips)} observed trips are too few for {len(PARAMETERS) + 1} "
            f"parameters; give at least {5 * len(PARAMETERS)}."
        )
        raise ValidationError(msg)
    y = trips["minutes"].to_numpy()
    prof = G.profile
    theta = np.r_[[60.0 / _get(prof, k) for k in PARAMETERS], 2 * prof.terminal_minutes]
    Gi, rounds = G, 0
    for rounds in range(1, max_rounds + 1):
        X, _ = trip_features(Gi, trips, snap_nodes=snap_nodes)
        new = _fit(X, y, theta)
        moved = np.max(np.abs(new[:-1] / theta[:-1] - 1))
        theta = new
        prof = _with_theta(prof, theta, name)
        Gi = G.with_profile(prof)
        logger.info("calibrate round %d: speeds moved %.2f %%", rounds, 100 * moved)
        if moved < 0.005:
            break
    X, model = trip_features(Gi, trips, snap_nodes=snap_nodes)
    fit = agreement(model, y)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(trips)) % folds
    pred = np.empty(len(trips))
    for k in range(folds):
        test = fold == k
        th = _fit(X[~test], y[~test], theta)
        pred[test] = X[test, :-1] @ th[:-1] + th[-1] + X[test, -1]
    cv = agreement(pred, y)
    trips = trips.assign(model_minutes=model, cv_minutes=pred)
    return CalibrationResult(
        profile=prof,
        parameters={k: round(60.0 / t, 2) for k, t in zip(PARAMETERS, theta[:-1], strict=True)},
        constant_minutes=float(theta[-1]),
        rounds=rounds,
        fit=fit,
        cross_validation={"folds": folds, **cv},
        trips=trips,
    )


def _get(prof: SpeedProfile, dotted: str) -> float:
    node: Any = prof.content
    for p in dotted.split("."):
        node = node[p]
    return float(node)


def _with_theta(prof: SpeedProfile, theta: np.ndarray, name: str) -> SpeedProfile:
    changes = {k: 60.0 / t for k, t in zip(PARAMETERS, theta[:-1], strict=True)}
    changes["access.terminal_minutes"] = float(theta[-1]) / 2
    return prof.with_values(name, changes)


def agreement(model: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """n, Pearson r, median relative error, median ratio and mean bias of model vs reference."""
    m = np.asarray(model, dtype=float)
    r = np.asarray(reference, dtype=float)
    ok = np.isfinite(m) & np.isfinite(r) & (r > 0)
    m, r = m[ok], r[ok]
    if len(m) < 2:
        return {
            "n": len(m),
            "pearson_r": np.nan,
            "median_rel_error": np.nan,
            "median_ratio": np.nan,
            "mean_bias_minutes": np.nan,
        }
    ratio = m / r
    return {
        "n": len(m),
        "pearson_r": float(np.corrcoef(m, r)[0, 1]),
        "median_rel_error": float(np.median(np.abs(ratio - 1))),
        "median_ratio": float(np.median(ratio)),
        "mean_bias_minutes": float(np.mean(m - r)),
    }


def agreement_by_band(
    model: np.ndarray, reference: np.ndarray, straight_km: np.ndarray
) -> pd.DataFrame:
    """:func:`agreement` overall and per straight-line distance band (``DISTANCE_BANDS_KM``)."""
    rows = [{"band_km": "all", **agreement(model, reference)}]
    km = np.asarray(straight_km, dtype=float)
    for lo, hi in itertools.pairwise(DISTANCE_BANDS_KM):
        on = (km >= lo) & (km < hi)
        if on.sum() >= 2:
            rows.append({"band_km": f"{lo}-{hi}", **agreement(model[on], reference[on])})
    return pd.DataFrame(rows)


def validate_times(
    G: DriveGraph,
    reference: pd.DataFrame,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    snap_nodes: int | None = None,
) -> pd.DataFrame:
    """Compare a reference OD table (``origin_id, destination_id, minutes``) with ``G``'s.

    netplan's minutes come from :func:`netplan.traveltime.od_matrix` with ``snap_nodes``
    entry nodes per point (default ``network.snap_nodes``, 4). Returns
    :func:`agreement_by_band` of netplan's minutes against the reference's.
    """
    from . import traveltime
    from ._geo import _to_bng

    check_columns(reference, ["origin_id", "destination_id", "minutes"], source="reference")
    ref = reference.copy()
    ref["origin_id"] = ref["origin_id"].astype(str)
    ref["destination_id"] = ref["destination_id"].astype(str)
    o = origins.assign(id=origins["id"].astype(str))
    d = destinations.assign(id=destinations["id"].astype(str))
    for col, pts, what in (("origin_id", o, "origins"), ("destination_id", d, "destinations")):
        unknown = sorted(set(ref[col]) - set(pts["id"]))
        if unknown:
            msg = f"reference: {col} names {len(unknown)} id(s) not in the {what}: {unknown[:5]}."
            raise ValidationError(msg)
    o = o[o["id"].isin(ref["origin_id"])]
    d = d[d["id"].isin(ref["destination_id"])]
    kw = {} if snap_nodes is None else {"snap_nodes": snap_nodes}
    od = traveltime.od_matrix(G, o, d, on_outside="warn", **kw)
    od = od.astype({"origin_id": str, "destination_id": str})
    j = ref.merge(od, on=["origin_id", "destination_id"], suffixes=("_ref", "_netplan"))
    oi = o.set_index("id").loc[j["origin_id"]]
    di = d.set_index("id").loc[j["destination_id"]]
    ox, oy = _to_bng(oi["lon"].to_numpy(), oi["lat"].to_numpy())
    dx, dy = _to_bng(di["lon"].to_numpy(), di["lat"].to_numpy())
    km = np.hypot(ox - dx, oy - dy) / 1000.0
    return agreement_by_band(j["minutes_netplan"].to_numpy(), j["minutes_ref"].to_numpy(), km)
