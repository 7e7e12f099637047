"""Charts for the readiness report: chart data (types.CHART_KINDS) in, inline SVG out.

One drawing function per chart kind, registered in ``CHARTS``. Every chart uses the
Okabe-Ito palette together with distinct markers, line styles and hatching, so it reads
in greyscale and for colour-blind readers; its title is the chart dict's ``title``,
a sentence stating the finding. Charts summarise: every series is thinned to a bounded
number of points, so a report stays small whatever the size of the data.

matplotlib is used through its object-oriented API with the SVG canvas (no pyplot, no
global backend state), and only this module imports it, so ``auditor validate`` never
pays for it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import io
import itertools
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Okabe & Ito (2008), "Color universal design": distinguishable for colour-blind readers.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
BLACK = "#000000"
GREY = "#777777"

MAX_LINE_POINTS = 200  # points per line series
MAX_SCATTER_POINTS = 800  # points in a scatter (residuals)
MAX_BARS = 30  # bars (groups, categories) in one chart
TITLE_WIDTH = 78  # characters per title line on a full-width chart
SMALL_KINDS = frozenset({"roc", "pr", "calibration", "confusion_matrix"})  # two per row
FULL_WIDTH = 6.4  # inches: a chart across the text
COMPACT_WIDTH = 3.6  # inches: a chart laid out two per row (render_chart(compact=True))
COMPACT_HEIGHT = 0.72  # compact charts' height, relative to the full-width drawing

UNKNOWN_KIND = (
    "This chart ({kind}) is not supported by this version of the report; "
    "its data are in results.json."
)
BAD_CHART = (
    "This chart ({kind}) could not be drawn from its data ({error}); its data are in results.json."
)

_RC = {
    "svg.fonttype": "none",  # text stays text: small files, searchable, crisp in WeasyPrint
    "svg.hashsalt": "auditor",  # stable ids, so the same results give the same SVG
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "text.parse_math": False,  # a '$' in a group name is text, not mathtext
    "path.simplify": True,
}


@dataclass
class ChartSVG:
    """A drawn chart (``svg`` set) or a note saying why it was skipped (``note`` set)."""

    kind: str
    title: str
    svg: str | None = None
    note: str | None = None
    compact: bool = False

    @property
    def small(self) -> bool:
        """Small charts are laid out two side by side."""
        return self.svg is not None and (self.kind in SMALL_KINDS or self.compact)


# --------------------------------------------------------------------------- helpers
def _floats(values: Sequence[Any] | None) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values or []]


def _row_values(rows: list[dict[str, Any]]) -> tuple[list[float], list[float], list[float]]:
    """The rows' values and their interval ends (NaN where absent)."""
    return (
        _floats([r["value"] for r in rows]),
        _floats([r.get("low") for r in rows]),
        _floats([r.get("high") for r in rows]),
    )


def _thin(n: int, limit: int) -> list[int]:
    """Indices of at most ``limit`` evenly spaced points out of ``n`` (ends kept)."""
    if n <= limit:
        return list(range(n))
    step = (n - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def _pick(values: Sequence[Any], idx: list[int]) -> list[Any]:
    return [values[i] for i in idx]


def _title(ax, chart: dict[str, Any], **layout: Any) -> None:
    """Set the finding-stating title across the figure's full width, then the margins."""
    fig = ax.figure
    width, height = fig.get_size_inches()
    chars = int(TITLE_WIDTH * width / FULL_WIDTH)
    lines = textwrap.wrap(str(chart.get("title") or ""), chars) or [" "]
    fig.text(
        0.08 / width,
        1 - 0.06 / height,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=9,
        fontweight="bold",
    )
    _layout(ax, title_lines=len(lines), **layout)


def _number(value: float) -> str:
    """Bar and point labels: 3,600 rather than 3.6e+03, 0.765 rather than 0.76543."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _label(text: Any) -> str:
    return str(text).replace("_", " ")


_FIGURE_WIDTH = contextvars.ContextVar("figure_width", default=FULL_WIDTH)


def _axes(width: float | None = None, height: float = 2.7, *, legend: float = 0.0):
    """The axes of a new figure on the SVG canvas; ``width`` None: full or compact width,
    as ``render_chart`` was asked; ``legend``: inches added for a legend below the axes
    (never shortened on a compact chart)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    if width is None:
        width = _FIGURE_WIDTH.get()
        if width < FULL_WIDTH:  # compact: shorter too, so two side by side stay low
            height = max(1.8, height * COMPACT_HEIGHT)
    fig = Figure(figsize=(width, height + legend))
    FigureCanvasSVG(fig)
    return fig.add_subplot()


def _x_grid(ax) -> None:
    """Grid lines across a horizontal chart's value axis only."""
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)


