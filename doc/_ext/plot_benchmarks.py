"""Figures of the "how it compares" page, drawn from ``benchmarks/results/*.md`` at build time."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from benchmark_tables import read_tables

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def _number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return np.nan


def solver_times():
    """Wall-clock time of every solver on every case of ``solvers.md`` (log scale)."""
    tables = [t for t in read_tables(RESULTS / "solvers.md") if "solver" in t[1]]
    n_columns = 3
    n_rows = -(-len(tables) // n_columns)
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(11, 3.0 * n_rows), squeeze=False)
    for ax in axes.flat[len(tables):]:
        ax.set_visible(False)
    for ax, (heading, header, rows) in zip(axes.flat, tables):
        time_col = header.index("time (s)")
        names = [row[0].replace("cvxpy + ", "").replace("scnn augmented Lagrangian", "scnn AL") for row in rows]
        times = [_number(row[time_col]) for row in rows]
        colors = ["C3" if "ours" in name else "C0" for name in names]
        ax.barh(range(len(rows)), times, color=colors)
        ax.set_yticks(range(len(rows)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        for k, seconds in enumerate(times):
            ax.text(seconds, k, f" {seconds:g} s", va="center", fontsize=7)
        ax.set_xlabel("time (s)")
        case, _, description = heading.partition(": ")
        sizes = ", ".join(re.findall(r"\b(?:n=\d+|\d+ features|P=\d+)", description))
        ax.set_title(f"{case} ({sizes})", fontsize=8)
    fig.tight_layout()


def quality_scores():
    """Training objective (relative to the default convex fit) and test score of every method on
    every problem of ``quality.md``."""
    tables = [t for t in read_tables(RESULTS / "quality.md") if "method" in t[1]]
    fig, axes = plt.subplots(2, len(tables), figsize=(3.2 * len(tables), 6.4), squeeze=False)
    for column, (heading, header, rows) in enumerate(tables):
        objective_col = header.index("train objective (best)")
        score_col, width_col = header.index("test score (best run)"), header.index("width")
        labels, colors = [], []
        for row in rows:
            name = row[0]
            short = ("convex default" if "default" in name else "convex sample" if "sample" in name
                     else "Adam 2k" if name.startswith("full-batch") else "Adam 20k" if "continued" in name
                     else "MLP L-BFGS" if "MLP" in name else name[:14])
            if not short.startswith("convex"):
                short += f" (m={row[width_col]})"
            labels.append(short)
            colors.append("C3" if short.startswith("convex") else "C0")
        objectives = np.array([_number(row[objective_col]) for row in rows])
        scores = np.array([_number(row[score_col]) for row in rows])
        reference = objectives[0]  # the default convex fit comes first
        panels = [(100 * (objectives / reference - 1), "train objective, % above default fit"),
                  (scores, "test score (best run)")]
        for row_index, (values, xlabel) in enumerate(panels):
            ax = axes[row_index, column]
            ax.barh(range(len(rows)), values, color=colors)
            ax.set_yticks(range(len(rows)), labels if column == 0 else [], fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel(xlabel, fontsize=8)
            if row_index == 1:
                span = max(np.nanmax(values) - np.nanmin(values), 1e-3)
                ax.set_xlim(np.nanmin(values) - 0.5 * span, np.nanmax(values) + 0.2 * span)
            else:
                ax.set_xscale("symlog", linthresh=1)
                ax.set_title(heading, fontsize=8)
    fig.tight_layout()
