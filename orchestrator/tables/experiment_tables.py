"""An experiment's tables, loaded once for the commands that read them all (`results`, the
next-step lines): its sweep's trials and the retrain table, either of which may not exist
yet, and the winner they name.

Apart from orchestrator.tables.experiment_dirs, which finds the directories without pandas."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestrator.tables import results
from orchestrator.tables.experiment_dirs import Experiment
from orchestrator.tables.retrain_table import genotype_leaderboard, load_retrain
from orchestrator.cluster.storage import is_file, join


@dataclass(frozen=True)
class ExperimentTables:
    experiment: Experiment
    trials: pd.DataFrame | None      # None: no sweep, or it has reported no trial yet
    meta: dict | None
    retrain: pd.DataFrame | None     # None: no retrain, or it has written no row yet

    @property
    def empty(self) -> bool:
        return self.trials is None and self.retrain is None


def load_tables(experiment: Experiment) -> ExperimentTables:
    trials = meta = None
    if experiment.sweep is not None and is_file(join(experiment.sweep, results.TRIALS_FILE)):
        trials, meta = results.load_trials(experiment.sweep)
    retrain = load_retrain(experiment.retrain) if experiment.retrain is not None else None
    return ExperimentTables(experiment, trials, meta, retrain)


def winner(tables: ExperimentTables) -> tuple[str | None, int]:
    """(genotype hash, finished retrain seeds) of the experiment's best genotype: the best
    retrained mean test accuracy, else the sweep's best trial (0 seeds); (None, 0) if none."""
    if tables.retrain is not None:
        board = genotype_leaderboard(tables.retrain)
        board = board[board["test_acc_mean"].notna()]
        if len(board):
            return str(board.iloc[0]["genotype_hash"]), int(board.iloc[0]["seeds"])
    if tables.trials is not None:
        ranked = results.leaderboard(tables.trials, tables.meta)
        ranked = ranked[ranked["objective"].notna() & ranked["genotype_hash"].notna()]
        if len(ranked):
            return str(ranked.iloc[0]["genotype_hash"]), 0
    return None, 0


def next_commands(tables: ExperimentTables, directory: str | None = None,
                  skip: tuple[str, ...] = ()) -> list[str]:
    """The next-step lines for `directory` (default: the one asked for)."""
    from orchestrator.commands.next_steps import experiment_commands

    best, seeds = winner(tables)
    return experiment_commands(directory or tables.experiment.asked, has_sweep=tables.trials is not None,
                               winner=best, winner_seeds=seeds, skip=skip)


def next_for(directory: str, skip: tuple[str, ...] = ()) -> list[str]:
    """The next-step lines of a directory a stage just wrote ([] when it holds nothing to
    read yet: what to run next is advice, never a reason to fail the stage)."""
    from orchestrator.errors import UsageError
    from orchestrator.tables.experiment_dirs import find_experiment

    try:
        tables = load_tables(find_experiment(directory))
    except UsageError:
        return []
    return [] if tables.empty else next_commands(tables, skip=skip)
