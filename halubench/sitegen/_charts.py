"""Charts as SVG text, drawn with matplotlib's object API (no pyplot state, no display).

Text is kept as SVG text (not paths) so the files stay small and readable, and
labels are taken literally: a group named ``$x$`` is not typeset as math.
The hash salt and the absent date make the same figures give the same bytes,
so a rebuilt site only changes where the numbers did.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "halubench",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#94a3b8",
    "axes.labelcolor": "#334155",
    "xtick.color": "#475569",
    "ytick.color": "#334155",
}
MEASURED_COLOR, OVERALL_COLOR, REPORTED_COLOR = "#2563eb", "#1e3a8a", "#d97706"
CHAR_WIDTH_IN = 9 * 0.62 / 72  # a 9 pt label's average character, with room: DejaVu Sans is about 0.55 em
CHANCE_COLOR, FRONT_COLOR = "#b91c1c", "#15803d"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    overall: bool = False


def roc_chart(fpr: Sequence[float], tpr: Sequence[float], auroc: float) -> str:
    """One ROC curve (FAIL as positive) against the chance diagonal, AUROC in the legend."""
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(4.2, 4.0), layout="constrained")
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], color="#94a3b8", linewidth=1, linestyle="--", label="chance")
        axes.plot(fpr, tpr, color=MEASURED_COLOR, linewidth=1.6, drawstyle="default",
                  label=f"AUROC {100 * auroc:.1f}")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.01)
        axes.set_aspect("equal")
        axes.set_xlabel("false-alarm rate (faithful rows flagged)")
        axes.set_ylabel("hallucinations caught (recall of FAIL)")
        axes.legend(loc="lower right", frameon=False, fontsize=8)
        axes.grid(True, color="#e2e8f0", linewidth=0.8)
        axes.set_axisbelow(True)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def accuracy_chart(bars: Sequence[Bar], reported: Mapping[str, float] | None = None,
                   reported_label: str = "reported", chance: float | None = None) -> str:
    """Horizontal accuracy bars with 95% CI whiskers; optional reported figures as diamonds and
    a dashed line at chance (``chance``: a fraction), so a reader sees what a coin would score."""
    shown = [b for b in bars if b.value is not None]
    width, height = 6.4, 0.42 * len(shown) + 0.9
    with matplotlib.rc_context(STYLE):
        # Margins from the labels' lengths, not a layout engine: one is drawn per run, and an engine draws
        # each figure twice (once to measure it), which was half a 50-judge site's chart time.
        figure = Figure(figsize=(width, height))
        label_width = max((len(b.label) for b in shown), default=0) * CHAR_WIDTH_IN + 0.2
        figure.subplots_adjust(left=min(0.6, label_width / width), right=0.98, bottom=0.55 / height,
                               top=1 - 0.3 / height)
        axes = figure.add_subplot()
        positions = list(range(len(shown)))[::-1]
        axes.barh(positions, [100 * b.value for b in shown], height=0.62,
                  color=[OVERALL_COLOR if b.overall else MEASURED_COLOR for b in shown])
        for y, bar in zip(positions, shown, strict=True):
            if bar.low is not None and bar.high is not None:
                axes.plot([100 * bar.low, 100 * bar.high], [y, y], color="#0f172a", linewidth=1.2)
                axes.plot([100 * bar.low] * 2, [y - 0.15, y + 0.15], color="#0f172a", linewidth=1.2)
                axes.plot([100 * bar.high] * 2, [y - 0.15, y + 0.15], color="#0f172a", linewidth=1.2)
            label_at = 100 * (bar.high if bar.high is not None else bar.value) + 1.5
            axes.text(label_at, y, f"{100 * bar.value:.1f}", va="center", ha="left", color="#0f172a",
                      fontsize=8, fontweight="bold")
        if reported:
            points = [(y, 100 * reported[b.label]) for y, b in zip(positions, shown, strict=True)
                      if b.label in reported]
            if points:
                axes.scatter([x for _, x in points], [y for y, _ in points], marker="D", s=28, zorder=3,
                             color=REPORTED_COLOR, edgecolor="white", linewidth=0.8, label=reported_label)
                axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8,
                            borderaxespad=0.2)
        if chance is not None:
            axes.axvline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=1, zorder=2.5)
            axes.text(100 * chance, len(shown) - 0.45, f" chance {100 * chance:.0f}%", color=CHANCE_COLOR,
                      fontsize=7.5, va="bottom", ha="left")
        axes.set_yticks(positions, [b.label for b in shown])
        axes.set_xlim(0, 110)  # room for a label right of a bar or whisker near 100%
        axes.set_xticks(range(0, 101, 20))
        axes.set_ylim(-0.6, len(shown) - 0.4)
        axes.set_xlabel("accuracy, % (whiskers: 95% CI)")
        axes.xaxis.grid(True, color="#e2e8f0", linewidth=0.8)
        axes.set_axisbelow(True)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


@dataclass(frozen=True)
class Point:
    """One judge on a trade-off chart: accuracy (with its CI) against a cost-like figure."""

    label: str
    x: float
    y: float
    low: float | None = None
    high: float | None = None
    reported: bool = False


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both counts (cheaper or as cheap, and more accurate)."""
    front: list[Point] = []
    for point in sorted(points, key=lambda p: (p.x, -p.y)):
        if not front or point.y > front[-1].y:
            front.append(point)
    return front


