"""Which genotypes of a sweep go on to the final retraining.

A sweep's trials often find the same cell (several seeds, or settings that agree), so the
candidates are *distinct* genotypes, by genotype hash. Two rules, as users of DARTS choose:
- `trial`: the k best distinct genotypes by the sweep's objective (a genotype found by
  several trials counts once, ranked by its best trial);
- `setting`: the knob settings (all swept knobs but the seed) ranked by the objective's mean
  over seeds, and from the best settings on, the genotypes their seeds found — the choice
  that does not reward one lucky seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from orchestrator.errors import UsageError
from orchestrator.pipeline_config import SelectConfig
from orchestrator.results import plain, seed_groups


@dataclass(frozen=True)
class Candidate:
    """One genotype to retrain, with where it came from."""

    genotype_hash: str
    genotype: str
    genotype_json: str
    objective: float
    source_trials: tuple[str, ...]
    knobs: dict = field(default_factory=dict)  # the knobs of the best trial that found it


def select_genotypes(trials: pd.DataFrame, meta: dict, config: SelectConfig) -> list[Candidate]:
    """The candidates, best first; UsageError when no trial finished with a genotype."""
    ranked = _finished(trials, meta)
    if ranked.empty:
        raise UsageError("the sweep has no finished trial with a genotype to retrain; "
                         "run it to completion first (alphadarts sweep CONFIG --resume)")
    if config.by == "setting":
        return _by_setting(ranked, meta, config.top_k)
    return _distinct(ranked, meta, config.top_k)


def _finished(trials: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Trials with an objective and a genotype, best first. A trial ASHA stopped carries an
    earlier epoch's value, so trials that ran every epoch are preferred when there are any."""
    usable = trials[trials["objective"].notna() & trials["genotype_hash"].notna()]
    complete = usable[usable["status"] == "TERMINATED"]
    chosen = complete if len(complete) else usable
    return chosen.sort_values("objective", ascending=meta["mode"] == "min", kind="stable")


def _distinct(ranked: pd.DataFrame, meta: dict, top_k: int) -> list[Candidate]:
    candidates: list[Candidate] = []
    for genotype_hash, group in ranked.groupby("genotype_hash", sort=False):
        best = group.iloc[0]
        candidates.append(Candidate(
            genotype_hash=str(genotype_hash),
            genotype=str(best["genotype"]),
            genotype_json=str(best["genotype_json"]),
            objective=float(best["objective"]),
            source_trials=tuple(str(t) for t in group["trial_id"]),
            knobs={k: plain(best[k]) for k in meta["knobs"] if k in best},
        ))
        if len(candidates) == top_k:
            break
    return candidates


def _by_setting(ranked: pd.DataFrame, meta: dict, top_k: int) -> list[Candidate]:
    keys = [k for k in meta["knobs"] if k != "seed"]
    if not keys:  # only the seed is swept: every trial is the same setting
        return _distinct(ranked, meta, top_k)
    settings = seed_groups(ranked, meta)
    ordered = []
    for _, setting in settings.iterrows():
        match = (ranked[keys] == setting[keys]).all(axis=1)
        ordered.append(ranked[match])
    return _distinct(pd.concat(ordered), meta, top_k)


def describe(candidates: list[Candidate]) -> str:
    """One line per candidate, for logs."""
    return "\n".join(f"{c.genotype_hash}  objective {c.objective:.4f}  from {','.join(c.source_trials)}"
                     f"  {json.dumps(c.knobs)}" for c in candidates)
