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
                   reported_label: str = "reported") -> str:
    """Horizontal accuracy bars with 95% CI whiskers; optional reported figures as diamonds."""
    shown = [b for b in bars if b.value is not None]
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(6.4, 0.42 * len(shown) + 0.9), layout="constrained")
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
