"""What a Tune stage prints: the progress table when a trial starts or ends, for new epochs
alone at most every interval, always at the end (no Ray run)."""

from types import SimpleNamespace

from orchestrator import console
from orchestrator.stages import tune_output


def _trial(trial_id, status, iteration=None):
    result = {} if iteration is None else {"training_iteration": iteration}
    return SimpleNamespace(trial_id=trial_id, status=status, last_result=result)


def test_the_table_follows_the_trials_not_the_clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(tune_output.time, "monotonic", lambda: now[0])
    reporter = tune_output.ChangedOnlyReporter(metric_columns=["epoch"], interval_s=120, status_s=5)
    trials = [_trial("a", "PENDING"), _trial("b", "PENDING")]
    assert reporter.should_report(trials)            # the first state
    trials[0] = _trial("a", "RUNNING")
    now[0] += 1
    assert not reporter.should_report(trials)        # a status change, but just printed
    now[0] += 5
    assert reporter.should_report(trials)            # a status change: printed soon
    trials[0] = _trial("a", "RUNNING", 1)
    now[0] += 60
    assert not reporter.should_report(trials)        # a new epoch alone waits for the interval
    now[0] += 60
    assert reporter.should_report(trials)
    now[0] += 600
    assert not reporter.should_report(trials)        # nothing changed: nothing, however long
    assert reporter.should_report(trials, done=True)  # the last table always


def test_tunes_staging_directory_line_is_left_out(capsys):
    reporter = tune_output.ChangedOnlyReporter(metric_columns=["epoch"])
    reporter._print("== Status ==\nResult logdir: /tmp/ray/session_x/artifacts\nNumber of trials: 1/1")
    out = capsys.readouterr().out
    assert "Result logdir" not in out and "Number of trials: 1/1" in out


def test_start_and_end_lines_name_the_directory_and_the_dashboard(capsys):
    console.announce("sweep", "runs/my sweep", "start")
    assert capsys.readouterr().out == ("sweep start: runs/my sweep  "
                                       "(watch it: alphadarts dashboard 'runs/my sweep')\n")
    console.set_verbosity(0)
    try:
        console.announce("sweep", "runs/x", "start")
        console.announce("sweep", "runs/x", "end")
    finally:
        console.set_verbosity(1)
    assert capsys.readouterr().out == "sweep end: runs/x  (watch it: alphadarts dashboard runs/x)\n"
