"""Figures in the house style: colour-blind-safe palettes, sentences as titles, n on every bar.

Figures reach a report as vector SVG inside an ``<img>`` whose ``alt`` says what the figure
shows and its main number: text stays text (``svg.fonttype: none``), ids are stable
(``svg.hashsalt``), and a figure whose smallest text would render below `MIN_TEXT_PX` on a
phone keeps a minimum width and scrolls sideways inside its frame, with a hint saying so.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

# Okabe–Ito, the colour-blind-safe qualitative palette
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
# Diverging for Likert 1..5 (Brewer RdBu, colour-blind safe), grey for "don't know"
LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#d9d9d9", 4: "#67a9cf", 5: "#2166ac", "dk": "#9e9e9e"}


MIN_TEXT_PX = 11.5          # smallest figure text a reader should get, in CSS px (test: >= 11)
_LANG = {"lang": "lv"}       # the report language of this kernel (set by apply_style)


def apply_style(lang: str = "lv") -> None:
    """Matplotlib defaults for every notebook: readable, print-friendly, deterministic SVG ids."""
    _LANG["lang"] = lang
    _install_figure_format()
    _install_text_metrics_cache()
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
        "svg.hashsalt": "analysis-report",
        "svg.fonttype": "none",           # text stays text: selectable, searchable, scalable
        "figure.max_open_warning": 0,
        # labels come from codebooks and respondents: "$x^$" is text, never mathtext
        "text.parse_math": False,
    })


def show(fig, alt: str | None = None) -> None:
    """Display a figure once, as vector SVG with alt text, whatever the kernel's backend, and
    close it (an inline backend would otherwise show it a second time at the end of the cell).

    `alt` defaults to the figure's own description (`fig.alt_text`, set by the figure
    functions) or one derived from its title, axis and data (`describe`)."""
    if fig is None:
        return
    from IPython.display import HTML, display

    text = figure_html(fig, alt)
    plt.close(fig)
    display(HTML(text), metadata={"report": "figure"})


def figure_svg(fig) -> str:
    """The figure as reproducible SVG text (fixed ids, no date, text kept as text)."""
    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "analysis-report"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue().decode("utf-8")
    return svg[svg.index("<svg"):]


_FONT = re.compile(r"font-size:\s*([0-9.]+)px")
_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def svg_metrics(svg: str) -> tuple[float, float, float]:
    """(width, height, smallest font size) of an SVG, in its own units (points)."""
    m = _VIEWBOX.search(svg)
    width, height = (float(m.group(1)), float(m.group(2))) if m else (640.0, 480.0)
    sizes = [float(x) for x in _FONT.findall(svg)]
    return width, height, min(sizes) if sizes else 10.0


PHONE_MEDIA = "(max-width: 600px)"
PHONE_WIDTH_IN = 3.5                 # a phone's text column (~345 CSS px): drawn 1:1 there


def figure_html(fig, alt: str | None = None, lang: str | None = None) -> str:
    """An accessible, responsive figure: <img> of the SVG with its alt text; below the natural
    size it shrinks with the page, never so far that its smallest text drops under MIN_TEXT_PX
    (it then scrolls sideways in its frame, with a hint). A simple figure (one axes with
    labelled rows) also gets a phone layout, chosen by the browser through <picture>."""
    from .report import t

    lang = lang or _LANG["lang"]
    alt = alt or getattr(fig, "alt_text", None) or describe(fig, lang)
    svg = figure_svg(fig)
    width, height, smallest = svg_metrics(svg)
    natural = math.ceil(width * 4 / 3)                       # 1 pt = 4/3 CSS px
    floor = math.ceil(MIN_TEXT_PX * width / smallest)        # narrowest width keeping text readable
    fid = "fig-" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:10]
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    phone = phone_svg(fig)
    styles, source = [], ""
    if phone is not None:
        p_width, _, p_smallest = svg_metrics(phone)
        p_floor = math.ceil(MIN_TEXT_PX * p_width / p_smallest)
        p_data = base64.b64encode(phone.encode("utf-8")).decode("ascii")
        source = (f'<source media="{PHONE_MEDIA}" srcset="data:image/svg+xml;base64,{p_data}" '
                  f'width="{math.ceil(p_width * 4 / 3)}">')
        styles.append(f"@media {PHONE_MEDIA} {{ #{fid} img {{ min-width: {p_floor}px !important; }} "
                      f"#{fid} .scroll-hint {{ display: none !important; }} }}")
    hint = ""
    if floor > 340:                                          # wider than a phone's text column
        styles.append(f"@media (min-width: {floor + 80}px) {{ #{fid} .scroll-hint {{ display: none; }} }}")
        hint = f'<p class="scroll-hint">{html.escape(t("report_figure_scroll_hint", lang))}</p>'
    style = f"<style>{' '.join(styles)}</style>" if styles else ""
    return (f'<figure class="report-figure" id="{fid}">{style}{hint}<div class="figure-frame"><picture>{source}'
            f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'width="{natural}" style="min-width: {floor}px" '
            f'data-min-font="{smallest:g}" data-svg-width="{width:g}"></picture></div></figure>')


def phone_svg(fig) -> str | None:
    """The same figure laid out for a phone: narrow, row labels and titles wrapped, text at its
    own size. Only for one axes with labelled rows (bars or points); None otherwise."""
    import pickle
    import textwrap

    axes = [a for a in fig.axes if a.get_visible()]
    if len(axes) != 1 or len([lab for lab in axes[0].get_yticklabels() if lab.get_text()]) < 2:
        return None
    if fig.get_figwidth() <= PHONE_WIDTH_IN + 0.5:
        return None                                      # already narrow
    try:
        copy = pickle.loads(pickle.dumps(fig))
    except Exception:  # noqa: BLE001 - a figure that cannot be copied keeps its one layout
        return None
    ax = copy.axes[0]
    ticks = list(ax.get_yticks())
    labels = [lab.get_text() for lab in ax.get_yticklabels()]
    wrapped = [textwrap.fill(" ".join(lab.split()), 22) for lab in labels]
    lines = max((w.count("\n") + 1 for w in wrapped), default=1)
    ax.set_yticks(ticks, wrapped, fontsize=9)
    # one title across the figure's width (an axes title starts after the row labels)
    titles = [x.get_text() for x in (getattr(copy, "_suptitle", None), ax._left_title, ax.title, ax._right_title)
              if x is not None and x.get_text()]
    for text in (ax.title, ax._left_title, ax._right_title):
        text.set_text("")
    if titles:
        copy.suptitle(textwrap.fill(" ".join(" ".join(titles).split()), 36), x=0.02, ha="left",
                      fontsize=10.5, fontweight="bold")
    if ax.get_xlabel():
        ax.set_xlabel(textwrap.fill(" ".join(ax.get_xlabel().split()), 28))
    for artist in ax.texts:
        artist.set_fontsize(max(artist.get_fontsize(), 9))
    for tick in ax.get_xticklabels():
        tick.set_fontsize(max(tick.get_fontsize(), 9))
    ax.xaxis.label.set_fontsize(9)
    if ax.texts:                      # room inside the axes for labels written beside the marks
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + 0.45 * (hi - lo))
    rows = max(len(ticks), 1)
    copy.set_size_inches(PHONE_WIDTH_IN, max(copy.get_figheight(), rows * (0.16 * lines + 0.18) + 1.6))
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            copy.tight_layout()
        svg = figure_svg(copy)
    except Exception:  # noqa: BLE001 - a layout that fails keeps the desktop figure only
        return None
    finally:
        plt.close(copy)
    width, _, smallest = svg_metrics(svg)
    # worth it only if it fits a phone with readable text
    return svg if MIN_TEXT_PX * width / smallest <= 360 else None


def _texts(items) -> list[str]:
    return [i.get_text().strip() for i in items]


def describe(fig, lang: str = "lv") -> str:
    """Alt text derived from a figure: its title, then for the first axes with data its axis
    title and the highest and lowest labelled values (bars or points with intervals)."""
    from matplotlib.container import BarContainer, ErrorbarContainer

    from .report import fmt_num, t

    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [a.get_title(loc) for a in fig.axes for loc in ("left", "center") if a.get_title(loc)]
    parts = [" ".join(" ".join(x.split()) for x in titles[:1])]
    for ax in fig.axes:
        pairs = _labelled_values(ax, BarContainer, ErrorbarContainer)
        if len(pairs) >= 1:
            hi = max(pairs, key=lambda p: p[1])
            lo = min(pairs, key=lambda p: p[1])
            axis = " ".join((ax.get_xlabel() or ax.get_ylabel() or "").split())
            parts.append(t("report_figure_alt_range", lang, axis=axis, n=len(pairs), top=hi[0],
                           top_value=fmt_num(hi[1], 0, lang), low=lo[0], low_value=fmt_num(lo[1], 0, lang)))
            break
    text = " ".join(p.rstrip(".") + "." for p in parts if p)
    return text or t("report_figure_alt_none", lang)


def _labelled_values(ax, BarContainer, ErrorbarContainer) -> list[tuple[str, float]]:
    """(tick label, value) for horizontal bars or horizontal points on a labelled y axis."""
    ticks = {round(float(tk), 3): lab.get_text() for tk, lab in zip(ax.get_yticks(), ax.get_yticklabels())
             if lab.get_text()}
    pairs = []
    for c in ax.containers:
        if isinstance(c, BarContainer):
            for patch in c.patches:
                y = round(patch.get_y() + patch.get_height() / 2, 3)
                if y in ticks and np.isfinite(patch.get_width()):
                    pairs.append((ticks[y], float(patch.get_width())))
        elif isinstance(c, ErrorbarContainer) and c.lines[0] is not None:
            xs, ys = c.lines[0].get_data()
            for x, y in zip(np.asarray(xs, float), np.asarray(ys, float)):
                if round(y, 3) in ticks and np.isfinite(x):
                    pairs.append((" ".join(ticks[round(y, 3)].split()), float(x)))
    return pairs


def _install_figure_format() -> None:
    """In a kernel, a figure displayed the ordinary way (``plt.show()``, a figure as the last
    value of a cell) also becomes the accessible SVG figure (HTML outranks PNG in a report)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None:
        from matplotlib.figure import Figure

        # resolve the backend first: activating the inline backend clears every formatter
        # registered for Figure, so one registered before it would be lost
        plt.close(plt.figure())
        formatters = shell.display_formatter.formatters
        formatters["text/html"].for_type(Figure, lambda f: figure_html(f))
        # the inline backend would also draw every such figure as a PNG nobody reads (the
        # report shows the HTML): a second full rendering, and a bitmap in the notebook
        formatters["image/png"].type_printers.pop(Figure, None)


