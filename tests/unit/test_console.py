"""What a Tune stage prints: the progress table only when something changed (no Ray run)."""

from types import SimpleNamespace

from orchestrator import console


def _trial(trial_id, status, iteration=None):
    result = {} if iteration is None else {"training_iteration": iteration}
    return SimpleNamespace(trial_id=trial_id, status=status, last_result=result)


def test_the_table_is_printed_on_change_at_most_every_interval(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(console.time, "monotonic", lambda: now[0])
    reporter = console.ChangedOnlyReporter(metric_columns=["epoch"], interval_s=30)
    trials = [_trial("a", "PENDING"), _trial("b", "PENDING")]
    assert reporter.should_report(trials)            # the first state
    trials[0] = _trial("a", "RUNNING", 1)
    now[0] += 5
    assert not reporter.should_report(trials)        # changed, but within the interval
    now[0] += 30
    assert reporter.should_report(trials)            # changed, and the interval is over
    now[0] += 60
    assert not reporter.should_report(trials)        # nothing changed: nothing printed
    assert reporter.should_report(trials, done=True)  # the last table always


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
