"""The collapse signals of every trial per epoch: parameter-free ops in the derived normal
cell and the mean entropy of softmax(α). DARTS's collapse reads as the first rising while
the second falls; lines are coloured by mask ratio when it was swept, so whether masking
holds the collapse back can be read straight off the picture."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.ticker import MaxNLocator

from orchestrator.report.figures import new_figure

_LEGEND_MAX = 12  #: more trials than this: colour carries the mask ratio, no legend
_STYLES = ("-", "--", ":", "-.")
#: viridis without its last, pale-yellow stretch, which hardly shows on white.
_MASK_COLOURS = ListedColormap(colormaps["viridis"](np.linspace(0.0, 0.85, 256)))


def plot_collapse_signals(epochs: pd.DataFrame, trials: pd.DataFrame, knobs: list[str]):
    by_mask = "mask_ratio" in knobs and trials["mask_ratio"].notna().any()
    colours = _colours(trials, by_mask)
    ids = [t for t in trials["trial_id"] if t in set(epochs["trial_id"])]
    legend_rows = -(-len(ids) // 3) if len(ids) <= _LEGEND_MAX else 0
    figure, (left, right) = new_figure(11, 4.6, 1, 2, left=0.8, right=0.2, top=0.2,
                                       bottom=0.6 + 0.2 * legend_rows, wspace=0.9)
    for position, trial_id in enumerate(ids):
        rows = epochs[epochs["trial_id"] == trial_id].sort_values("epoch")
        label = _label(trials.set_index("trial_id").loc[trial_id], knobs, trial_id)
        # A small vertical offset per trial keeps equal integer counts from hiding each other.
        offset = (position - (len(ids) - 1) / 2) * min(0.04, 0.3 / max(len(ids), 1))
        # Line styles cycle too: trials of one mask ratio share a colour.
        style = {"color": colours[trial_id], "linewidth": 1.3, "alpha": 0.85, "marker": "o",
                 "markersize": 3, "linestyle": _STYLES[position % len(_STYLES)]}
        left.plot(rows["epoch"], rows["param_free_ops"] + offset, label=label, **style)
        right.plot(rows["epoch"], rows["alpha_entropy"], **style)
    left.set_ylabel("parameter-free ops in the normal cell")
    right.set_ylabel("mean entropy of softmax(α) (nats)")
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    if by_mask:
        values = trials["mask_ratio"].dropna()
        mappable = ScalarMappable(Normalize(values.min(), max(values.max(), values.min() + 1e-9)),
                                  _MASK_COLOURS)
        figure.colorbar(mappable, ax=right, label="mask ratio")
    if legend_rows:
        figure.legend(*left.get_legend_handles_labels(), loc="lower center",
                      ncols=min(3, len(ids)), fontsize=7, frameon=False)
    return figure


def _colours(trials: pd.DataFrame, by_mask: bool) -> dict[str, object]:
    if by_mask:
        values = trials["mask_ratio"]
        low, high = values.min(), values.max()
        span = (high - low) or 1.0
        return {t: _MASK_COLOURS((v - low) / span if not np.isnan(v) else 0.0)
                for t, v in zip(trials["trial_id"], values)}
    palette = colormaps["tab10"]
    return {t: palette(i % 10) for i, t in enumerate(trials["trial_id"])}


def _label(row, knobs: list[str], trial_id: str) -> str:
    values = ", ".join(f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                       for k in knobs)
    return f"{trial_id} ({values})" if values else trial_id
