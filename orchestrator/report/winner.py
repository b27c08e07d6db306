"""Which genotype the report features, and whose search shows how it was found.

After a retrain the winner is the genotype with the best mean test accuracy over its
seeds: that is the measurement the sweep's objective only estimates. Before it, the winner
is the sweep's best trial. Its search is the best-ranked sweep trial among the trials that
found it and have α snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from orchestrator.tables import results
from orchestrator.report.inputs import ReportInputs
from orchestrator.tables.retrain_table import genotype_leaderboard
from search_space import Genotype, genotype_from_dict, parse_genotype


@dataclass(frozen=True)
class Winner:
    genotype: Genotype
    genotype_hash: str
    chosen_by: str             # "retrain" or "sweep"
    trial_id: str | None       # the search whose α the report plots; None if none is known


def choose_winner(inputs: ReportInputs) -> Winner | None:
    """None when neither the retrain nor the sweep has a result yet."""
    ranked = results.leaderboard(inputs.trials, inputs.meta)
    ranked = ranked[ranked["objective"].notna()]
    if inputs.retrain is not None:
        board = genotype_leaderboard(inputs.retrain)
        board = board[board["test_acc_mean"].notna()]
        if len(board):
            best = board.iloc[0]
            found = set(best["source_trials"])
            candidates = ranked[ranked["trial_id"].isin(found)
                                | (ranked["genotype_hash"] == best["genotype_hash"])]
            genotype = _genotype(best["genotype_json"], best["genotype"], best["space"])
            return Winner(genotype, best["genotype_hash"], "retrain",
                          _with_alphas(candidates, inputs.epochs))
    if not len(ranked):
        return None
    row = inputs.trials.set_index("trial_id").loc[ranked.iloc[0]["trial_id"]]
    genotype = _genotype(row.get("genotype_json"), row["genotype"], inputs.meta.get("space"))
    return Winner(genotype, row["genotype_hash"], "sweep",
                  _with_alphas(ranked.iloc[:1], inputs.epochs))


def _with_alphas(candidates: pd.DataFrame, epochs: pd.DataFrame | None) -> str | None:
    if epochs is None:
        return None
    recorded = set(epochs.loc[epochs["alphas"].notna(), "trial_id"])
    for trial_id in candidates["trial_id"]:
        if trial_id in recorded:
            return trial_id
    return None


def _genotype(as_json: str | None, text: str, space: str | None) -> Genotype:
    """From the canonical JSON where the table has it, else from the printed form."""
    if isinstance(as_json, str) and as_json:
        return genotype_from_dict(json.loads(as_json))
    return parse_genotype(space, text)
