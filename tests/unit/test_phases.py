"""The per-trial breakdown of orchestrator.bench.phases from a phase log: marks without a
run belong to the run their process last marked (a reused trial process runs two trials)."""

from orchestrator.bench.phases import breakdown


def _marks(run: str, pid: int, t0: float, epochs: int) -> list[dict]:
    marks = [{"t": t0, "phase": "tune_trial_start", "pid": 1, "run": run},
             {"t": t0 + 2, "phase": "trial_start", "pid": pid, "run": run},
             {"t": t0 + 3, "phase": "search_start", "pid": pid},
             {"t": t0 + 4, "phase": "model_built", "pid": pid},
             {"t": t0 + 6, "phase": "data_ready", "pid": pid},
             {"t": t0 + 6, "phase": "resume_checked", "pid": pid}]
    t = t0 + 6
    for e in range(1, epochs + 1):
        marks += [{"t": t + 10, "phase": "epoch_trained", "pid": pid, "epoch": e},
                  {"t": t + 13, "phase": "epoch_evaluated", "pid": pid, "epoch": e},
                  {"t": t + 14, "phase": "reported", "pid": pid, "epoch": e}]
        t += 14
    return marks + [{"t": t + 1, "phase": "tune_trial_complete", "pid": 1, "run": run}]


def test_breakdown_of_two_trials_in_one_reused_process():
    rows = breakdown(_marks("a", 7, 0.0, 2) + _marks("b", 7, 100.0, 1))
    assert rows["a"] == {"start": 1, "model": 1, "data": 2, "resume": 0, "train": 20,
                         "evaluate": 6, "report": 2, "end": 1, "total": 35, "epochs": 2}
    assert rows["b"]["epochs"] == 1 and rows["b"]["total"] == 21 and rows["b"]["train"] == 10


def test_a_search_job_names_its_phases_to_the_log_through_its_reporter(tmp_path, monkeypatch):
    """The loop names its phases to its reporter; with ALPHADARTS_PHASE_LOG set, the job's
    PhaseLogReporter writes them down, every epoch's too, and `breakdown` reads them."""
    import json

    from orchestrator.config import load_config
    from trainables.distributed import Collective
    from trainables.phase_log import ENV, mark
    from trainables.reporters import MemoryReporter
    from trainables.search_job import run_search_job

    log = tmp_path / "phases.jsonl"
    monkeypatch.setenv(ENV, str(log))
    config = load_config("quickstart", ["search.epochs=2", "search.data.subset=64", "search.model.channels=4",
                                        "search.model.layers=1", "search.mim.decoder_width=8"])
    mark("trial_start", run="t")
    inner = MemoryReporter()
    run_search_job(config.sweep_search, None, inner, Collective.current())
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    phases = [(m["phase"], m.get("epoch")) for m in lines]
    for epoch in (1, 2):
        for phase in ("epoch_trained", "epoch_evaluated", "report_start", "reported"):
            assert (phase, epoch) in phases
    assert len(inner.metrics) == 2  # the reports still reach the real reporter
    row = breakdown(lines)["t"]
    assert row["epochs"] == 2 and row["train"] > 0 and row["evaluate"] > 0
