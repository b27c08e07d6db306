"""Faults caused on purpose, without Ray: a dataset download that fails, a trial whose loss
goes non-finite. The loops run in this process; where Ray would stand between them and the
CLI, a stand-in does what Ray Train does with a worker's exception (wraps it in a
`WorkerGroupError`)."""

import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from helpers import run_cli


class _InProcessTrainer:
    """`build_search_trainer`'s stand-in: `fit()` runs the search loop here, and a loop
    error reaches the caller as Ray Train delivers it: pickled (so without its __cause__),
    inside a WorkerGroupError."""

    def __init__(self, config):
        self.config = config

    def fit(self):
        from ray.train import WorkerGroupError

        from trainables.reporters import MemoryReporter
        from trainables.search_loop import run_search

        try:
            run_search(self.config, MemoryReporter())
        except Exception as exc:  # crosses to the driver pickled, as from a Ray worker
            from ray import cloudpickle

            carried = cloudpickle.loads(cloudpickle.dumps(exc))
            raise WorkerGroupError(f"rank 0: {carried}", {0: carried}) from None
        raise AssertionError("the fault did not happen")


@pytest.fixture
def in_process_search(monkeypatch):
    import trainables.ray_search

    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", lambda address=None: None)
    monkeypatch.setattr("orchestrator.stages.stage_door.check_cluster_resources", lambda *a, **k: None)
    monkeypatch.setattr("orchestrator.cluster.placement.check_storage", lambda config: None)
    monkeypatch.setattr(trainables.ray_search, "build_search_trainer",
                        lambda config, storage_path, name, **_: _InProcessTrainer(config))


def test_a_dataset_download_that_fails_exits_2_saying_where_to_put_the_files(
        in_process_search, monkeypatch, tmp_path, capsys):
    import torchvision.datasets.cifar

    def no_network(url, root, **_):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", no_network)
    # the host answered the check before Ray started; the download itself then fails
    monkeypatch.setattr("trainables.download_check.download_reachable", lambda *a, **k: True)
    root = tmp_path / "cifar"
    code, out, err = run_cli(
        capsys, "search", "cifar10", "--set", f"output_dir={tmp_path}", "--set", f"search.data.root={root}",
        "--set", "search.model.channels=2", "--set", "search.model.layers=1", "--set", "search.mim.enabled=false",
        "--set", "search.runtime.use_gpu=false", "--set", "search.runtime.cpus_per_worker=1")
    assert code == 2 and out == "", err
    assert err == (
        f"alphadarts: error: data.root='{root}': could not load or download cifar10 (<urlopen error [Errno -3] "
        "Temporary failure in name resolution>); put the extracted cifar-10-batches-py/ folder (from "
        f"https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) into {root.resolve()}, or allow the download\n")
    assert not (root / "cifar-10-batches-py").exists()


def _poisoned(config, split="train", augment=True):
    """Images that turn the loss into NaN from the 40th on (a weight-split batch of the
    first epoch): what an exploding learning rate or a broken input pipeline does."""
    x = torch.randn(64, 3, 8, 8)
    x[40:] = float("nan")
    return TensorDataset(x, torch.randint(0, 10, (64,)))


def test_a_non_finite_loss_fails_its_trial_which_records_why(monkeypatch, tmp_path):
    """The loop raises NonFiniteLossError naming the epoch and step; the trial (the Tune
    function, `fit_in_trial`) fails with it as its one-line reason; the sweep's recorder puts
    status ERROR and that reason in trials.parquet, next to a trial that finished. (That Tune
    then goes on with the other trials: tests/integration/test_sweep.py::
    test_failing_trials_are_recorded_and_the_sweep_goes_on.)"""
    from ray import cloudpickle

    from orchestrator.stages.recorder import SweepRecorder
    from orchestrator.tables.results import TRIALS_FILE
    from orchestrator.stages.trial_runner import TrialFailed, fit_in_trial
    from trainables.config import SearchConfig

    monkeypatch.setattr("trainables.search_loop.load_images", _poisoned)
    config = SearchConfig.model_validate({
        "epochs": 2, "data": {"dataset": "digits", "image_size": 8, "batch_size": 8},
        "model": {"channels": 4, "layers": 3}, "mim": {"patch_size": 2, "decoder_width": 8}})
    with pytest.raises(TrialFailed) as failed:
        fit_in_trial(_InProcessTrainer(config))
    reason = str(failed.value)
    assert reason.startswith("NonFiniteLossError: non-finite ") and " at epoch 1, step " in reason
    assert reason.endswith("lower optim.w_lr / optim.alpha_lr or mim.mim_weight")

    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio"], "epochs": 2, "space": "darts",
            "study_name": "t"}
    recorder = SweepRecorder(str(tmp_path), meta, str(tmp_path / "searches"))
    recorder.setup()
    error_file = tmp_path / "error.pkl"  # what Tune pickles for a failed trial: a RayTaskError
    error_file.write_bytes(cloudpickle.dumps(SimpleNamespace(cause=failed.value)))
    diverged = SimpleNamespace(trial_id="nan", config={"mask_ratio": 0.5}, pickled_error_file=str(error_file),
                               error_file=None)
    fine = SimpleNamespace(trial_id="ok", config={"mask_ratio": 0.25}, pickled_error_file=None, error_file=None)
    for trial in (diverged, fine):
        recorder.on_trial_start(0, [], trial)
    recorder.on_trial_error(0, [], diverged)
    recorder.on_trial_complete(0, [], fine)
    trials = pd.read_parquet(Path(tmp_path, TRIALS_FILE)).set_index("trial_id")
    assert trials.loc["nan", "status"] == "ERROR"
    assert trials.loc["nan", "error"] == f"TrialFailed: {reason}"
    assert trials.loc["ok", "status"] == "STOPPED"  # no epoch reported here: not a full run
