"""The `sweep` config section, knob application and trial sizing (no Ray instance)."""

import json

import pytest
from ray.tune.search.optuna import OptunaSearch

from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.errors import UsageError
from orchestrator.stages.sweep import max_concurrent_trials, tune_space
from orchestrator.sweep_config import apply_knobs


def test_quickstart_sweep_section():
    sweep = load_config("quickstart").sweep
    assert sweep.space.swept == ["mask_ratio", "seed", "decoder_depth"]
    assert (sweep.num_samples, sweep.max_concurrent_trials) == (6, 2)
    assert (sweep.objective.metric, sweep.objective.mode) == ("proxy_acc", "max")
    assert (sweep.scheduler.grace_period, sweep.scheduler.reduction_factor) == (1, 2)
    assert sweep.space.searched == ["mask_ratio", "decoder_depth"] and sweep.space.seeds == [0, 1]
    assert sweep.settings == 3


def test_the_direction_follows_the_metric():
    seed_only = ["sweep.space.mask_ratio=null", "sweep.space.decoder_depth=null", "sweep.num_samples=2"]
    assert load_config("quickstart", [*seed_only, "sweep.objective.metric=alpha_ce"]).sweep.objective.mode == "min"
    assert load_config("quickstart", [*seed_only, "sweep.objective.metric=weights_acc"]).sweep.objective.mode == "max"


def test_every_setting_runs_every_seed():
    with pytest.raises(UsageError, match=r"num_samples=7 must be a multiple of the 2 seeds .*: 6 or 8"):
        load_config("quickstart", ["sweep.num_samples=7"])
    with pytest.raises(UsageError, match=r"num_samples=1 must be a multiple of the 3 seeds .*: 3"):
        load_config("quickstart", ["sweep.num_samples=1", "sweep.space.seed={low: 0, high: 2}"])
    with pytest.raises(UsageError, match=r"only the seed is swept.*set num_samples=2"):
        load_config("quickstart", ["sweep.space.mask_ratio=null", "sweep.space.decoder_depth=null"])
    unseeded = load_config("quickstart", ["sweep.space.seed=null", "sweep.num_samples=5"]).sweep
    assert unseeded.space.seeds is None and unseeded.settings == 5


def test_a_trials_seed_is_its_replicates_index_into_the_seeds():
    from orchestrator.sweep_config import TRIAL_INDEX, trial_knobs
    from ray.tune.search.repeater import TRIAL_INDEX as RAYS

    assert TRIAL_INDEX == RAYS
    assert trial_knobs({"mask_ratio": 0.5, TRIAL_INDEX: 1}, [3, 7]) == {"mask_ratio": 0.5, "seed": 7}
    assert trial_knobs({"mask_ratio": 0.5, "seed": 2}, None) == {"mask_ratio": 0.5, "seed": 2}


def test_the_searcher_runs_each_setting_once_per_seed_plain_darts_first(tmp_path):
    """Optuna proposes settings, Ray's Repeater runs each with every seed, and the first
    setting is plain DARTS (mask ratio 0): every sweep over the mask ratio has its baseline."""
    from ray.tune.search import Repeater

    from orchestrator.stages.sweep import _searcher, baseline_setting

    config = load_config("quickstart", [f"output_dir={tmp_path}"])
    assert baseline_setting(config.sweep.space, config.search) == {"mask_ratio": 0.0, "decoder_depth": 1}
    searcher = _searcher(config)
    assert isinstance(searcher, Repeater) and searcher.repeat == 2
    searcher.set_search_properties(None, None, tune_space(config.sweep.space))
    proposals = [searcher.suggest(f"t{i}") for i in range(4)]
    assert proposals[0] == {"mask_ratio": 0.0, "decoder_depth": 1, "__trial_index__": 0}
    assert proposals[1] == {"mask_ratio": 0.0, "decoder_depth": 1, "__trial_index__": 1}
    assert proposals[2]["__trial_index__"] == 0 and proposals[3] == {**proposals[2], "__trial_index__": 1}
    # a range that does not hold 0 has no baseline; a choice list that does, has one
    assert baseline_setting(load_config("quickstart", ["sweep.space.mask_ratio={low: 0.25, high: 0.75}"]).sweep.space,
                            config.search) is None
    with_depths = load_config("quickstart", ["sweep.space={mask_ratio: [0.5, 0.0], decoder_depth: [2, 3]}"])
    assert baseline_setting(with_depths.sweep.space, with_depths.search) == {"mask_ratio": 0.0, "decoder_depth": 2}


