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


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG; no timestamp or version metadata, so equal figures give equal bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