def tradeoff_chart(points: Sequence[Point], x_label: str, chance: float | None) -> str:
    """Accuracy against a cost on a log x axis, the Pareto front joined and ringed.

    Each point's SVG group has the id ``point-<n>`` so tests (and readers of
    the SVG source) can count and find them.
    """
    front = pareto_front(points)
    with matplotlib.rc_context(STYLE):
        # Fixed margins, not a layout engine (which draws the figure twice): the axes' labels are numbers.
        figure = Figure(figsize=(6.4, 4.2))
        figure.subplots_adjust(left=0.75 / 6.4, right=0.98, bottom=0.5 / 4.2, top=0.97)
        axes = figure.add_subplot()
        axes.set_xscale("log")
        if len(front) > 1:
            axes.step([p.x for p in front], [100 * p.y for p in front], where="post", color=FRONT_COLOR,
                      linewidth=1.2, alpha=0.7, zorder=2)
        for reported in (False, True):  # the whiskers, one artist per colour
            ci = [p for p in points if p.reported == reported and p.low is not None and p.high is not None]
            if ci:
                axes.errorbar([p.x for p in ci], [100 * p.y for p in ci], fmt="none", capsize=2.5, elinewidth=1,
                              yerr=[[100 * (p.y - p.low) for p in ci], [100 * (p.high - p.y) for p in ci]],
                              color=REPORTED_COLOR if reported else MEASURED_COLOR, zorder=3)
        for number, point in enumerate(points):
            axes.plot([point.x], [100 * point.y], "D" if point.reported else "o", markersize=6, zorder=3,
                      color=REPORTED_COLOR if point.reported else MEASURED_COLOR, gid=f"point-{number}")
            axes.annotate(point.label, (point.x, 100 * point.y), xytext=(6, 4), textcoords="offset points",
                          fontsize=7.5, color="#0f172a")
        axes.scatter([p.x for p in front], [100 * p.y for p in front], s=130, facecolors="none",
                     edgecolors=FRONT_COLOR, linewidths=1.4, zorder=4, label="Pareto front")
        if chance is not None:
            axes.axhline(100 * chance, color=CHANCE_COLOR, linestyle="--", linewidth=1, zorder=1,
                         label=f"chance ({100 * chance:.0f}%)")
        low = min([100 * (p.low if p.low is not None else p.y) for p in points] + [100 * (chance or 1)])
        axes.set_ylim(max(0, low - 5), 100)
        xs = [p.x for p in points]
        axes.set_xlim(min(xs) / 2, max(xs) * 4)  # room for the labels right of the points
        # Plain numbers on the log axis (math text is off, so the default 10^k labels would read as TeX).
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel(x_label)
        axes.set_ylabel("accuracy, % (whiskers: 95% CI)")
        axes.grid(True, color="#e2e8f0", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.legend(loc="lower right", frameon=False, fontsize=8)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
