"""Derive the major-road network (``roads-major-nodes`` / ``roads-major-edges``) from OSM.

The England default routes on a simplified major-road network (motorway, trunk and primary
roads and their links) that the data mirror ships as two CSVs. This module rebuilds them
from any Geofabrik/OSM extract, so England can be rebuilt without the mirror::

    # the England extract: https://download.geofabrik.de/europe/great-britain/england-latest.osm.pbf
    python -m netplan._build_roads england-latest.osm.pbf --out-dir roads/
    # writes roads/ew_major_roads_nodes.csv (node, lat, lon) and
    #        roads/ew_major_roads_edges.csv (u, v, length_km), the mirror's layout

Steps (:func:`major_roads`):

1. read the ways tagged ``highway`` = one of :data:`MAJOR_CLASSES` (pyosmium, with node
   locations), skipping ``area=yes`` and ways with ``access=no/private``;
2. split every way at its *junctions* (nodes shared by two ways, or a way's ends), so an
   edge runs between junctions; its ``length_km`` is the great-circle length along all of
   the way's points (:func:`netplan._geo._haversine_m`), not the straight line;
3. merge parallel duplicates (keep the shortest edge between two nodes), drop loops;
4. keep the largest connected component (networkx), as the mirror's network is one;
5. round coordinates to :data:`ROUND_DEGREES` decimals (about 100 m, the mirror's).

Direction (``oneway``) and speeds are not kept: the mirror's network is undirected and
netplan derives classes and speeds itself. The mirror does not record the date of the
extract its files came from, so a rebuild differs from them by whatever OSM has changed
since (``tests/test_build_roads.py`` compares the two over Rutland).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import NetworkError

#: The OSM ``highway`` classes of the major-road network.
MAJOR_CLASSES = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"}
)
#: Decimals of the written coordinates (0.001 degree is about 100 m, as in the mirror).
ROUND_DEGREES = 3
NODES_FILE = "ew_major_roads_nodes.csv"
EDGES_FILE = "ew_major_roads_edges.csv"


def _ways(path: Path, classes: frozenset[str]) -> tuple[list[list[int]], dict[int, tuple]]:
    """The node-id lists of the major ways and the locations of their nodes."""
    import osmium

    ways: list[list[int]] = []
    where: dict[int, tuple[float, float]] = {}

    class Handler(osmium.SimpleHandler):  # type: ignore[misc]
        def way(self, w: object) -> None:
            tags = w.tags  # type: ignore[attr-defined]
            if tags.get("highway") not in classes or tags.get("area") == "yes":
                return
            if tags.get("access") in ("no", "private"):
                return
            ids = []
            for n in w.nodes:  # type: ignore[attr-defined]
                if not n.location.valid():
                    continue
                ids.append(n.ref)
                where[n.ref] = (n.location.lon, n.location.lat)
            if len(ids) >= 2:
                ways.append(ids)

    try:
        Handler().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        msg = f"{path}: cannot be read as an OSM file ({exc})"
        raise NetworkError(msg) from None
    return ways, where


def major_roads(
    path: str | Path, *, classes: Sequence[str] = tuple(MAJOR_CLASSES)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The major-road network of an OSM extract, simplified to junctions (see module doc).

    Returns
    -------
    nodes, edges
        ``node, lat, lon`` (WGS84, rounded) and ``u, v, length_km`` (undirected, ``u < v``),
        the largest connected component only; nodes numbered 0.. in (lat, lon) order.

    Raises
    ------
    NetworkError
        When the file cannot be read or holds no road of ``classes``.
    """
    import networkx as nx

    from ._geo import _haversine_m

    path = Path(path)
    ways, where = _ways(path, frozenset(classes))
    if not ways:
        msg = f"{path}: no roads of class {sorted(classes)}; is it an OSM extract of roads?"
        raise NetworkError(msg)
    uses: dict[int, int] = {}
    for ids in ways:
        for n in ids:
            uses[n] = uses.get(n, 0) + 1
        uses[ids[0]] += 1  # a way's ends are junctions
        uses[ids[-1]] += 1
    best: dict[tuple[int, int], float] = {}
    for ids in ways:
        lon = np.array([where[n][0] for n in ids])
        lat = np.array([where[n][1] for n in ids])
        step = _haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
        start = 0
        for i in range(1, len(ids)):
            if uses[ids[i]] > 1 or i == len(ids) - 1:
                u, v = ids[start], ids[i]
                if u != v:
                    key = (min(u, v), max(u, v))
                    km = float(step[start:i].sum()) / 1000.0
                    best[key] = min(km, best.get(key, np.inf))
                start = i
    G = nx.Graph()
    G.add_weighted_edges_from((u, v, km) for (u, v), km in best.items())
    keep = max(nx.connected_components(G), key=len)
    ids = sorted(keep, key=lambda n: (where[n][1], where[n][0]))
    number = {n: i for i, n in enumerate(ids)}
    nodes = pd.DataFrame(
        {
            "node": np.arange(len(ids)),
            "lat": np.round([where[n][1] for n in ids], ROUND_DEGREES),
            "lon": np.round([where[n][0] for n in ids], ROUND_DEGREES),
        }
    )
    rows = sorted(
        (min(number[u], number[v]), max(number[u], number[v]), km)
        for (u, v), km in best.items()
        if u in keep
    )
    edges = pd.DataFrame(rows, columns=["u", "v", "length_km"])
    edges["length_km"] = edges["length_km"].round(4)
    return nodes, edges


def write(nodes: pd.DataFrame, edges: pd.DataFrame, out_dir: str | Path) -> tuple[Path, Path]:
    """Write the two CSVs in the mirror's layout into ``out_dir``."""
    from ._io import write_text_atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    a = write_text_atomic(out / NODES_FILE, nodes.to_csv(index=False, lineterminator="\n"))
    b = write_text_atomic(out / EDGES_FILE, edges.to_csv(index=False, lineterminator="\n"))
    return a, b


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m netplan._build_roads EXTRACT.osm.pbf --out-dir DIR``."""
    p = argparse.ArgumentParser(
        prog="python -m netplan._build_roads",
        description="Derive the major-road network CSVs (motorway, trunk, primary and links) "
        "from a Geofabrik/OSM extract (.osm.pbf or .osm).",
    )
    p.add_argument("extract", type=Path, help="OSM extract, e.g. england-latest.osm.pbf")
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the two CSVs")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    try:
        nodes, edges = major_roads(args.extract)
    except NetworkError as exc:
        print(f"netplan: error: {exc}", file=sys.stderr)
        return 1
    a, b = write(nodes, edges, args.out_dir)
    print(
        f"{len(nodes):,} nodes, {len(edges):,} edges, {edges['length_km'].sum():,.0f} km "
        f"in {time.perf_counter() - t0:.1f} s: {a}, {b}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