# renderer classes whose text metrics depend only on the text, the font, the dpi and the
# hinting settings (matplotlib's own cache is per renderer instance, so every savefig -- and a
# tight bounding box's dry run before it -- measures every label again)
_METRICS_RENDERERS = ("RendererSVG", "RendererAgg")
_METRICS_CACHE: dict = {}
_METRICS_CACHE_MAX = 50_000


def _install_text_metrics_cache() -> None:
    """Share text measurements between renderers of the same kind and dpi.

    Measuring a string lays out each glyph with FreeType (about 1-3 ms per label here), and
    matplotlib keeps those measurements per renderer instance; a report figure is drawn four
    times (tight bounding box, then the drawing, for the page and for the phone layout), with
    the same labels across figures. The result of a measurement is a function of the renderer's
    class, its dpi, the string, the font properties, whether it is math, and the hinting
    settings, which together are the key here; anything else (TeX, other renderers) goes to
    matplotlib unchanged. Installed once per process."""
    import matplotlib.text as mtext
    from matplotlib import font_manager

    original = mtext._get_text_metrics_with_cache
    if getattr(original, "_analysis_shared", False):
        return

    def metrics(renderer, text, fontprop, ismath, dpi):
        # a vector backend draws through a MixedModeRenderer, which measures with the
        # renderer it currently holds (the vector one, or a raster one while rasterizing)
        inner = renderer._renderer if type(renderer).__name__ == "MixedModeRenderer" else renderer
        if ismath == "TeX" or type(inner).__name__ not in _METRICS_RENDERERS:
            return original(renderer, text, fontprop, ismath, dpi)
        rc = matplotlib.rcParams
        # the font file the properties resolve to now (rcParams' font lists can change in a session)
        key = (type(inner), inner.points_to_pixels(72), dpi, text, fontprop.copy(), ismath,
               font_manager.findfont(fontprop),
               rc["text.hinting"], rc["text.hinting_factor"], rc["text.kerning_factor"], rc.get("text.language"))
        hit = _METRICS_CACHE.get(key)
        if hit is None:
            if len(_METRICS_CACHE) >= _METRICS_CACHE_MAX:
                _METRICS_CACHE.clear()
            hit = _METRICS_CACHE[key] = original(renderer, text, fontprop, ismath, dpi)
        return hit

    metrics._analysis_shared = True
    metrics.__wrapped__ = original
    mtext._get_text_metrics_with_cache = metrics