def _unit_square(ax, chart: dict[str, Any], xlabel: str, ylabel: str, legend: str) -> None:
    """Finish a curve drawn on [0, 1] x [0, 1] (ROC, PR, calibration)."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc=legend)
    _title(ax, chart)


def _model_label(auc: Any) -> str:
    return f"model (AUC {float(auc):.3f})" if auc is not None else "model"


def _layout(
    ax,
    *,
    title_lines: int = 1,
    ylabels: Sequence[str] = (),
    legend_below: bool = False,
    ylabel: bool = True,
    legend_columns: int = 4,
    integer_x: bool = False,
) -> None:
    """Fixed margins in inches (much faster than constrained layout, and predictable);
    ``integer_x``: whole-number ticks on the x axis (trials, epochs)."""
    from matplotlib.ticker import AutoLocator, MaxNLocator

    fig = ax.figure
    width, height = fig.get_size_inches()
    for axis in (ax.xaxis, ax.yaxis):  # fewer ticks: a summary, and fewer nodes to draw
        if type(axis.get_major_locator()) in (MaxNLocator, AutoLocator):
            whole = integer_x and axis is ax.xaxis
            axis.set_major_locator(MaxNLocator(nbins=6 if axis is ax.xaxis else 5, integer=whole))
    longest = max((len(str(t)) for t in ylabels), default=5)
    left = 0.16 + (0.2 if ylabel else 0.0) + 0.062 * max(longest, 4)
    top = 0.16 + 0.16 * title_lines
    bottom = 0.42
    if legend_below:
        legend = ax.get_legend()
        if legend is not None:
            handles = list(legend.legend_handles)
            labels = [t.get_text() for t in legend.get_texts()]
            legend.remove()
        else:
            handles, labels = ax.get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.01, 0.0),
            ncols=legend_columns,
            fontsize=6.5,
        )
        bottom += 0.12 + 0.12 * math.ceil(len(labels) / legend_columns)
    fig.subplots_adjust(
        left=min(left / width, 0.5),
        right=1 - 0.15 / width,
        bottom=bottom / height,
        top=1 - top / height,
    )


def _bound_line(ax, bound: Any, *, vertical: bool, label: str = "bound") -> None:
    if bound is None:
        return
    kw = {
        "color": VERMILLION,
        "linestyle": "--",
        "linewidth": 1.2,
        "label": f"{label} {float(bound):g}",
        "zorder": 4,
    }
    (ax.axvline if vertical else ax.axhline)(float(bound), **kw)


def _errors(values: list[float], lows: list[float], highs: list[float]):
    """Whisker lengths below and above each value (none where an interval end is absent)."""
    lo = [0.0 if math.isnan(lw) else max(0.0, v - lw) for v, lw in zip(values, lows, strict=True)]
    hi = [0.0 if math.isnan(h) else max(0.0, h - v) for v, h in zip(values, highs, strict=True)]
    return [lo, hi]


# --------------------------------------------------------------------------- kinds
_TRAIN_VALIDATION = (("train", BLUE, "-", "o"), ("validation", VERMILLION, "--", "s"))


def loss_curve(chart: dict[str, Any]):
    """Training and validation loss by epoch, with the best epoch and where loss rises."""
    epochs = _floats(chart["epochs"])
    idx = _thin(len(epochs), MAX_LINE_POINTS)
    ax = _axes()
    marker = len(idx) <= 40
    for name, color, ls, mk in _TRAIN_VALIDATION:
        ys = _floats(chart.get(name))
        if ys:
            ax.plot(
                _pick(epochs, idx),
                _pick(ys, idx),
                color=color,
                linestyle=ls,
                marker=mk if marker else None,
                markersize=3,
                linewidth=1.4,
                label=f"{name} loss",
            )
    best = chart.get("best_epoch")
    if best is not None:
        ax.axvline(
            float(best),
            color=BLACK,
            linestyle=":",
            linewidth=1.2,
            label=f"best epoch {best} (weights kept)",
        )
    rising = chart.get("rising_from")
    if rising is not None and epochs:
        ax.axvspan(
            float(rising),
            max(epochs),
            facecolor=ORANGE,
            alpha=0.15,
            hatch="//",
            edgecolor=ORANGE,
            linewidth=0,
            label="validation loss rising",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    _title(ax, chart)
    return ax.figure


def learning_curve(chart: dict[str, Any]):
    """The primary metric against the number of training rows (a language model's:
    documents, ``unit``): would more data help?"""
    rows = _floats(chart.get("rows")) or [100 * f for f in _floats(chart["fractions"])]
    unit = str(chart.get("unit") or "rows")
    xlabel = f"training {unit}" if chart.get("rows") else f"fraction of training {unit} (%)"
    ax = _axes()
    for name, color, ls, mk in _TRAIN_VALIDATION:
        ys = _floats(chart.get(name))
        if ys:
            ax.plot(
                rows,
                ys,
                color=color,
                linestyle=ls,
                marker=mk,
                markersize=4,
                linewidth=1.4,
                label=name,
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_label(chart.get("metric", "score")))
    ax.legend(loc="best")
    _title(ax, chart)
    return ax.figure


def metric_intervals(chart: dict[str, Any]):
    """Point estimates with confidence whiskers, one row per label; the bound drawn."""
    rows = list(chart["rows"])[:MAX_BARS]
    labels = [_label(r["label"]) for r in rows]
    values, lows, highs = _row_values(rows)
    ax = _axes(height=max(1.9, 1.2 + 0.22 * len(rows)))
    ys = list(range(len(rows)))[::-1]
    ax.errorbar(
        values,
        ys,
        xerr=_errors(values, lows, highs),
        fmt="o",
        color=BLUE,
        ecolor=BLACK,
        elinewidth=1,
        capsize=3,
        markersize=4,
        label="estimate (whiskers: confidence interval)"
        if any(not math.isnan(v) for v in [*lows, *highs])
        else "estimate",
    )
    for y, v in zip(ys, values, strict=True):
        if not math.isnan(v):
            ax.annotate(_number(v), (v, y), xytext=(4, 4), textcoords="offset points", fontsize=6.5)
    ax.set_yticks(ys, labels)
    _bound_line(ax, chart.get("bound"), vertical=True)
    ax.set_xlabel(_label(chart.get("metric", "value")))
    ax.legend()
    _x_grid(ax)
    _title(ax, chart, ylabels=labels, legend_below=True, ylabel=False)
    return ax.figure


def _group_line(chart: dict[str, Any]) -> dict[str, Any] | None:
    """The bound as a line on the groups' scale: ``bound_line`` (set by the report from the
    criterion or diagnostic limit, see fairness_bounds), else a plain ``bound`` (a floor:
    the checks set it only for worst-group accuracy)."""
    line = chart.get("bound_line")
    if isinstance(line, dict) and line.get("at") is not None:
        return {
            "at": float(line["at"]),
            "beyond": str(line.get("beyond", "below")),
            "label": str(line.get("label") or f"bound {float(line['at']):.3g}"),
        }
    if chart.get("bound") is not None:
        at = float(chart["bound"])
        return {"at": at, "beyond": "below", "label": f"bound: below {at:g}"}
    return None


def _beyond(value: float, line: dict[str, Any] | None) -> bool:
    if line is None or math.isnan(value):
        return False
    eps = 1e-12  # a group exactly on the line does not break the bound
    return value < line["at"] - eps if line["beyond"] == "below" else value > line["at"] + eps


# how a group's bar looks: (face, edge, hatch, linewidth). Beyond the bound: dark fill,
# cross-hatched, heavy black outline, so it reads without colour.
_BAR_NORMAL = (SKY, BLUE, None, 0.8)
_BAR_SMALL = ("white", GREY, "///", 0.8)
_BAR_BEYOND = (VERMILLION, BLACK, "xx", 1.6)
_BAR_SMALL_BEYOND = ("white", BLACK, "///", 1.6)


def group_bars(chart: dict[str, Any]):
    """A metric per group with interval whiskers and the bound as a line on the groups'
    scale; groups beyond the line are cross-hatched and outlined, groups too small to
    judge are hatched."""
    rows = list(chart["rows"])
    if len(rows) > MAX_BARS:  # keep the largest groups
        rows = sorted(rows, key=lambda r: -int(r.get("n") or 0))[:MAX_BARS]
    values, lows, highs = _row_values(rows)
    line = _group_line(chart)
    labels = _group_labels(rows)
    # the legend goes below, two entries a row (one on a compact chart): the figure grows
    # by its extra rows so the bars keep their room
    bar_looks = _bar_looks(values, rows, line)
    looks = set(bar_looks) | {_BAR_NORMAL, _BAR_SMALL}
    columns = 2 if _FIGURE_WIDTH.get() >= FULL_WIDTH else 1
    entries = len(looks) + (line is not None) + (chart.get("reference") is not None)
    extra = max(0, math.ceil(entries / columns) - 2) * (0.12 if columns == 2 else 0.15)
    ax = _axes(height=max(2.0, 1.25 + 0.26 * len(rows)), legend=extra)
    ys = list(range(len(rows)))[::-1]
    for y, v, look in zip(ys, values, bar_looks, strict=True):
        face, edge, hatch, width = look
        ax.barh(y, v, color=face, edgecolor=edge, hatch=hatch, height=0.6, linewidth=width)
    ax.errorbar(
        values,
        ys,
        xerr=_errors(values, lows, highs),
        fmt="none",
        ecolor=BLACK,
        elinewidth=1,
        capsize=3,
    )
    ax.set_yticks(ys, labels)
    _x_grid(ax)
    _group_reference_lines(ax, chart, line)
    _group_legend(ax, looks)
    ax.set_xlabel(_label(chart.get("metric", "value")))
    _title(ax, chart, ylabels=labels, legend_below=True, ylabel=False, legend_columns=columns)
    return ax.figure


def _group_labels(rows: list[dict[str, Any]]) -> list[str]:
    """Each group's bar label: its name and size, and "too few" when it is too small."""
    labels = []
    for r in rows:
        text = f"{r['group']}  (n={int(r.get('n') or 0):,})"
        if r.get("inconclusive"):
            text += "  too few"
        labels.append(text)
    return labels