@pytest.mark.parametrize(
    "override, expected",
    [
        ("sweep.space.mask_ratio={low: 0, high: 1.5}", ["sweep.space.mask_ratio", "1.5", "less than 1"]),
        ("sweep.space.mask_ratio={low: 0.5, high: 0.1}", ["sweep.space.mask_ratio", "must be below"]),
        ("sweep.space.mask_ratio={low: 0, high: 0.7, step: 0.25}", ["multiple of step"]),
        ("sweep.space.mask_ratio={low: 0, hi: 0.5}", ["sweep.space.mask_ratio", "hi"]),
        ("sweep.space.seed=[0, 0]", ["sweep.space.seed", "distinct"]),
        ("sweep.space.decoder_depth=[-1, 2]", ["sweep.space.decoder_depth", "-1", "greater than or equal to 0"]),
        ("sweep.space.patch_size={low: 2, high: 4}", ["sweep.space.patch_size", "list of choices"]),
        ("sweep.space.phases=[[weights], [beta]]", ["sweep.space.phases", "beta"]),
        ("sweep.space.mim_weight={low: 0, high: 2, log: true}", ["sweep.space.mim_weight", "low > 0"]),
        ("sweep.objective.source=proxy_train", ["sweep.objective.source", "unknown field"]),
        ("sweep.objective.metric=accuracy", ["sweep.objective.metric", "alpha_acc"]),
        ("sweep.objective.mode=max", ["sweep.objective.mode", "unknown field"]),
        ("sweep.num_samples=0", ["sweep.num_samples", "greater than or equal to 1"]),
        ("sweep.scheduler.reduction_factor=1", ["sweep.scheduler.reduction_factor"]),
        ("sweep.max_concurent_trials=2", ["sweep.max_concurent_trials", "unknown field"]),
    ],
)
def test_bad_sweep_values_are_named(override, expected):
    with pytest.raises(UsageError) as info:
        load_config("quickstart", [override])
    message = str(info.value)
    assert all(part in message for part in expected), message
    assert "\n" not in message


def test_a_sweep_needs_a_knob():
    with pytest.raises(UsageError, match="no knob is swept"):
        load_config("quickstart", ["sweep.space={mask_ratio: null, seed: null, decoder_depth: null}"])