def xerr(x, low, high) -> np.ndarray:
    """Error-bar lengths for matplotlib's ``xerr``: never negative, never NaN.

    An interval that rounding leaves a hair inside its estimate (a unanimous group), or a
    missing bound, draws no bar instead of crashing the figure (matplotlib raises on
    negative error lengths)."""
    x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
    err = np.vstack([x - low, high - x])
    return np.where(np.isfinite(err), np.clip(err, 0.0, None), 0.0)


def likert_colours(points, dont_know: str = "#9e9e9e") -> dict:
    """A diverging palette for any scale: point -> colour, plus "dk" (grey) for "don't know".

    Red at the low end, blue at the high end (Brewer RdBu, colour-blind safe), light grey in
    the middle of an odd number of points; five points give exactly LIKERT_COLOURS (the
    colours of the first surveys' 1..5 scales). Scores are keys as given (0..10, 1..7, ...)."""
    points = list(points)
    n = len(points)
    if n == 5:
        base = [LIKERT_COLOURS[k] for k in range(1, 6)]
    else:
        import matplotlib.colors as mcolors

        cmap = matplotlib.colormaps["RdBu"]
        xs = np.linspace(0.08, 0.92, n) if n > 1 else np.array([0.5])
        base = [mcolors.to_hex(cmap(x)) for x in xs]
        if n % 2 == 1:
            base[n // 2] = LIKERT_COLOURS[3]
    out = {p: c for p, c in zip(points, base)}
    out["dk"] = dont_know
    return out