def _bar_looks(
    values: list[float], rows: list[dict[str, Any]], line: dict[str, Any] | None
) -> list[tuple]:
    """Each bar's look: normal, beyond the line, too small to judge, or both."""
    bar_looks = []
    for v, r in zip(values, rows, strict=True):
        small, beyond = bool(r.get("inconclusive")), _beyond(v, line)
        bar_looks.append(
            (_BAR_SMALL_BEYOND if beyond else _BAR_SMALL)
            if small
            else (_BAR_BEYOND if beyond else _BAR_NORMAL)
        )
    return bar_looks


def _group_reference_lines(ax, chart: dict[str, Any], line: dict[str, Any] | None) -> None:
    """The bound line (dashed) and the overall value (dotted), where the chart has them."""
    if line is not None:
        ax.axvline(
            line["at"], color=BLACK, linestyle="--", linewidth=1.6, zorder=5, label=line["label"]
        )
    if chart.get("reference") is not None:
        ax.axvline(
            float(chart["reference"]),
            color=GREY,
            linestyle=":",
            linewidth=1.2,
            label=f"overall {float(chart['reference']):.3g}",
        )


def _group_legend(ax, looks: set) -> None:
    """The legend: the lines drawn, then an entry for each bar look in use."""
    from matplotlib.patches import Patch

    handles, names = ax.get_legend_handles_labels()
    for look, name in (
        (_BAR_NORMAL, "group (whiskers: interval)"),
        (_BAR_BEYOND, "beyond the line: breaks the bound"),
        (_BAR_SMALL, "too few rows to judge"),
        (_BAR_SMALL_BEYOND, "too few rows to judge, beyond the line"),
    ):
        if look in looks:
            face, edge, hatch, width = look
            handles.append(Patch(facecolor=face, edgecolor=edge, hatch=hatch, linewidth=width))
            names.append(name)
    ax.legend(handles, names)


