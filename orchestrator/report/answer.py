"""The report's answer to the method's question: does MIM find better cells than plain DARTS?

Its table, per mask ratio the retrained test accuracy of the genotypes found there beside
the collapse signals of the ratio's searches, is orchestrator.tables.answer_table's; drawn here."""

from __future__ import annotations

import pandas as pd

from orchestrator.report.figures import new_figure
from orchestrator.tables.results import ENDED


def plot_answer(answer: pd.DataFrame, trials: pd.DataFrame):
    """Left: retrained test accuracy against mask ratio (each genotype mean ± std over its
    retrain seeds; the baseline's best as a dashed line and band). Middle and right: the
    collapse signals of each ratio's searches, mean ± std over them."""
    figure, (acc_ax, ops_ax, ent_ax) = new_figure(12.0, 3.8, 1, 3, left=0.8, right=0.2,
                                                  bottom=0.6, top=0.35, wspace=0.8)
    done = answer[answer["test_acc_mean"].notna()]
    baseline = done[done["mask_ratio"] == 0.0]
    if len(baseline):
        best = baseline.iloc[0]
        spread = 0.0 if pd.isna(best["test_acc_std"]) else best["test_acc_std"]
        acc_ax.axhline(best["test_acc_mean"], color="grey", linestyle="--", linewidth=1,
                       label="plain DARTS (mask 0), best")
        acc_ax.axhspan(best["test_acc_mean"] - spread, best["test_acc_mean"] + spread, color="grey", alpha=0.15)
    acc_ax.errorbar(done["mask_ratio"], done["test_acc_mean"], yerr=done["test_acc_std"].fillna(0.0),
                    fmt="o", color="C0", capsize=4, label="retrained genotype (mean ± std over seeds)")
    acc_ax.set_xlabel("mask ratio (0 = plain DARTS)")
    acc_ax.set_ylabel("retrained test accuracy")
    acc_ax.legend(fontsize=7, loc="best")
    ended = trials[trials["status"].isin(ENDED)]
    for ax, column, label in ((ops_ax, "param_free_ops", "parameter-free ops, normal cell"),
                              (ent_ax, "alpha_entropy", "α entropy (nats)")):
        stats = ended.groupby("mask_ratio")[column].agg(["mean", "std"])
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0.0), fmt="s-", color="C3",
                    capsize=4)
        ax.set_xlabel("mask ratio")
        ax.set_ylabel(label)
    for ax in (acc_ax, ops_ax, ent_ax):
        ax.grid(alpha=0.3)
    return figure
