"""One run's table in the terminal: per-group figures, the macro accuracy, and the closing lines."""

from __future__ import annotations

from rich.console import Console

from halubench.report._closing_lines import summary_lines
from halubench.report._fit import drop, fitted
from halubench.run import RunResult


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.3f}"


# What a narrow terminal leaves out of the run table first.
RUN_NARROWINGS = (drop("95% CIs", "95% CI"), drop("F1", "F1"), drop("parsed accuracy", "parsed acc %"))


def print_run_table(result: RunResult, console: Console) -> None:
    summary = result.summary
    metrics = summary["metrics"]
    breakdown_keys = [k for k in metrics if k.startswith("by_")]

    def row(name: str, m: dict) -> dict[str, str]:
        low, high = m["accuracy_ci95"]
        counts = {"unparsed": m["unparsed"], "truncated": m.get("truncated"), "errors": m["errors"],
                  "too long": m["too_long"]}
        return {
            "group": name, "n": str(m["n"]), "acc %": _fmt(m["accuracy"]),
            "95% CI": f"{100 * low:.0f}–{100 * high:.0f}", "parsed acc %": _fmt(m["accuracy_parsed"]),
            "bal. acc %": _fmt(m["balanced_accuracy"]), "F1": _fmt(m.get("f1", m["macro_f1"]), percent=False),
            **{k: str(v) for k, v in counts.items() if v is not None},
        }

    groups = [row(name, m) for key in breakdown_keys[:1] for name, m in metrics[key].items()]
    overall = metrics["overall"]
    rows = [*groups, row("overall (micro)", overall)]
    table, left_out = fitted(rows, console, RUN_NARROWINGS, f"{summary['task']} · judge {summary['judge']}",
                             [None] * len(groups) + ["bold"], left=("group",))
    console.print(table)
    if left_out:
        console.print(f"narrow terminal: {', '.join(left_out)} left out (all figures are in the results file)",
                      highlight=False)
    macro = next((v for k, v in overall.items() if k.endswith("_macro_accuracy")), None)
    if macro is not None:
        note = " (the paper's 'Overall')" if breakdown_keys[0] == "by_domain" else ""
        console.print(f"{breakdown_keys[0][3:]}-macro accuracy{note}: {_fmt(macro)}%")
    for excluded in summary.get("excluded", {}).values():
        console.print(f"left out: {excluded['n']} {excluded['reason']}")
    if "refchecker_agreement" in metrics:
        print_agreement(metrics["refchecker_agreement"], console)
    variant = summary.get("variant") or []
    console.print(f"configuration {summary['config_id']}: "
                  + (f"{'; '.join(variant)} (listed apart on the board, not ranked)" if variant
                     else "the task's default (ranked on the board when complete)"), highlight=False)
    for line in summary_lines(summary, result.samples, result.summary_path):
        console.print(line, highlight=False, soft_wrap=True)


def print_agreement(agreement: dict, console: Console) -> None:
    """RefChecker's response-level figures, in the paper's units (percent)."""
    columns = ("accuracy", "factual_f1", "non_factual_f1", "macro_f1", "pearson", "spearman")
    rows = [{"setting": name, "responses": str(m["responses"]), **{c.replace("_", " "): _fmt(m[c]) for c in columns}}
            for name, m in agreement["by_setting"].items()]
    title = f"RefChecker agreement ({len(agreement['responders'])} responders, as its corr.py)"
    console.print(fitted(rows, console, title=title, left=("setting",))[0])
