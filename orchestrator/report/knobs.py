"""The sweep objective against one knob: every trial as a point (one marker per seed), and
the mean ± standard deviation across the trials at each knob value. What to look for: a
trend of the mean, and whether it is larger than the spread across seeds (DARTS gives
different cells for different seeds; a knob that wins by less than that spread has not
been shown to matter)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestrator.report.figures import new_figure

_MARKERS = "osD^v<>PX*"


def plot_objective_vs_knob(trials: pd.DataFrame, knob: str, meta: dict):
    done = trials[trials["objective"].notna() & trials[knob].notna()]
    numeric = pd.api.types.is_numeric_dtype(done[knob])
    values = sorted(done[knob].unique())
    position = {v: (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    gaps = np.diff([position[v] for v in values])
    width = 0.12 * (gaps.min() if len(gaps) else 1.0)
    seeds = sorted(done["seed"].unique()) if "seed" in done else []
    figure, ax = new_figure(6.0, 4.0, left=0.85, right=0.2, bottom=0.6, top=0.2)
    for number, seed in enumerate(seeds or [None]):
        group = done if seed is None else done[done["seed"] == seed]
        jitter = (number - (len(seeds) - 1) / 2) * width / max(len(seeds), 1) if seeds else 0.0
        finished = group["status"] == "TERMINATED"
        for mask, fill in ((finished, True), (~finished, False)):
            part = group[mask]
            if part.empty:
                continue
            colour = f"C{number % 10}"
            ax.scatter([position[v] + jitter for v in part[knob]], part["objective"], s=28,
                       marker=_MARKERS[number % len(_MARKERS)], zorder=3,
                       facecolors=colour if fill else "none", edgecolors=colour,
                       label=(f"seed {seed}" if seed is not None else "trial")
                       + ("" if fill else " (stopped early)"))
    stats = done.groupby(knob)["objective"].agg(["mean", "std", "size"])
    xs = [position[v] for v in stats.index]
    # A line joins the means only where the knob has an order (numbers), not categories.
    ax.errorbar(xs, stats["mean"], yerr=stats["std"].fillna(0.0), color="black", capsize=4,
                linewidth=1.2, linestyle="-" if numeric else "none", marker="_", markersize=14,
                zorder=2, label="mean ± std")
    if not numeric:
        ax.set_xticks(xs, [str(v) for v in stats.index])
        ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xlabel(knob)
    direction = "higher" if meta["mode"] == "max" else "lower"
    ax.set_ylabel(f"{meta['metric']} ({direction} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return figure
