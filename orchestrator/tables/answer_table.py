"""The experiment's answer as a table: per mask ratio, the retrained test accuracy (mean ±
std over retrain seeds) of the genotypes found at that ratio, beside the collapse signals of
the ratio's searches. Plain DARTS (mask ratio 0) is the baseline the other ratios are read
against. A genotype is placed at every mask ratio whose searches found it (a retrain row's
source trials, looked up in the sweep).

Apart from the report's figure of it (orchestrator.report.answer) so that `alphadarts
results` prints it without importing matplotlib or torch."""

from __future__ import annotations

import pandas as pd

from orchestrator.tables.results import ENDED
from orchestrator.tables.retrain_table import genotype_leaderboard

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
