"""The map's colours, one meaning each, and the colour-vision check they pass.

Categorical colours (site decisions, uncovered zones, tracer supply, lot lines) come from the
Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design", https://jfly.uni-koeln.de/color/),
which was chosen to stay distinct for the common colour-vision deficiencies. Each class also
has its own shape (square, triangle, diamond, star, dashed line), so colour is never the only
cue. Drive minutes of zones use the viridis ramp (van der Walt & Smith 2015, matplotlib's
default), a sequential scale that stays ordered in greyscale and for colour-blind readers.

:func:`simulate_cvd` applies the Machado, Oliveira & Fernandes (2009) matrices for
protanopia, deuteranopia and tritanopia (severity 1.0, in linear RGB), and
:func:`min_delta_e` the smallest CIE76 distance between a set of colours as seen by each;
``tests/test_maps.py`` checks the categorical colours stay apart under all three.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Okabe-Ito colours by the meaning they carry on the map (no colour is used twice).
STATIC_COLOUR = "#0072B2"  # blue
MOBILE_COLOUR = "#E69F00"  # orange
BOTH_COLOUR = "#CC79A7"  # reddish purple
UNUSED_COLOUR = "#666666"  # dark grey (hollow circles)
UNCOVERED_COLOUR = "#D55E00"  # vermillion
CYCLOTRON_COLOUR = "#000000"  # black (stars and supply lines)
LOT_LINE_COLOUR = "#56B4E9"  # sky blue (dashed lot boundaries)
#: Reach of the open sites (isochrones, off by default): one hue, darker = shorter drive.
ISOCHRONE_COLOURS: tuple[str, ...] = ("#009E73", "#4dbb98", "#8fd5bd", "#c4ebdc", "#e6f6ef")
#: Zone drive-minute bins (upper edges) and their viridis colours, short drive = yellow.
ZONE_BINS_MINUTES: tuple[float, ...] = (15, 30, 45, 60, 90)
ZONE_COLOURS: tuple[str, ...] = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")

#: The categorical colours that must stay distinguishable, with what each means.
CATEGORICAL: dict[str, str] = {
    "static site": STATIC_COLOUR,
    "mobile site": MOBILE_COLOUR,
    "static + mobile site": BOTH_COLOUR,
    "unused candidate": UNUSED_COLOUR,
    "uncovered zone": UNCOVERED_COLOUR,
    "cyclotron / tracer supply": CYCLOTRON_COLOUR,
    "lot boundary": LOT_LINE_COLOUR,
}

# Machado, Oliveira & Fernandes (2009), IEEE TVCG 15(6), severity 1.0 (linear RGB).
_CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}


def _srgb(colours: Sequence[str]) -> np.ndarray:
    return np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours])


def _to_linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB -> CIELAB (D65)."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.column_stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])]
    )


def simulate_cvd(colours: Sequence[str], kind: str | None) -> np.ndarray:
    """The colours as CIELAB, as seen with colour-vision deficiency ``kind``.

    Parameters
    ----------
    colours
        ``#rrggbb`` strings.
    kind
        {"protanopia", "deuteranopia", "tritanopia"} or None for normal vision.

    Returns
    -------
    numpy.ndarray
        One row (L*, a*, b*) per colour.
    """
    linear = _to_linear(_srgb(colours))
    if kind is not None:
        linear = np.clip(linear @ _CVD_MATRICES[kind].T, 0.0, 1.0)
    return _to_lab(linear)


def min_delta_e(colours: Sequence[str], kind: str | None = None) -> float:
    """The smallest CIE76 distance between any two of ``colours`` (seen as ``kind``)."""
    lab = simulate_cvd(colours, kind)
    d = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=2))
    return float(d[np.triu_indices(len(colours), 1)].min())
