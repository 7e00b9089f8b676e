"""Figures in the house style: colour-blind-safe palettes, sentences as titles, n on every bar."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

# Okabe–Ito, the colour-blind-safe qualitative palette
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
# Diverging for Likert 1..5 (Brewer RdBu, colour-blind safe), grey for "don't know"
LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#d9d9d9", 4: "#67a9cf", 5: "#2166ac", "dk": "#9e9e9e"}


def apply_style() -> None:
    """Matplotlib defaults for every notebook: readable, print-friendly, deterministic SVG ids."""
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (8, 4.5),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        "font.size": 10,
        "svg.hashsalt": "liepaja",
        "figure.max_open_warning": 0,
        # labels come from codebooks and respondents: "$x^$" is text, never mathtext
        "text.parse_math": False,
    })


def show(fig, dpi: int = 100) -> None:
    """Display a figure once, as an embedded PNG, whatever the kernel's backend, and close it
    (an inline backend would otherwise show it a second time at the end of the cell)."""
    if fig is None:
        return
    import io

    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


def xerr(x, low, high) -> np.ndarray:
    """Error-bar lengths for matplotlib's ``xerr``: never negative, never NaN.

    An interval that rounding leaves a hair inside its estimate (a unanimous group), or a
    missing bound, draws no bar instead of crashing the figure (matplotlib raises on
    negative error lengths)."""
    x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
    err = np.vstack([x - low, high - x])
    return np.where(np.isfinite(err), np.clip(err, 0.0, None), 0.0)
