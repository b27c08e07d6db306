"""The stages' one door (orchestrator.stages.stage_door): a pipeline checks its own and its stages'
doors once, before any stage runs, and its stages do not check again (no Ray: the stages'
Ray parts are replaced)."""

import collections

from report_tables import make_sweep

import orchestrator.stages.stage_door as stage_door
from orchestrator.config import load_config
from orchestrator.stages.pipeline import run_pipeline
from orchestrator.tables.results import load_trials


def test_a_pipeline_checks_every_door_once_before_its_stages_run(tmp_path, monkeypatch):
    config = load_config("quickstart", [f"output_dir={tmp_path}"])
    made = tmp_path / "made-sweep"
    made.mkdir()
    make_sweep(made)
    calls, order = collections.Counter(), []

    def counted(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    real_check = stage_door.StageDoor.check

    def check(door, address, restart=False):
        order.append(f"check {door.kind}")
        return real_check(door, address, restart)

    monkeypatch.setattr(stage_door.StageDoor, "check", check)
    monkeypatch.setattr(stage_door, "check_run_dir", counted("run_dir", stage_door.check_run_dir))
    monkeypatch.setattr(stage_door, "check_resources", counted("resources", stage_door.check_resources))
    monkeypatch.setattr("orchestrator.cluster.resources.local_capacity", lambda: {"CPU": 2.0, "GPU": 0.0})

    def sweep_ran(config, door, *args):
        order.append("sweep runs")
        return {"interrupted": False}

    def retrain_ran(config, targets, seeds, address, door, *args):
        order.append("retrain runs")
        return {"runs": [], "genotypes": []}

    monkeypatch.setattr("orchestrator.stages.sweep._run_sweep_locked", sweep_ran)
    monkeypatch.setattr("orchestrator.stages.retrain._run_retrain_locked", retrain_ran)
    monkeypatch.setattr("orchestrator.stages.pipeline.sweep_finished", lambda config: False)
    monkeypatch.setattr("orchestrator.stages.pipeline.load_trials", lambda path: load_trials(str(made)))
    monkeypatch.setattr("orchestrator.report.write_report", lambda *a, **k: str(tmp_path / "report.html"))

    run_pipeline(config)

    assert order == ["check pipeline", "check sweep", "check retrain", "sweep runs", "retrain runs"]
    assert calls == {"run_dir": 3, "resources": 2}  # the pipeline's, sweep's and retrain's directories;
    # the search's and the retrain's runtimes


def test_a_stage_alone_checks_its_door(tmp_path, monkeypatch):
    from orchestrator.stages.sweep import run_sweep

    config = load_config("quickstart", [f"output_dir={tmp_path}"])
    kinds = []
    real_check = stage_door.StageDoor.check
    monkeypatch.setattr(stage_door.StageDoor, "check",
                        lambda door, address, restart=False: kinds.append(door.kind) or real_check(door, address, restart))
    monkeypatch.setattr("orchestrator.cluster.resources.local_capacity", lambda: {"CPU": 2.0, "GPU": 0.0})
    monkeypatch.setattr("orchestrator.stages.sweep._run_sweep_locked", lambda *a: {"interrupted": False})
    run_sweep(config)
    run_sweep(config, checked=True)
    assert kinds == ["sweep"]
