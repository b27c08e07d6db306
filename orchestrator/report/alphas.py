"""α over the epochs of one search: softmax(α) per edge, one small panel per edge, one line
per op. Reading it: an edge is decided when one line pulls away from the others; a skip or
pooling line rising on many edges is the collapse MIM is meant to prevent."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from orchestrator.report.figures import OP_COLORS, new_figure
from search_space import NB201_EDGES, ops_for

_INPUTS = {0: "c_{k-2}", 1: "c_{k-1}"}


def alpha_history(epochs: pd.DataFrame, trial_id: str) -> tuple[list[int], dict[str, np.ndarray]]:
    """The trial's epochs (sorted) and, per α key, softmax weights shaped (epochs, edges, ops)."""
    rows = epochs[(epochs["trial_id"] == trial_id) & epochs["alphas"].notna()].sort_values("epoch")
    snapshots = [json.loads(text) for text in rows["alphas"]]
    history = {}
    for key in (snapshots[0] if snapshots else {}):
        logits = np.array([snap[key] for snap in snapshots], dtype=np.float64)
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        history[key] = weights / weights.sum(axis=-1, keepdims=True)
    return [int(e) for e in rows["epoch"]], history


def edge_names(space: str, edges: int) -> list[tuple[int, int]]:
    """(input, node) of each α row: DARTS node i reads inputs 0..i+1 in order (inputs 0 and 1
    are the cell inputs, k >= 2 is node k-2); NB201 follows `NB201_EDGES` (to, from)."""
    if space == "nb201":
        return [(src, to) for to, src in NB201_EDGES]
    names, node = [], 0
    while len(names) < edges:
        names += [(src, node + 2) for src in range(node + 2)]
        node += 1
    return names[:edges]


def _label(space: str, src: int, dst: int) -> str:
    if space == "nb201":
        return f"{src} → {dst}"
    source = f"${_INPUTS[src]}$" if src in _INPUTS else f"node {src - 2}"
    return f"{source} → node {dst - 2}"


def plot_alpha_history(space: str, key: str, epochs_list: list[int], weights: np.ndarray,
                       chosen: set[tuple[int, int]], title: str):
    """One figure for one α key (a cell type). Panels of edges the final genotype keeps get a
    bold title, so the α that decided the drawn cell is easy to find."""
    ops = ops_for(space)
    edges = weights.shape[1]
    cols = 4 if edges > 6 else 3
    rows = -(-edges // cols)
    legend_outside = edges == rows * cols  # no spare panel for the legend: a column beside
    legend_w = 1.5 if legend_outside else 0.0
    figure, axes = new_figure(3.0 * cols + legend_w, 2.1 * rows + 0.3, rows, cols, left=0.75,
                              right=0.15 + legend_w, bottom=0.55, top=0.6, wspace=0.2,
                              hspace=0.5, sharex=True, sharey=True, squeeze=False)
    axes = axes.ravel()
    marker = "o" if len(epochs_list) <= 12 else None
    for index, (src, dst) in enumerate(edge_names(space, edges)):
        ax = axes[index]
        for op_index, op in enumerate(ops):
            ax.plot(epochs_list, weights[:, index, op_index], color=OP_COLORS.get(op),
                    linewidth=1.4, marker=marker, markersize=3, label=op)
        kept = (src, dst) in chosen
        ax.set_title(_label(space, src, dst) + ("  (kept)" if kept else ""), fontsize=8.5,
                     fontweight="bold" if kept else "normal")
        ax.tick_params(labelsize=7, labelbottom=True)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = axes[0].get_legend_handles_labels()
    if legend_outside:
        figure.legend(*handles, loc="center right", fontsize=8, frameon=False, title="op")
    else:  # a spare panel holds the legend
        axes[edges].legend(*handles, loc="center", fontsize=8, frameon=False, title="op")
    for ax in axes[edges:]:
        ax.axis("off")
    figure.supxlabel("epoch", fontsize=9)
    figure.supylabel("softmax(α)", fontsize=9)
    figure.suptitle(title, fontsize=11)
    return figure
