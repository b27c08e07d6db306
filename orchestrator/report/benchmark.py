"""NAS-Bench-201 ground truth in the report: the benchmark's test accuracy of the cell each
search derived after each epoch, one line per mask ratio (mean ± std over the searches at
that ratio), with the benchmark's optimum and DARTS's all-skip collapse as reference lines.
A search that drifts toward parameter-free ops shows here as a falling line, measured, not
inferred from α."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from orchestrator.report.figures import new_figure
from trainables.nb201_benchmark.reference import REFERENCE_TEST_ACCURACY

#: (metric column, the benchmark's dataset name, title)
DATASETS = (("bench_cifar10_test", "cifar10", "CIFAR-10"),
            ("bench_cifar100_test", "cifar100", "CIFAR-100"),
            ("bench_imagenet16_test", "ImageNet16-120", "ImageNet16-120"))
REFERENCE_STYLES = {"optimum": ("C2", "--"), "DARTS all-skip": ("C3", ":")}
#: line colours of the mask ratios: matplotlib's cycle without the reference lines' two
LINE_COLOURS = ("C0", "C1", "C4", "C5", "C6", "C7", "C8", "C9")


def has_benchmark(epochs: pd.DataFrame | None) -> bool:
    """Whether any epoch's derived cell was found in the benchmark."""
    return (epochs is not None and "bench_status" in epochs
            and bool((epochs["bench_status"] == "found").any()))


def plot_benchmark_curves(epochs: pd.DataFrame, trials: pd.DataFrame, knobs: list[str]):
    """One panel per dataset: test accuracy (%) against epoch, a line per mask ratio."""
    frame = epochs.merge(trials[["trial_id", *(["mask_ratio"] if "mask_ratio" in knobs else [])]],
                         on="trial_id", how="left")
    groups = frame.groupby("mask_ratio") if "mask_ratio" in frame else [("all trials", frame)]
    figure, axes = new_figure(13.0, 3.8, 1, 3, left=0.8, right=0.2, bottom=0.6, top=0.4, wspace=0.8)
    for ax, (column, dataset, title) in zip(axes, DATASETS):
        for number, (ratio, group) in enumerate(groups):
            stats = group.groupby("epoch")[column].agg(["mean", "std"]).dropna(subset=["mean"])
            if stats.empty:
                continue
            label = ratio if isinstance(ratio, str) else f"mask {ratio:g}" + (" (plain DARTS)" if ratio == 0 else "")
            ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0.0), marker="o", markersize=3,
                        capsize=3, color=LINE_COLOURS[number % len(LINE_COLOURS)], label=label)
        for name, (colour, style) in REFERENCE_STYLES.items():
            value = REFERENCE_TEST_ACCURACY[name][1].get(dataset)
            if value is not None:
                ax.axhline(value, color=colour, linestyle=style, linewidth=1, label=f"{name} ({value:.2f})")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("search epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("benchmark test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    return figure