def confusion_matrix(chart: dict[str, Any]):
    """Counts of true against predicted classes, with the share of each true class."""
    labels = [str(x) for x in chart["labels"]][:MAX_BARS]
    k = len(labels)
    matrix = [[int(v) for v in row[:k]] for row in chart["matrix"][:k]]
    ax = _axes(width=COMPACT_WIDTH, height=2.9 if k <= 4 else 3.6)
    totals = [max(sum(row), 1) for row in matrix]
    shares = [[v / t for v in row] for row, t in zip(matrix, totals, strict=True)]
    ax.pcolormesh(shares, cmap="Blues", vmin=0, vmax=1, edgecolors="white", linewidth=1)
    for i in range(k):
        for j in range(k):
            dark = shares[i][j] > 0.55
            ax.text(
                j + 0.5,
                i + 0.5,
                f"{matrix[i][j]:,}\n{shares[i][j]:.0%}",
                ha="center",
                va="center",
                fontsize=7 if k <= 6 else 5,
                color="white" if dark else BLACK,
                fontweight="bold" if i == j else "normal",
            )
    ticks = [i + 0.5 for i in range(k)]
    ax.set_xticks(ticks, labels, rotation=30 if k > 3 else 0, ha="right" if k > 3 else "center")
    ax.set_yticks(ticks, labels)
    ax.invert_yaxis()
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.grid(False)
    _title(ax, chart, ylabels=labels)
    return ax.figure


def roc(chart: dict[str, Any]):
    """ROC curve with the chance diagonal."""
    fpr, tpr = _floats(chart["fpr"]), _floats(chart["tpr"])
    idx = _thin(len(fpr), MAX_LINE_POINTS)
    ax = _axes(width=COMPACT_WIDTH, height=2.9)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1, label="chance")
    ax.plot(
        _pick(fpr, idx),
        _pick(tpr, idx),
        color=BLUE,
        linewidth=1.6,
        label=_model_label(chart.get("auc")),
    )
    _unit_square(ax, chart, "false positive rate", "true positive rate", "lower right")
    return ax.figure


