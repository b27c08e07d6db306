"""One dataset table: the config, the loaders, `inspect` and `bench` read the same facts."""

import json

import pytest
from pydantic import ValidationError

from orchestrator.bench.run import estimate_wall_time
from orchestrator.cli import main
from trainables.config import DataConfig, SearchConfig
from trainables.data import load_images
from trainables.datasets import DATASETS, loadable_datasets


def test_config_accepts_exactly_the_loadable_datasets():
    assert set(loadable_datasets()) == {"cifar10", "cifar100", "imagenet", "folder", "digits", "synthetic"}
    for name in ("imagenet16-120", "mnist"):
        with pytest.raises(ValidationError, match="allowed: cifar10, cifar100"):
            DataConfig(dataset=name)
    assert DataConfig(dataset="cifar100").num_classes == 100
    assert DataConfig(dataset="imagenet").resolved_image_size == 224
    assert DataConfig(dataset="digits", image_size=12).resolved_image_size == 12
    assert DataConfig(dataset="synthetic", synthetic_classes=7).num_classes == 7


def test_digits_loader_and_bench_agree_with_the_table():
    data = DataConfig(dataset="digits", image_size=8)
    assert len(load_images(data)) == DATASETS["digits"].train_images
    config = SearchConfig.model_validate({"data": {"dataset": "digits", "image_size": 8},
                                          "mim": {"patch_size": 2}})
    assert estimate_wall_time(config, 1.0, 1, 1)["train_images"] == DATASETS["digits"].train_images


@pytest.mark.parametrize("dataset", ["digits", "imagenet16-120", "cifar100"])
def test_inspect_reads_the_table(capsys, dataset):
    assert main(["inspect", "--space", "nb201", "--supernet", "--channels", "2", "--layers", "1",
                 "--dataset", dataset, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    info = DATASETS[dataset]
    side = info.image_size or DataConfig().image_size
    assert report["input_shape"] == [1, 3, side, side] and report["num_classes"] == info.num_classes


def test_digits_read_without_scikit_learn_equal_load_digits():
    """The digits file read directly (no scikit-learn import per process) holds what
    `sklearn.datasets.load_digits` returns, value for value."""
    import numpy as np
    from sklearn.datasets import load_digits

    from trainables.data import _digits_arrays

    flat, target = _digits_arrays()
    bunch = load_digits()
    assert np.array_equal(flat, bunch.data) and np.array_equal(target, bunch.target)
