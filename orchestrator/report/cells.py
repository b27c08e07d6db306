"""Cells drawn as graphs with matplotlib alone (no Graphviz binary to install): a DARTS cell
as the papers draw it, inputs c_{k-2} and c_{k-1} on the left, nodes 0-3, the output c_{k}
on the right; a NAS-Bench-201 cell as its 4 nodes and 6 edges. Every edge carries its op's
name and colour."""

from __future__ import annotations

import math

from matplotlib.patches import FancyArrowPatch

from orchestrator.report.figures import OP_COLORS, new_figure
from search_space import NB201_EDGES, DartsGenotype, Genotype, Nb201Genotype

_BOX = {"boxstyle": "round,pad=0.35", "linewidth": 1.2}


def draw_genotype(genotype: Genotype, title: str):
    """One figure: both cells of a DARTS genotype side by side, or the NB201 cell."""
    if isinstance(genotype, DartsGenotype):
        figure, (top, bottom) = new_figure(11, 8.4, 2, 1, left=0.1, right=0.1, bottom=0.1,
                                           top=0.55, hspace=0.35)
        _darts_cell(top, genotype.normal, genotype.normal_concat, "normal cell")
        _darts_cell(bottom, genotype.reduce, genotype.reduce_concat, "reduction cell")
    elif isinstance(genotype, Nb201Genotype):
        figure, ax = new_figure(6.5, 4.0, left=0.1, right=0.1, bottom=0.1, top=0.7)
        _nb201_cell(ax, genotype.ops)
    else:
        raise TypeError(f"not a genotype: {genotype!r}")
    figure.suptitle(title, fontsize=11)
    return figure


def _darts_cell(ax, pairs, concat, title: str) -> None:
    """Nodes on a zig-zag between the inputs and the output, so that long edges (an input
    read by node 3) curve past the nodes in between instead of running through them."""
    steps = len(pairs) // 2
    names = {0: "c_{k-2}", 1: "c_{k-1}"}
    pos = {0: (0.0, 1.9), 1: (0.0, -1.9)}
    for node in range(steps):
        names[node + 2] = str(node)
        pos[node + 2] = (2.6 + 2.2 * node, 1.1 if node % 2 == 0 else -1.1)
    out = steps + 2
    names[out], pos[out] = "c_{k}", (2.6 + 2.2 * steps, 0.0)
    for index, (op, src) in enumerate(pairs):
        _edge(ax, pos[src], pos[index // 2 + 2], op, rad=0.15 if index % 2 == 0 else -0.15)
    for node in concat:
        _edge(ax, pos[node], pos[out], None, rad=0.0)
    for key, (x, y) in pos.items():
        colour = "#c7e9c0" if key < 2 else "#fdd0a2" if key == out else "#deebf7"
        ax.text(x, y, f"${names[key]}$" if "_" in names[key] else names[key], ha="center",
                va="center", fontsize=11, zorder=3, bbox={**_BOX, "facecolor": colour})
    _frame(ax, title, (-0.7, pos[out][0] + 0.7), (-2.6, 2.6))


def _nb201_cell(ax, ops) -> None:
    pos = {0: (0.0, 0.0), 1: (1.6, 1.2), 2: (3.2, -1.2), 3: (4.8, 0.0)}
    for op, (to, src) in zip(ops, NB201_EDGES):
        _edge(ax, pos[src], pos[to], op, rad=0.0 if to - src == 1 else 0.25)
    for key, (x, y) in pos.items():
        colour = "#c7e9c0" if key == 0 else "#fdd0a2" if key == 3 else "#deebf7"
        ax.text(x, y, str(key), ha="center", va="center", fontsize=12, zorder=3,
                bbox={**_BOX, "facecolor": colour})
    _frame(ax, "cell (node 0 in, node 3 out)", (-0.6, 5.4), (-1.9, 1.9))


def _edge(ax, start, end, op: str | None, rad: float) -> None:
    """An arrow from `start` to `end` bent by `rad` (matplotlib's arc3: a quadratic Bézier
    whose control point is the chord's midpoint moved by rad · (dy, -dx)), its op written
    along the curve at 60 % of the way, where edges into one node have already fanned apart
    from edges that leave the same input."""
    colour = OP_COLORS.get(op, "#444444") if op else "#9e9e9e"
    style = ":" if op == "none" else "--" if op is None else "-"
    ax.add_patch(FancyArrowPatch(
        start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>", mutation_scale=12,
        color=colour, linewidth=1.8 if op else 1.0, linestyle=style, shrinkA=16, shrinkB=16,
        zorder=1))
    if op:
        dx, dy = end[0] - start[0], end[1] - start[1]
        control = ((start[0] + end[0]) / 2 + rad * dy, (start[1] + end[1]) / 2 - rad * dx)
        t = 0.6
        x, y = ((1 - t) ** 2 * start[i] + 2 * t * (1 - t) * control[i] + t**2 * end[i]
                for i in (0, 1))
        tx, ty = (2 * (1 - t) * (control[i] - start[i]) + 2 * t * (end[i] - control[i])
                  for i in (0, 1))
        angle = math.degrees(math.atan2(ty, tx))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        ax.text(x, y, op, ha="center", va="center", fontsize=7.5, color=colour, zorder=2,
                rotation=angle, rotation_mode="anchor",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.85})


def _frame(ax, title: str, xlim, ylim) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
