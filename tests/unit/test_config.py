"""The config door: presets load, overrides apply, bad values name field, value and rule."""

import pytest

from orchestrator.cli import main
from orchestrator.config import load_config, preset_names
from orchestrator.errors import UsageError


def test_every_preset_validates():
    names = preset_names()
    assert {"quickstart", "cifar10", "cifar100", "nb201-cifar10"} <= set(names)
    for name in names:
        assert load_config(name).name


def test_overrides_are_typed():
    config = load_config("quickstart", ["search.mim.mask_ratio=0.25", "search.mim.phases=[alpha]"])
    assert config.search.mim.mask_ratio == 0.25
    assert config.search.mim.phases == ("alpha",)


@pytest.mark.parametrize(
    "override, field",
    [
        ("search.mim.mask_ratio=1.0", "search.mim.mask_ratio"),
        ("search.mim.mask_ratio=-0.1", "search.mim.mask_ratio"),
        ("search.mim.patch_size=3", "patch_size"),
        ("search.mim.decoder_depth=-1", "search.mim.decoder_depth"),
        ("search.data.dataset=mnist", "search.data.dataset"),
        ("search.model.channels=0", "search.model.channels"),
        ("search.mim.mask_ratoi=0.3", "search.mim.mask_ratoi"),
    ],
)
def test_bad_values_are_named(override, field):
    with pytest.raises(UsageError) as info:
        load_config("quickstart", [override])
    assert field in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_config_source():
    with pytest.raises(UsageError, match="neither a YAML file nor a preset"):
        load_config("no-such-preset")


def test_search_cli_rejects_bad_input_before_ray(capsys):
    code = main(["search", "quickstart", "--set", "search.mim.mask_ratio=1.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert "search.mim.mask_ratio=1.5" in err and "less than 1" in err
    assert len(err.strip().splitlines()) == 1


def test_search_cli_rejects_unreadable_data_dir(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = main(["search", "quickstart", "--set", "search.data.dataset=cifar10",
                 "--set", f"search.data.root={blocker}"])
    assert code == 2
    assert "data.root" in capsys.readouterr().err


def test_image_size_the_stride_does_not_map_back_is_refused(capsys):
    # DARTS, 5 cells: two reductions, stride 4; 10 px would give 10 -> 5 -> 3 and a 12 px decoding
    with pytest.raises(UsageError) as info:
        load_config("quickstart", ["search.data.image_size=10", "search.mim.patch_size=2"])
    message = str(info.value)
    assert "data.image_size=10" in message and "multiple of 4" in message
    assert "\n" not in message and "{" not in message
    assert load_config("quickstart", ["search.data.image_size=12", "search.mim.patch_size=2"])
    code = main(["search", "quickstart", "--set", "search.data.image_size=10", "--set", "search.mim.patch_size=2"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "multiple of 4" in err


def test_another_search_space_moves_the_retrain_section_with_it():
    # no retrain section given: it trains in the searched space, with an auxiliary head only
    # where the space has one (the default protocol is DARTS CIFAR's, which does)
    from orchestrator.config import ExperimentConfig

    config = ExperimentConfig.model_validate({"search": {"model": {"space": "nb201"}}})
    assert config.retrain.space == "nb201" and config.retrain.model.auxiliary is False
    assert ExperimentConfig.model_validate({}).retrain.model.auxiliary is True
    with pytest.raises(UsageError, match="retrain.space='darts' must be the search's space"):
        load_config("quickstart", ["search.model.space=nb201", "retrain.space=darts"])


def test_tracking_takes_an_mlflow_uri_and_is_off_by_default():
    from orchestrator.stages.tracking import tracking_callbacks

    config = load_config("quickstart")
    assert config.tracking.mlflow is None and tracking_callbacks(config.tracking, "x") == []
    assert load_config("quickstart", ["tracking.mlflow=sqlite:////tmp/m.db"]).tracking.mlflow == "sqlite:////tmp/m.db"
    with pytest.raises(UsageError, match="tracking.mlflow.*give a tracking URI"):
        load_config("quickstart", ["tracking.mlflow=mlruns"])


def test_mlflow_tracking_without_mlflow_is_refused_at_the_door(monkeypatch):
    import importlib.util

    from orchestrator.stages.tracking import check_tracking

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(UsageError, match="needs MLflow: pip install 'alphadarts\\[mlflow\\]'"):
        check_tracking(load_config("quickstart", ["tracking.mlflow=sqlite:////tmp/m.db"]).tracking)
