"""A run directory and its config stay one; resources are compared before a run waits."""

from __future__ import annotations

import json
import shlex

import pytest
from helpers import register_train_checkpoint

import orchestrator.cluster.resources as resources
import orchestrator.cluster.ray_runtime
import orchestrator.stages.search_run
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.errors import UsageError
from orchestrator.cluster.run_identity import CONFIG_FILE, check_run_dir, move_aside, record_run_dir


def dumped(*overrides: str) -> dict:
    return load_config("quickstart", list(overrides)).model_dump(mode="json")


def test_recorded_config_is_the_resolved_one(tmp_path):
    run = tmp_path / "run"
    assert check_run_dir(str(run), dumped(), "search") is False
    record_run_dir(str(run), dumped(), "search")
    saved = json.loads((run / CONFIG_FILE).read_text())
    assert saved == dumped() and saved["search"]["optim"]["w_lr"] == 0.025  # defaults filled in
    assert check_run_dir(str(run), dumped(), "search") is True


@pytest.mark.parametrize("kind, override, field", [
    ("search", "search.mim.mask_ratio=0.25", "search.mim.mask_ratio"),
    ("search", "search.model.channels=6", "search.model.channels"),
    ("sweep", "sweep.num_samples=8", "sweep.num_samples"),
    ("retrain", "retrain.optim.lr=0.1", "retrain.optim.lr"),
    ("pipeline", "pipeline.retrain_seeds=3", "pipeline.retrain_seeds"),
])
def test_another_config_is_refused_naming_the_field(tmp_path, kind, override, field):
    record_run_dir(str(tmp_path), dumped(), kind)
    with pytest.raises(UsageError, match=rf"started with another config \({field}: ") as err:
        check_run_dir(str(tmp_path), dumped(override), kind)
    assert "--set name=" in str(err.value) and "--restart" in str(err.value)


@pytest.mark.parametrize("kind, override", [
    ("search", "search.runtime.cpus_per_worker=1"),  # where it runs, not what it computes
    ("search", "search.data.root=/elsewhere"),
    ("search", "retrain.epochs=9"),  # a section the search does not read
    ("retrain", "retrain.seed=5"),  # more seeds of the same retrain
    ("sweep", "sweep.max_concurrent_trials=1"),
])
def test_settings_that_do_not_change_the_result_may_differ(tmp_path, kind, override):
    record_run_dir(str(tmp_path), dumped(), kind)
    assert check_run_dir(str(tmp_path), dumped(override), kind) is True


def test_restart_moves_the_old_run_aside_and_only_a_run(tmp_path, capsys):
    run = tmp_path / "quickstart"
    record_run_dir(str(run), dumped(), "search")
    (run / "epochs.jsonl").write_text("{}\n")
    assert check_run_dir(str(run), dumped("search.mim.mask_ratio=0.25"), "search", restart=True) is False
    moved = move_aside(str(run), "search")
    assert not run.exists() and (tmp_path / moved.rsplit("/", 1)[-1] / "epochs.jsonl").is_file()
    assert "moved the previous search run to" in capsys.readouterr().out

    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep")
    with pytest.raises(UsageError, match="is not a search run"):
        check_run_dir(str(stranger), dumped(), "search", restart=True)
    assert (stranger / "notes.txt").read_text() == "keep"


def test_a_damaged_config_file_is_bad_input(tmp_path):
    (tmp_path / CONFIG_FILE).write_text("{half")
    with pytest.raises(UsageError, match="cannot be read as the run's config"):
        check_run_dir(str(tmp_path), dumped(), "search")


