"""The report's answer to the method's question: does MIM find better cells than plain DARTS?

Per mask ratio, the retrained test accuracy (mean ± std over retrain seeds) of the genotypes
found at that ratio, beside the collapse signals of the ratio's searches. Plain DARTS (mask
ratio 0) is the baseline the other ratios are read against. A genotype is placed at every
mask ratio whose searches found it (a retrain row's source trials, looked up in the sweep)."""

from __future__ import annotations

import pandas as pd

from orchestrator.report.figures import new_figure
from orchestrator.results import ENDED
from orchestrator.retrain_table import genotype_leaderboard

COLUMNS = ["mask_ratio", "genotype_hash", "test_acc_mean", "test_acc_std", "seeds", "objective",
           "param_free_ops", "alpha_entropy", "searches"]


def answer_by_mask_ratio(trials: pd.DataFrame, retrain: pd.DataFrame) -> pd.DataFrame:
    """One row per (mask ratio, retrained genotype found there), lowest ratio first, best
    retrained accuracy first within a ratio. `objective` is the best sweep objective of the
    ratio's trials that found the genotype; `param_free_ops` and `alpha_entropy` are the
    means over every search of the ratio that ended (final or stopping epoch), `searches`
    how many those are."""
    ended = trials[trials["status"].isin(ENDED)]
    signals = ended.groupby("mask_ratio").agg(param_free_ops=("param_free_ops", "mean"),
                                              alpha_entropy=("alpha_entropy", "mean"),
                                              searches=("trial_id", "size"))
    ratio_of = dict(zip(trials["trial_id"], trials["mask_ratio"]))
    objective_of = dict(zip(trials["trial_id"], trials["objective"]))
    rows = []
    for _, row in genotype_leaderboard(retrain).iterrows():
        sources = [t for t in row["source_trials"] if t in ratio_of]
        for ratio in sorted({ratio_of[t] for t in sources}):
            scores = [objective_of[t] for t in sources if ratio_of[t] == ratio and pd.notna(objective_of[t])]
            rows.append({
                "mask_ratio": float(ratio), "genotype_hash": row["genotype_hash"],
                "test_acc_mean": row["test_acc_mean"], "test_acc_std": row["test_acc_std"],
                "seeds": int(row["seeds"]), "objective": max(scores) if scores else float("nan"),
                **({k: signals.loc[ratio, k] for k in ("param_free_ops", "alpha_entropy", "searches")}
                   if ratio in signals.index else {"param_free_ops": float("nan"),
                                                   "alpha_entropy": float("nan"), "searches": 0}),
            })
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["mask_ratio", "test_acc_mean"], ascending=[True, False],
                             na_position="last", kind="stable").reset_index(drop=True)


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