def test_grace_period_beyond_the_epochs_is_refused_before_ray(capsys):
    code = main(["sweep", "quickstart", "--set", "sweep.scheduler.grace_period=9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "sweep.scheduler.grace_period=9" in err and "search.epochs=4" in err


def test_knobs_land_in_their_fields_and_the_rest_is_kept():
    base = load_config("quickstart").search
    search = apply_knobs(base, {"mask_ratio": 0.25, "seed": 3, "decoder_depth": 0,
                                "mim_weight": 0.5, "patch_size": 8, "phases": "alpha"})
    assert (search.seed, search.mim.mask_ratio, search.mim.decoder_depth) == (3, 0.25, 0)
    assert (search.mim.mim_weight, search.mim.patch_size, search.mim.phases) == (0.5, 8, ("alpha",))
    assert search.mim.decoder_width == base.mim.decoder_width and search.data == base.data
    assert (base.seed, base.mim.mask_ratio) == (0, 0.5)  # the base config is untouched
    assert apply_knobs(base, {"phases": ""}).mim.phases == ()


def test_a_knob_combination_the_search_refuses_names_the_rule():
    base = load_config("quickstart").search  # 8-pixel images
    with pytest.raises(UsageError, match=r"patch_size=3 must divide the image size 8"):
        apply_knobs(base, {"patch_size": 3})
    with pytest.raises(UsageError, match="less than 1"):
        apply_knobs(base, {"mask_ratio": 1.0})  # re-validated, not just copied
    with pytest.raises(UsageError, match="not known"):
        apply_knobs(base, {"masking": 0.5})


def test_tune_space_converts_to_the_intended_optuna_distributions():
    space = load_config("quickstart", [
        "sweep.space.seed={low: 0, high: 2}",
        "sweep.space.phases=[[weights, alpha], [alpha]]",
        "sweep.num_samples=6",
        "sweep.space.mim_weight={low: 0.1, high: 10, log: true}",
    ]).sweep.space
    dists = OptunaSearch.convert_search_space(tune_space(space))
    assert (dists["mask_ratio"].low, dists["mask_ratio"].high, dists["mask_ratio"].step) == (0.0, 0.75, 0.25)
    assert "seed" not in dists  # a replicate, not a knob to tune
    assert dists["decoder_depth"].choices == (0, 1, 2)
    assert dists["phases"].choices == ("weights+alpha", "alpha")
    assert dists["mim_weight"].log


@pytest.mark.parametrize(
    "overrides, cluster, expected",
    [
        # one worker: the search runs in the trial, which holds the worker's share alone
        (["search.runtime.cpus_per_worker=0.5", "sweep.max_concurrent_trials=null"], {"CPU": 2.0}, 4),
        (["search.runtime.cpus_per_worker=1", "sweep.max_concurrent_trials=null"], {"CPU": 2.0}, 2),
        # several workers: Ray Train's workers plus the trial driver's sliver of a CPU
        (["search.runtime.num_workers=2", "search.runtime.cpus_per_worker=0.5",
          "sweep.max_concurrent_trials=null"], {"CPU": 2.0}, 1),
        (["search.runtime.num_workers=2", "search.runtime.cpus_per_worker=0.25",
          "sweep.max_concurrent_trials=null"], {"CPU": 2.0}, 3),
        (["search.runtime.cpus_per_worker=0.1", "sweep.max_concurrent_trials=null"], {"CPU": 16.0}, 6),
        (["search.runtime.use_gpu=true", "search.runtime.cpus_per_worker=1",
          "sweep.max_concurrent_trials=null"], {"CPU": 32.0, "GPU": 4.0}, 4),
        (["sweep.max_concurrent_trials=5"], {"CPU": 1.0}, 5),
    ],
)
def test_concurrency_comes_from_the_cluster_unless_set(overrides, cluster, expected):
    assert max_concurrent_trials(load_config("quickstart", overrides), cluster) == expected


def test_a_trial_larger_than_the_cluster_is_refused():
    config = load_config("quickstart", ["search.runtime.use_gpu=true", "sweep.max_concurrent_trials=null"])
    with pytest.raises(UsageError, match=r"one trial needs .*1 GPU.*the cluster has .*0 GPU"):
        max_concurrent_trials(config, {"CPU": 8.0})


def test_resume_questions_are_answered_before_ray(tmp_path, capsys):
    base = ["sweep", "quickstart", "--set", f"output_dir={tmp_path}"]
    assert main([*base, "--resume"]) == 2
    assert "no sweep to resume" in capsys.readouterr().err

    (tmp_path / "quickstart-sweep").mkdir()
    (tmp_path / "quickstart-sweep" / "notes.txt").write_text("mine")
    assert main(base) == 2
    assert "holds no sweep Tune can resume" in capsys.readouterr().err

    # a restorable sweep (Tune's tuner.pkl) started with other settings
    (tmp_path / "quickstart-sweep" / "tuner.pkl").write_bytes(b"")
    started = load_config("quickstart", [f"output_dir={tmp_path}", "search.epochs=3"])
    (tmp_path / "quickstart-sweep" / "config.json").write_text(json.dumps(started.model_dump(mode="json")))
    assert main(base) == 2
    assert "started with another config (search.epochs: 3 -> 4)" in capsys.readouterr().err