def pr(chart: dict[str, Any]):
    """Precision-recall curve with the base rate (what a random ranking achieves)."""
    rec, prec = _floats(chart["recall"]), _floats(chart["precision"])
    idx = _thin(len(rec), MAX_LINE_POINTS)
    ax = _axes(width=COMPACT_WIDTH, height=2.9)
    ax.plot(
        _pick(rec, idx),
        _pick(prec, idx),
        color=BLUE,
        linewidth=1.6,
        label=_model_label(chart.get("auc")),
    )
    if chart.get("base_rate") is not None:
        ax.axhline(
            float(chart["base_rate"]),
            color=GREY,
            linestyle=":",
            linewidth=1,
            label=f"base rate {float(chart['base_rate']):.2f}",
        )
    _unit_square(ax, chart, "recall", "precision", "lower left")
    return ax.figure


def calibration(chart: dict[str, Any]):
    """Observed frequency against predicted probability, per score bin."""
    pred, obs = _floats(chart["predicted"]), _floats(chart["observed"])
    counts = _floats(chart.get("counts")) or [1.0] * len(pred)
    idx = _thin(len(pred), 50)
    ax = _axes(width=COMPACT_WIDTH, height=2.9)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1, label="perfect calibration")
    biggest = max(counts) if counts else 1.0
    sizes = [12 + 60 * (c / biggest) for c in _pick(counts, idx)]
    ax.plot(_pick(pred, idx), _pick(obs, idx), color=BLUE, linewidth=1.2, linestyle="-")
    ax.scatter(
        _pick(pred, idx),
        _pick(obs, idx),
        s=sizes,
        color=BLUE,
        marker="o",
        edgecolors="white",
        linewidths=0.5,
        zorder=3,
        label="model (size: rows in bin)",
    )
    _unit_square(ax, chart, "predicted probability", "observed frequency", "upper left")
    return ax.figure


def group_calibration(chart: dict[str, Any]):
    """Observed frequency against predicted probability per score bin, one line per group;
    a group too small to judge is drawn dashed and faded, and labelled so."""
    from itertools import cycle

    groups = list(chart["groups"])[:8]
    ax = _axes(height=3.4)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", linewidth=1, label="perfect calibration")
    looks = cycle(zip((BLUE, VERMILLION, ORANGE, SKY, BLACK), "osD^v", strict=True))
    for g, (color, marker) in zip(groups, looks, strict=False):
        pred, obs = _floats(g["predicted"]), _floats(g["observed"])
        idx = _thin(len(pred), 50)
        small = bool(g.get("inconclusive"))
        ece = g.get("ece")
        label = f"{g['group']} (n={int(g.get('n') or 0):,}"
        label += (
            ", too few to judge)"
            if small
            else (f", ECE {float(ece):.3f})" if ece is not None else ")")
        )
        ax.plot(
            _pick(pred, idx),
            _pick(obs, idx),
            color=color,
            marker=marker,
            markersize=3.5,
            linewidth=1.0 if small else 1.3,
            linestyle="--" if small else "-",
            alpha=0.45 if small else 1.0,
            label=_label(label),
        )
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("predicted probability (mean score in bin)")
    ax.set_ylabel("observed frequency")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6.5)
    _title(ax, chart)
    ax.figure.subplots_adjust(right=0.62)
    return ax.figure


