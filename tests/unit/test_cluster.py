"""Running on a cluster, without Ray: where trial drivers go, which output_dir a multi-node
cluster refuses, and results read back from a URI (`file://` stands in for s3:// here:
both go through pyarrow.fs, the same code path, and no network is needed)."""

import json
from pathlib import Path

import optuna
import pytest

from orchestrator.tables import results
from orchestrator.cluster import storage
from orchestrator.cluster.placement import is_client_address, storage_problem
from orchestrator.config import load_config
from orchestrator.errors import UsageError
from orchestrator.stages.run_guards import check_same_config
from orchestrator.stages.trial_runner import DRIVER_CPU, concurrent_trials, driver_resources, trial_resources
from tests.helpers import run_cli

META = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed"], "epochs": 2,
        "space": "darts", "study_name": "s"}


def _sweep(directory: Path) -> None:
    """A finished sweep as `alphadarts sweep` leaves it: tables, study, an event file, a checkpoint."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{directory / 'optuna.db'}",
                                direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    rows, epochs = [], []
    for n in range(4):
        trial = study.ask()
        # one setting only: `results` then reads the study without fitting fANOVA (seconds)
        mask, seed = trial.suggest_float("mask_ratio", 0.5, 0.5), trial.suggest_categorical("seed", [0])
        study.tell(trial, 0.5 + mask / 2)
        rows.append({"trial_id": f"t{n}", "mask_ratio": mask, "seed": seed, "status": "TERMINATED",
                     "epochs": 2, "objective": 0.5 + mask / 2, "alpha_acc": 0.5 + mask / 2,
                     "genotype_hash": f"{n:012d}", "train_node_ip": f"10.0.0.{n % 2 + 1}"})
        epochs += [{"trial_id": f"t{n}", "epoch": e, "train_node_id": f"node{n % 2}",
                    "resumed_from_epoch": 0} for e in (1, 2)]
    results.write_trials(str(directory), rows, META)
    results.write_epochs(str(directory), epochs)
    (directory / "trial_t0").mkdir()
    (directory / "trial_t0" / "events.out.tfevents.1.host").write_bytes(b"events")
    (directory / "searches" / "t0" / "checkpoint_000001").mkdir(parents=True)
    (directory / "searches" / "t0" / "checkpoint_000001" / "state.pt").write_bytes(b"x" * 1000)


# --- trial drivers ---------------------------------------------------------------------------

def test_trial_drivers_take_the_driver_resource_and_no_cpu_when_one_is_named():
    assert driver_resources(None) == {"cpu": DRIVER_CPU}
    assert driver_resources("driver") == {"cpu": 0, "driver": 1.0}
    assert trial_resources(2, 1.0, True, 1.0, driver_resource="driver") == {"CPU": 2.0, "GPU": 2.0, "driver": 1.0}
    assert trial_resources(2, 0.5, False, 1.0) == {"CPU": 1.0 + DRIVER_CPU}
    # the head's 100 units hold 100 drivers; the GPUs hold fewer trials
    needs = trial_resources(1, 4.0, True, 1.0, driver_resource="driver")
    assert concurrent_trials(needs, {"CPU": 64, "GPU": 8, "driver": 100}, 20, None, "search.runtime") == 8


def test_a_driver_resource_keeps_single_worker_runs_off_the_head():
    """A trial that would run its loop in its own process (one worker) runs it on Ray Train
    instead when drivers are pinned to the head: the head must not train."""
    from orchestrator.stages.in_trial import runs_in_trial
    from trainables.config import WorkerResources

    one = WorkerResources(num_workers=1)
    assert runs_in_trial(one, "/runs") and not runs_in_trial(one, "/runs", "driver")


def test_a_driver_resource_no_node_offers_is_refused_even_with_a_set_concurrency():
    needs = trial_resources(1, 1.0, False, 1.0, driver_resource="drivers")
    with pytest.raises(UsageError, match=r"cluster.driver_resource='drivers': no node"):
        concurrent_trials(needs, {"CPU": 8, "driver": 100}, 4, 2, "search.runtime")


def test_the_cluster_section_is_validated_at_the_door():
    config = load_config("quickstart", ["cluster.driver_resource=driver", "cluster.shared_filesystem=true"])
    assert config.cluster.driver_resource == "driver" and config.cluster.shared_filesystem
    assert load_config("quickstart").cluster.driver_resource is None
    with pytest.raises(UsageError, match="cluster.driver_resource") as error:
        load_config("quickstart", ["cluster.driver_resource=GPU worker"])
    assert "\n" not in str(error.value)


# --- storage every node sees -----------------------------------------------------------------

@pytest.mark.parametrize("output_dir, nodes, shared, driver, refused", [
    ("runs", 1, False, None, False),                 # a laptop
    ("runs", 3, False, None, True),                  # several nodes, a local path
    ("runs", 1, False, "driver", True),              # cluster.yaml's layout before workers start
    ("/mnt/nfs/runs", 3, True, "driver", False),     # the user says every node mounts it
    ("s3://bucket/alphadarts", 3, False, "driver", False),
    ("gs://bucket/alphadarts", 5, False, None, False),
])
def test_a_local_output_dir_is_refused_on_a_multi_node_cluster(output_dir, nodes, shared, driver, refused):
    problem = storage_problem(output_dir, nodes, shared, driver)
    assert (problem is not None) == refused
    if refused:
        assert problem.startswith(f"output_dir={output_dir!r} is a local path")
        assert "s3://, gs:// or an NFS path" in problem and "cluster.shared_filesystem=true" in problem


def test_only_ray_client_addresses_run_the_stage_on_the_head(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert is_client_address("ray://head:10001")
    assert not is_client_address("auto") and not is_client_address(None)
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert is_client_address(None)


# --- results at a URI ------------------------------------------------------------------------

def test_files_at_a_uri_are_written_read_and_listed(tmp_path):
    uri = f"file://{tmp_path}/exp"
    storage.write_json(storage.join(uri, "a", "config.json"), {"x": 1})
    assert storage.is_dir(uri) and storage.is_file(f"{uri}/a/config.json")
    assert json.loads(storage.read_bytes(f"{uri}/a/config.json")) == {"x": 1}
    assert storage.list_files(uri) == ["a/config.json"]
    assert not storage.is_dir(f"file://{tmp_path}/nothing") and storage.read_parquet(f"{uri}/no.parquet") is None


def test_a_resumed_stage_compares_its_config_at_a_uri_and_ignores_the_cluster_section(tmp_path):
    uri = f"file://{tmp_path}/exp"
    storage.write_json(f"{uri}/config.json", {"name": "a", "search": {"epochs": 2}, "cluster": {"x": 1}})
    check_same_config(f"{uri}/config.json", {"name": "a", "search": {"epochs": 2}, "cluster": {"x": 2}}, "sweep")
    with pytest.raises(UsageError, match=rf"the sweep in {uri} was started with another config \(search.epochs: 2 -> 3\)"):
        check_same_config(f"{uri}/config.json", {"name": "a", "search": {"epochs": 3}}, "sweep")


def test_results_reads_a_sweep_at_a_uri(tmp_path, capsys):
    _sweep(tmp_path)
    code, out, _ = run_cli(capsys, "results", f"file://{tmp_path}", "--json")
    assert code == 0
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["num_trials"] == 4 and answer["experiment_dir"] == f"file://{tmp_path}"
    assert answer["importances"]["finished_trials"] == 4  # the study, copied from the URI
    assert answer["importances"]["note"] == "no knob took more than one value over the finished trials"
    code, _, err = run_cli(capsys, "results", f"file://{tmp_path}/nothing")
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("argv", [
    ["results", "://"],
    ["results", "foo://bucket/sweep"],
    ["retrain", "quickstart", "--genotype", "://:"],  # DIR:TRIAL whose DIR is no URI
])
def test_a_uri_pyarrow_cannot_open_is_one_line(capsys, argv):
    """Found by test_bad_input's hypothesis case: pyarrow's ArrowInvalid came out as a traceback."""
    code, out, err = run_cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "is not a URI pyarrow.fs can open, such as s3://" in lines[0] and "Traceback" not in err


def test_dashboard_serves_a_local_copy_of_the_viewable_files_of_a_uri(tmp_path):
    from orchestrator.dashboard import resolve_target, snapshot

    sweep = tmp_path / "bucket" / "p-sweep"
    sweep.mkdir(parents=True)
    _sweep(sweep)
    cache = tmp_path / "cache"
    local = snapshot(f"file://{tmp_path}/bucket/p-pipeline", cache)  # a pipeline's: its sweep
    assert local == cache / "file" / str(sweep).strip("/")
    copied = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    assert copied == ["epochs.parquet", "optuna.db", "trial_t0/events.out.tfevents.1.host", "trials.parquet"]
    target = resolve_target(str(local))
    assert target.study_db == local / "optuna.db"
    with pytest.raises(UsageError, match="nothing there"):
        snapshot(f"file://{tmp_path}/bucket/none-sweep", cache)


def test_placement_columns_are_in_both_tables():
    assert {"train_node_id", "train_node_ip", "resumed_from_epoch"} <= set(results.EPOCH_SCHEMA.names)
    assert {"train_node_id", "train_node_ip", "resumed_from_epoch"} <= set(results.TRIAL_COLUMNS)


def test_ray_client_connects_again_when_its_server_process_died_at_start(monkeypatch):
    """Seen once in the multi-node test: the Ray Client proxy's fork of this client's server
    died at once and ray.init raised ConnectionAbortedError. One more connection is made;
    other errors, and a second failure, are raised as they are."""
    import ray

    from orchestrator.cluster import ray_runtime

    died = ConnectionAbortedError("Initialization failure from server:\nTraceback ...\nRuntimeError: "
                                  "Starting Ray client server failed. See ray_client_server_23000.err")
    calls = []

    def init(outcomes):
        def fake(**kwargs):
            calls.append(kwargs["address"])
            outcome = outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        return fake

    monkeypatch.setattr(ray, "shutdown", lambda: calls.append("shutdown"))
    monkeypatch.setattr(ray, "init", init([died, "context"]))
    assert ray_runtime.connect("ray://head:10001") == "context"
    assert calls == ["ray://head:10001", "shutdown", "ray://head:10001"]

    for outcomes in ([died, died], [ConnectionAbortedError("Initialization failure from server: other")]):
        calls.clear()
        monkeypatch.setattr(ray, "init", init(list(outcomes)))
        with pytest.raises(ConnectionAbortedError):
            ray_runtime.connect("ray://head:10001")
        assert calls.count("ray://head:10001") == len(outcomes)
