"""The driver's side of the phase log (trainables.phase_log): a Tune callback marking when
Tune starts and completes each trial, so that `python -m orchestrator.bench.phases` can tell
where a trial's wall time goes. Nothing is marked unless ALPHADARTS_PHASE_LOG is set."""

from __future__ import annotations


def callbacks() -> list:
    """A Tune callback marking when Tune starts and completes each trial (the driver's side
    of the trial's process), when ALPHADARTS_PHASE_LOG is set; else none."""
    import os

    from ray import tune

    from trainables.phase_log import ENV, mark

    if not os.environ.get(ENV):
        return []

    class PhaseMarks(tune.Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            mark("tune_trial_start", run=trial.trial_id)

        def on_trial_complete(self, iteration, trials, trial, **info):
            mark("tune_trial_complete", run=trial.trial_id)

        on_trial_error = on_trial_complete

    return [PhaseMarks()]