def bars(chart: dict[str, Any]):
    """Horizontal bars, one per label, with an optional bound."""
    labels = [_label(x) for x in chart["labels"]][:MAX_BARS]
    values = _floats(chart["values"])[:MAX_BARS]
    ax = _axes(height=max(1.6, 0.9 + 0.24 * len(labels)))
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=SKY, edgecolor=BLUE, height=0.6, linewidth=0.8)
    for y, v in zip(ys, values, strict=True):
        if not math.isnan(v):
            ax.annotate(
                _number(v),
                (v, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=6.5,
            )
    ax.set_yticks(ys, labels)
    _x_grid(ax)
    _bound_line(ax, chart.get("bound"), vertical=True, label="limit")
    bound = chart.get("bound") is not None
    if bound:
        ax.legend(loc="lower right")
    ax.set_xlabel(_label(chart.get("xlabel", "")))
    ax.margins(x=0.12)
    # the limit's legend goes below the axes, where it cannot cover a bar or its label
    _title(ax, chart, ylabels=labels, ylabel=False, legend_below=bound)
    return ax.figure


def shares(chart: dict[str, Any]):
    """Two distributions over the same bins or categories, side by side (drift).

    Numeric bins (``ordered``) are drawn whole, as two step outlines; categories as bars,
    at most :data:`MAX_BARS` of them.
    """
    ordered = chart.get("ordered", False)
    keep = None if ordered else MAX_BARS
    labels = [_label(x) for x in chart["labels"]][:keep]
    series = [(str(s["name"]), _floats(s["values"])[:keep]) for s in chart["series"]][:2]
    ax = _axes(height=2.4 if ordered else max(1.6, 0.9 + 0.3 * len(labels)))
    looks = ((SKY, BLUE, None), (ORANGE, VERMILLION, "//"))
    if ordered:  # numeric bins: two step outlines over the bins, in order
        xs = list(range(len(labels) + 1))
        for (name, values), (_fill, edge, hatch) in zip(series, looks, strict=False):
            ax.stairs(values, xs, color=edge, linewidth=1.2, label=name, hatch=hatch)
        edges = _floats(chart.get("edges"))
        if edges and len(edges) < len(labels):  # ticks at bin boundaries, as numbers
            step = max(1, len(edges) // 5)
            at = list(range(step // 2, len(edges), step))
            ax.set_xticks([i + 1 for i in at], [_number(edges[i]) for i in at])
            if str(chart["labels"][-1]) == "missing" and any(v[-1] for _, v in series):
                ax.text(len(labels) - 0.5, 0, "missing", ha="center", va="top", fontsize=6)
        else:
            step = max(1, len(labels) // 6)
            ax.set_xticks([i + 0.5 for i in range(0, len(labels), step)], labels[::step])
        ax.set_ylabel("share of rows")
    else:
        ys = list(range(len(labels)))[::-1]
        width = 0.38
        for k, ((name, values), (fill, edge, hatch)) in enumerate(zip(series, looks, strict=False)):
            pos = [y + (0.2 if k == 0 else -0.2) for y in ys]
            ax.barh(
                pos,
                values,
                height=width,
                color=fill,
                edgecolor=edge,
                hatch=hatch,
                linewidth=0.8,
                label=name,
            )
        ax.set_yticks(ys, labels)
        _x_grid(ax)
        ax.set_xlabel("share of rows")
    ax.legend(loc="upper right")
    _title(ax, chart, ylabels=() if ordered else labels, ylabel=ordered)
    return ax.figure


def histogram(chart: dict[str, Any]):
    """A histogram from pre-binned edges and counts."""
    edges, counts = _floats(chart["edges"]), _floats(chart["counts"])
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{len(edges)} edges for {len(counts)} counts")
    if len(counts) > MAX_LINE_POINTS:  # merge neighbouring bins
        step = math.ceil(len(counts) / MAX_LINE_POINTS)
        counts = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
        edges = edges[::step] + ([edges[-1]] if (len(edges) - 1) % step else [])
    ax = _axes(height=2.4)
    ax.stairs(counts, edges, fill=True, color=SKY, edgecolor=BLUE, linewidth=0.8)
    ax.set_xlabel(_label(chart.get("xlabel", "")))
    ax.set_ylabel("rows")
    if chart.get("bound") is not None:  # the per-row threshold a pass rate counts from
        _bound_line(ax, chart["bound"], vertical=True, label=str(chart.get("bound_label", "bound")))
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    _title(ax, chart)
    return ax.figure


def residuals(chart: dict[str, Any]):
    """Residual against prediction (subsampled), with the zero line."""
    pred, res = _floats(chart["predicted"]), _floats(chart["residual"])
    idx = _thin(len(pred), MAX_SCATTER_POINTS)
    ax = _axes()
    ax.scatter(
        _pick(pred, idx),
        _pick(res, idx),
        s=4,
        color=BLUE,
        alpha=0.5,
        linewidths=0,
        label=f"{len(idx):,} of {len(pred):,} rows" if len(idx) < len(pred) else "rows",
    )
    ax.axhline(0, color=BLACK, linestyle="--", linewidth=1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual - predicted")
    ax.legend(loc="upper left")
    _title(ax, chart)
    return ax.figure


def optimization_history(chart: dict[str, Any]):
    """Each trial's value in the order run, the best so far, pruned and failed trials
    marked at the axis, and the spec's own configuration as a line."""
    trials = _floats(chart["trials"])
    values = _floats(chart["values"])
    states = list(chart.get("states") or ["complete"] * len(trials))
    ax = _axes()
    done = [(t, v) for t, v, s in zip(trials, values, states, strict=True) if s == "complete"]
    if done:
        ax.plot(
            *zip(*done, strict=True),
            linestyle="none",
            marker="o",
            markersize=3.5,
            color=SKY,
            markeredgecolor=BLUE,
            label="complete trial",
        )
    best = _floats(chart.get("best_so_far"))
    if best:
        ax.step(trials, best, where="post", color=BLUE, linewidth=1.4, label="best so far")
    finite = [v for _, v in done] + [b for b in best if not math.isnan(b)]
    baseline = chart.get("baseline")
    if baseline is not None:
        ax.axhline(
            float(baseline),
            color=BLACK,
            linestyle=":",
            linewidth=1.2,
            label="spec's own configuration",
        )
        finite.append(float(baseline))
    pad = 0.0
    if finite:  # room below the values for the pruned and failed trials' marks
        low, high = min(finite), max(finite)
        pad = 0.08 * (high - low) or 0.01 * max(abs(high), 1e-6)
        ax.set_ylim(low - 2 * pad, high + pad)
    mark_at = ax.get_ylim()[0] + 0.5 * pad
    for state, marker, color in (("pruned", "x", GREY), ("failed", "v", VERMILLION)):
        xs = [t for t, s in zip(trials, states, strict=True) if s == state]
        if xs:
            ax.plot(
                xs,
                [mark_at] * len(xs),
                linestyle="none",
                marker=marker,
                markersize=4,
                color=color,
                label=f"{state} trial",
            )
    ax.set_xlabel("trial")
    ax.set_ylabel(_label(chart.get("metric", "value")))
    # below the axes: the spec's own line and the best so far often run along the top
    _title(ax, chart, legend_below=True, integer_x=True)
    return ax.figure


CHARTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "optimization_history": optimization_history,
    "loss_curve": loss_curve,
    "learning_curve": learning_curve,
    "metric_intervals": metric_intervals,
    "group_bars": group_bars,
    "confusion_matrix": confusion_matrix,
    "roc": roc,
    "pr": pr,
    "calibration": calibration,
    "group_calibration": group_calibration,
    "bars": bars,
    "histogram": histogram,
    "residuals": residuals,
    "shares": shares,
}


def get_chart_names() -> list[str]:
    """The chart kinds this report can draw."""
    return sorted(CHARTS)


# --------------------------------------------------------------------------- SVG
_XML_HEADER = re.compile(r"^\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)
_SIZE = re.compile(r'(<svg[^>]*?)\s(width|height)="[^"]*"')


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"


def _flatten(svg: str) -> str:
    """Drop matplotlib's id-only <g> wrappers: a third of the nodes, which WeasyPrint
    would otherwise style and draw one by one."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(svg)
    group = f"{{{_SVG_NS}}}g"

    def walk(parent):
        out = []
        for child in list(parent):
            walk(child)
            _presentation_attributes(child)
            if child.tag == group and set(child.attrib) <= {"id"}:
                if child.text and child.text.strip():
                    out.append(child)
                    continue
                out.extend(list(child))
            else:
                out.append(child)
        for child in list(parent):
            parent.remove(child)
        for child in out:
            child.tail = None
            parent.append(child)

    walk(root)
    return ET.tostring(root, encoding="unicode")


_NO_ROTATION = re.compile(r"^rotate\(-?0 [-0-9.e]+ [-0-9.e]+\)$")


def _presentation_attributes(element) -> None:
    """style="fill: #fff; stroke: ..." -> fill="#fff" stroke="...": WeasyPrint reads
    attributes directly instead of parsing one CSS declaration list per node."""
    style = element.attrib.pop("style", None)
    if style:
        for declaration in style.split(";"):
            name, _, value = declaration.partition(":")
            name, value = name.strip(), value.strip()
            if not name or not value:
                continue
            if name == "font-family":
                value = "DejaVu Sans, sans-serif"
            element.set(name, value)
    transform = element.get("transform")
    if transform and _NO_ROTATION.match(transform):
        del element.attrib["transform"]


def _to_svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _XML_HEADER.sub("", buf.getvalue())
    svg = _COMMENT.sub("", svg)
    svg = _METADATA.sub("", svg)
    svg = _STYLE.sub("", svg)  # inline <style> would leak into the HTML page's styles
    svg = _flatten(svg)
    # Keep the viewBox only, and let CSS size the chart; record the aspect ratio.
    svg = _SIZE.sub(r"\1", svg, count=1)
    svg = _SIZE.sub(r"\1", svg, count=1)
    svg = svg.replace("<svg ", '<svg class="chart-svg" ', 1)
    return svg.strip()


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


def cached_charts(
    draw: Callable[..., ChartSVG | None], cache: dict
) -> Callable[..., ChartSVG | None]:
    """``draw`` that draws each chart (its data and width) once into ``cache``.

    The HTML page and the PDF of one report show many of the same charts; the second
    asks the cache. A cached chart is returned as a copy, so numbering its ids for one
    page (:func:`numbered_charts`) leaves the cached drawing as it was.
    """

    from auditor.report.chart_pool import chart_key

    def draw_once(chart, **kwargs):
        key = chart_key(chart, kwargs)
        if key not in cache:
            cache[key] = draw(chart, **kwargs)
        drawn = cache[key]
        return None if drawn is None else dataclasses.replace(drawn)

    return draw_once


def numbered_charts(draw: Callable[..., ChartSVG | None]) -> Callable[..., ChartSVG | None]:
    """``draw`` whose every chart's SVG ids (markers, clip paths, hatches) carry the chart's
    number in the page, so that two charts never define one id twice (matplotlib derives
    the ids from the content: the same marker in two charts gets the same id)."""
    count = itertools.count(1)

    def draw_numbered(chart, **kwargs):
        drawn = draw(chart, **kwargs)
        if drawn is None or not drawn.svg:
            return drawn
        prefix = f"c{next(count)}-"
        svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', drawn.svg)
        svg = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
        return dataclasses.replace(drawn, svg=svg)

    return draw_numbered


#: How the PDF's page refers to a chart: an image its URL fetcher answers from memory.
CHART_URL = "auditor-chart:{number}"


def image_url(images: dict, body) -> str:
    """Keep ``body`` (a chart's SVG bytes, or a function that gives them when WeasyPrint
    first asks) in ``images`` under a new ``CHART_URL``; that URL."""
    url = CHART_URL.format(number=len(images) + 1)
    images[url] = body
    return url


def image_tag(images: dict, body, title: str) -> str:
    """Keep ``body`` in ``images`` (:func:`image_url`); the ``<img>`` that shows it."""
    import html

    url = image_url(images, body)
    return f'<img class="chart-svg" src="{url}" alt="{html.escape(title, quote=True)}">'


def charts_as_images(
    draw: Callable[..., ChartSVG | None], images: dict[str, bytes]
) -> Callable[..., ChartSVG | None]:
    """``draw`` whose every chart is an ``<img>`` of its SVG, the SVG kept in ``images``
    under the image's URL (``CHART_URL``) for the PDF's URL fetcher.

    WeasyPrint parses and draws an image's SVG apart from the page; inline, each of a
    chart's hundred-odd nodes would also go through the page's HTML parser and style
    cascade, a tenth of the PDF's layout for nothing.
    """

    def draw_image(chart, **kwargs):
        drawn = draw(chart, **kwargs)
        if drawn is None or not drawn.svg:
            return drawn
        tag = image_tag(images, drawn.svg.encode("utf-8"), drawn.title)
        return dataclasses.replace(drawn, svg=tag)

    return draw_image


#: What a chart's data can raise while it is built or drawn: the chart becomes a note.
_CHART_ERRORS = (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError)


def render_chart(chart: dict[str, Any] | None, *, compact: bool = False) -> ChartSVG | None:
    """Draw one chart dict; an unknown or malformed chart becomes a note, never an error.

    ``compact`` draws it narrow (``COMPACT_WIDTH``), to be laid out two per row.
    """
    built = build_chart(chart, compact=compact)
    return chart_svg(chart, built, compact=compact) if is_figure(built) else built


def build_chart(chart: dict[str, Any] | None, *, compact: bool = False):
    """The first half of :func:`render_chart`: the chart's matplotlib figure, built but
    not drawn (its size is final: :func:`figure_size`); a note instead where the kind is
    unknown or the data malformed; None for no chart."""
    if not chart:
        return None
    kind, title = chart_labels(chart)
    draw = CHARTS.get(kind)
    if draw is None:
        return ChartSVG(kind=kind, title=title, note=UNKNOWN_KIND.format(kind=kind or "?"))
    import matplotlib

    token = _FIGURE_WIDTH.set(COMPACT_WIDTH if compact else FULL_WIDTH)
    try:
        with matplotlib.rc_context(_RC):
            return draw(chart)
    except _CHART_ERRORS as exc:
        return _bad_chart(chart, exc)
    finally:
        _FIGURE_WIDTH.reset(token)


def is_figure(built) -> bool:
    """Whether ``build_chart`` gave a figure to draw (not a note, not None)."""
    return built is not None and not isinstance(built, ChartSVG)


def chart_svg(chart: dict[str, Any], figure, *, compact: bool = False) -> ChartSVG:
    """The second half of :func:`render_chart`: ``figure`` (``build_chart``'s) drawn as
    SVG, most of a chart's cost; a note where drawing fails."""
    import matplotlib

    try:
        with matplotlib.rc_context(_RC):
            svg = _to_svg(figure)
    except _CHART_ERRORS as exc:
        return _bad_chart(chart, exc)
    kind, title = chart_labels(chart)
    return ChartSVG(kind=kind, title=title, svg=svg, compact=compact)


def figure_size(figure) -> tuple[float, float]:
    """A built figure's width and height in points: its SVG's ``viewBox``."""
    width, height = figure.get_size_inches()
    return float(width) * 72, float(height) * 72


def chart_labels(chart: dict[str, Any]) -> tuple[str, str]:
    """A chart dict's kind and title, as every ``ChartSVG`` of it (drawing, note, stand-in)
    carries them."""
    return str(chart.get("kind", "")), str(chart.get("title", ""))


def _bad_chart(chart: dict[str, Any], exc: Exception) -> ChartSVG:
    kind, title = chart_labels(chart)
    error = f"{type(exc).__name__}: {exc}"
    return ChartSVG(kind=kind, title=title, note=BAD_CHART.format(kind=kind, error=error))