def test_search_rerun_with_another_mask_ratio_is_exit_2_before_ray(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", lambda *a, **k: pytest.fail("Ray started"))
    record_run_dir(str(tmp_path / "quickstart"), dumped(f"output_dir={tmp_path}"), "search")
    code = main(["search", "quickstart", "--set", f"output_dir={tmp_path}",
                 "--set", "search.mim.mask_ratio=0.25"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "search.mim.mask_ratio: 0.5 -> 0.25" in err[0]


def test_a_corrupt_checkpoint_to_resume_is_exit_2_before_ray(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", lambda *a, **k: pytest.fail("Ray started"))
    run = tmp_path / "quickstart"
    record_run_dir(str(run), dumped(f"output_dir={tmp_path}"), "search")
    (register_train_checkpoint(run, "checkpoint_x", epoch=1) / "state.pt").write_bytes(b"not a checkpoint")
    code = main(["search", "quickstart", "--set", f"output_dir={tmp_path}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"alphadarts: error: checkpoint {run / 'checkpoint_x' / 'state.pt'} is corrupt")

    # --restart starts over (the run is moved aside): its checkpoint is not in the way
    class RayStarted(Exception):
        pass

    def ray_starts(*a, **k):
        raise RayStarted

    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", ray_starts)
    with pytest.raises(RayStarted):
        main(["search", "quickstart", "--set", f"output_dir={tmp_path}", "--restart"])


def test_a_finished_search_prints_its_result_without_ray(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", lambda *a, **k: pytest.fail("Ray started"))
    args = ["search", "quickstart", "--set", f"output_dir={tmp_path}", "--set", "search.epochs=1"]
    run = tmp_path / "quickstart"
    record_run_dir(str(run), dumped(f"output_dir={tmp_path}", "search.epochs=1"), "search")
    genotype = {"space": "darts", "normal": [["skip_connect", 0], ["skip_connect", 1]] * 4,
                "normal_concat": [2, 3, 4, 5], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]] * 4,
                "reduce_concat": [2, 3, 4, 5]}
    last = {"epoch": 1, "alpha_acc": 0.5, "weights_acc": 0.4, "mim_loss": 0.9, "param_free_ops": 8,
            "genotype_hash": "abc"}
    (run / "epochs.jsonl").write_text(json.dumps(last) + "\n")
    (run / "genotype.json").write_text(json.dumps(genotype))
    (run / "alphas.json").write_text(json.dumps({"normal": [[0.0]], "reduce": [[0.0]]}))
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("the search quickstart finished before (1 epoch); nothing ran now")
    assert out[out.index("next:") - 1].startswith("epoch 1: alpha_acc 0.5000")
    # what to run next, as pasted: the genotype's size; its retrain with the search's config
    inspect, retrain = (shlex.split(line) for line in out[out.index("next:") + 1:])
    assert inspect == ["alphadarts", "inspect", "--genotype", str(run / "genotype.json")]
    assert retrain == ["alphadarts", "retrain", str(run), "--genotype", str(run / "genotype.json"), "--seeds", "2"]
    assert main(inspect[1:] + ["--channels", "4", "--layers", "2"]) == 0
    assert load_config(retrain[2]).storage_path == str(tmp_path)  # the retrain writes beside the search


# --- resources ------------------------------------------------------------------------------

def runtime(**fields):
    return load_config("quickstart", [f"search.runtime.{k}={v}" for k, v in fields.items()]).search.runtime


def test_shortfall_names_what_is_missing_and_the_setting():
    rt = runtime(use_gpu="true", num_workers=2, cpus_per_worker=1)
    line = resources.shortfall(rt, "search.runtime", {"CPU": 8.0, "GPU": 1.0}, "this machine")
    assert line.startswith("search.runtime asks for 2 GPU (num_workers=2 x gpus_per_worker=1)")
    assert "this machine has 1 GPU" in line and "search.runtime.use_gpu=false" in line and "CPU" not in line.split(":")[0]
    assert resources.shortfall(rt, "search.runtime", {"CPU": 2.0, "GPU": 2.0}, "x") is None
    # one worker must fit on one node
    assert "largest node 0.5 CPU" in resources.shortfall(rt, "search.runtime", {"CPU": 4.0, "GPU": 2.0}, "the Ray cluster",
                                                       largest_node={"CPU": 0.5, "GPU": 1.0})


def test_fixed_cluster_is_refused_at_once(monkeypatch):
    monkeypatch.setattr(resources, "_cluster_now", lambda ray: ({"CPU": 4.0}, {"CPU": 4.0}))
    monkeypatch.setattr(resources, "_autoscaler_ceiling", lambda: None)
    with pytest.raises(UsageError, match="the Ray cluster has 0 GPU"):
        resources.check_cluster_resources(runtime(use_gpu="true"), "search.runtime", wait_s=60)


def test_autoscaling_cluster_is_waited_for_then_given_up(monkeypatch):
    asked = []
    monkeypatch.setattr(resources, "_cluster_now", lambda ray: ({"CPU": 4.0}, {"CPU": 4.0}))
    monkeypatch.setattr(resources, "_autoscaler_ceiling", lambda: {"CPU": 64.0, "GPU": 8.0})
    monkeypatch.setattr(resources, "_ask_autoscaler", asked.append)
    with pytest.raises(UsageError, match=r"waited 0.2 s for the autoscaler; --resource-wait"):
        resources.check_cluster_resources(runtime(use_gpu="true"), "search.runtime", wait_s=0.2, poll_s=0.05)
    assert asked[0] is not None and asked[-1] is None  # asked for the bundles, then withdrawn


def test_autoscaling_cluster_that_can_never_fit(monkeypatch):
    monkeypatch.setattr(resources, "_cluster_now", lambda ray: ({"CPU": 4.0}, {"CPU": 4.0}))
    monkeypatch.setattr(resources, "_autoscaler_ceiling", lambda: {"CPU": 64.0})
    with pytest.raises(UsageError, match="even at its autoscaling maximum"):
        resources.check_cluster_resources(runtime(use_gpu="true"), "search.runtime", wait_s=60)


def test_autoscaling_cluster_that_grows_in_time(monkeypatch):
    states = iter([({"CPU": 4.0}, {"CPU": 4.0}), ({"CPU": 8.0, "GPU": 1.0}, {"CPU": 8.0, "GPU": 1.0})])
    monkeypatch.setattr(resources, "_cluster_now", lambda ray: next(states))
    monkeypatch.setattr(resources, "_autoscaler_ceiling", lambda: {"CPU": 64.0, "GPU": 8.0})
    monkeypatch.setattr(resources, "_ask_autoscaler", lambda rt: None)
    resources.check_cluster_resources(runtime(use_gpu="true"), "search.runtime", wait_s=10, poll_s=0.01)


def test_reachable_address_passes():
    import socket

    from orchestrator.cluster.ray_runtime import check_address_reachable

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_address_reachable(f"127.0.0.1:{server.getsockname()[1]}")
    check_address_reachable("auto")
