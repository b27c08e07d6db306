"""Matplotlib without pyplot: figures are plain `Figure` objects rendered by Agg, so the
report never touches a display, a global figure registry or a GUI backend (it runs on
headless cluster heads and inside tests alike)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

#: One colour per op, fixed across every figure of a report so that an op reads the same in
#: the cell drawings and the α panels. Parameter-free ops are greys and browns, learnable
#: ones saturated colours: a collapse shows up as the picture going grey.
OP_COLORS = {
    "none": "#bdbdbd",
    "max_pool_3x3": "#8c6d31",
    "avg_pool_3x3": "#bd9e39",
    "skip_connect": "#636363",
    "sep_conv_3x3": "#1f77b4",
    "sep_conv_5x5": "#17becf",
    "dil_conv_3x3": "#d62728",
    "dil_conv_5x5": "#e377c2",
    "nor_conv_1x1": "#2ca02c",
    "nor_conv_3x3": "#1f77b4",
}

DPI = 110


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1, *,
               left: float = 0.8, right: float = 0.2, bottom: float = 0.6, top: float = 0.35,
               wspace: float = 0.0, hspace: float = 0.0, **subplots_kw):
    """A `width` x `height` inch figure with a `rows` x `cols` grid of panels: (figure, axes as
    `Figure.subplots` returns them). The grid leaves fixed margins, in inches: `left`, `right`,
    `bottom`, `top` around it, `wspace` and `hspace` between its panels.

    Why fixed margins and not matplotlib's constrained layout: with a layout engine, savefig
    draws every figure twice (once to measure, once to render) and solves the layout in
    between, which nearly doubles the time to write a report. Each figure
    here has labels of known size, so its margins are known up front."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    grid_w, grid_h = width - left - right, height - bottom - top
    panel_w, panel_h = (grid_w - wspace * (cols - 1)) / cols, (grid_h - hspace * (rows - 1)) / rows
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, wspace=wspace / panel_w, hspace=hspace / panel_h)
    return figure, figure.subplots(rows, cols, **subplots_kw)


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG; no timestamp or version metadata, so equal figures give equal bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
