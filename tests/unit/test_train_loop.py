"""The train loop called directly (no Ray): determinism, resume, the parameter count that
`inspect` prints, the drop-path ramp, cutout, and the config door."""

import copy
import json

import pytest
import torch
from helpers import assert_bitwise_equal, register_train_checkpoint, with_changes
from pydantic import ValidationError

from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.errors import UsageError
from search_space import build_network, count_parameters, parse_genotype
from trainables.errors import InputError
from trainables.reporters import MemoryReporter, StopSearch
from trainables.train_config import TrainConfig
from trainables.train_data import cutout
from trainables.train_loop import drop_path_prob, run_train

V2 = parse_genotype("darts", "DARTS_V2")


def tiny(**changes) -> TrainConfig:
    raw = {
        "seed": 1,
        "epochs": 2,
        "data": {"dataset": "synthetic", "image_size": 8, "batch_size": 16,
                 "synthetic_samples": 96, "synthetic_classes": 4},
        "model": {"channels": 4, "layers": 3, "auxiliary": True, "drop_path_prob": 0.3},
        "optim": {"lr": 0.05},
        "cutout_length": 3,
    }
    return TrainConfig.model_validate(with_changes(raw, **changes))


def test_same_seed_same_weights_to_the_last_bit():
    first, second, other = MemoryReporter(), MemoryReporter(), MemoryReporter()
    run_train(tiny(), V2, first)
    run_train(tiny(), V2, second)
    run_train(tiny(seed=2), V2, other)
    assert_bitwise_equal(first.states[-1]["model"], second.states[-1]["model"])
    assert [m["test_acc"] for m in first.metrics] == [m["test_acc"] for m in second.metrics]
    w = "classifier.weight"
    assert not torch.equal(first.states[-1]["model"][w], other.states[-1]["model"][w])


def test_resumed_run_ends_with_the_same_weights():
    config = tiny(epochs=3)
    full = MemoryReporter()
    outcome = run_train(config, V2, full)
    interrupted = MemoryReporter(stop_after_epochs=1)
    with pytest.raises(StopSearch):
        run_train(config, V2, interrupted)
    resumed = MemoryReporter(resume_state=copy.deepcopy(interrupted.states[-1]))
    again = run_train(config, V2, resumed)
    assert [m["epoch"] for m in resumed.metrics] == [2, 3]
    assert_bitwise_equal(full.states[-1]["model"], resumed.states[-1]["model"])
    assert again.test_acc == outcome.test_acc and again.test_ce == outcome.test_ce
    assert [m["train_loss"] for m in again.history] == [m["train_loss"] for m in outcome.history]


def test_a_finished_run_resumed_only_reports():
    first = MemoryReporter()
    outcome = run_train(tiny(epochs=1), V2, first)
    again = MemoryReporter(resume_state=copy.deepcopy(first.states[-1]))
    assert run_train(tiny(epochs=1), V2, again) == outcome
    assert again.metrics == first.metrics and again.states == []


def test_a_finished_train_run_is_reported_from_its_checkpoint_without_workers(tmp_path, monkeypatch):
    """A retrain trial whose Ray Train run already ended (stopped after the run, before its
    row was written) reports the run's last epoch from the checkpoint and starts no
    trainer; a checkpoint of fewer epochs, another genotype or another config starts one."""
    from ray import tune

    from orchestrator.stages.retrain import RetrainTarget, retrain_trial
    from trainables.checkpoint import STATE_FILE, save_state
    from trainables.train_loop import finished_result

    reporter = MemoryReporter()
    run_train(tiny(epochs=1), V2, reporter)
    state = reporter.states[-1]
    assert finished_result(state, tiny(epochs=1), V2) == reporter.metrics[-1]
    assert finished_result(state, tiny(epochs=2), V2) is None
    assert finished_result(state, tiny(epochs=1, optim__lr=0.1), V2) is None
    assert finished_result(state, tiny(epochs=1), parse_genotype("darts", "DARTS_V1")) is None

    run_dir = tmp_path / "runs" / f"{V2.key}-seed1"  # retrain.run_name: the pair's Train run
    save_state(register_train_checkpoint(run_dir, "checkpoint_2026-12-03_00-00-00.000000", epoch=1) / STATE_FILE,
               state)
    reported = []
    monkeypatch.setattr(tune, "report", reported.append)
    targets = [RetrainTarget(V2)]

    def trial(config):
        retrain_trial({"pair": (0, 1)}, base=config, targets=targets, runs_dir=str(tmp_path / "runs"),
                      in_trial=False)

    trial(tiny(epochs=1))
    assert reported == [reporter.metrics[-1]]
    # not finished: on to a Ray Train run, whose Tune callback needs a real Tune session
    with pytest.raises(RuntimeError, match="Tune session"):
        trial(tiny(epochs=2))
    assert len(reported) == 1


def test_resuming_another_genotype_or_config_is_refused():
    reporter = MemoryReporter()
    run_train(tiny(epochs=1), V2, reporter)
    state = reporter.states[-1]
    with pytest.raises(InputError, match="genotype"):
        run_train(tiny(epochs=1), parse_genotype("darts", "DARTS_V1"), MemoryReporter(resume_state=state))
    with pytest.raises(InputError, match="another training config"):
        run_train(tiny(epochs=2, optim__lr=0.1), V2, MemoryReporter(resume_state=state))


def test_outcome_is_the_final_epoch_and_params_match_inspect(capsys):
    reporter = MemoryReporter()
    outcome = run_train(tiny(epochs=2), V2, reporter)
    last = reporter.metrics[-1]
    assert (outcome.test_acc, outcome.test_ce, outcome.train_acc) == (last["test_acc"], last["test_ce"], last["train_acc"])
    assert outcome.epochs == 2 and outcome.wall_time_s == pytest.approx(sum(m["epoch_time_s"] for m in reporter.metrics))
    net = build_network("darts", V2, 4, 4, 3, auxiliary=True)
    assert outcome.params == count_parameters(net) < sum(p.numel() for p in net.parameters())
    # `inspect` (10 classes for digits) and a digits run count the same parameters
    digits = run_train(tiny(epochs=1, data__dataset="digits", data__subset=32), V2, MemoryReporter())
    assert main(["inspect", "--space", "darts", "--genotype", "DARTS_V2", "--dataset", "digits",
                 "--channels", "4", "--layers", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == digits.params
    assert outcome.macs > 0


def test_drop_path_ramps_linearly_from_zero():
    assert [drop_path_prob(0.2, e, 4) for e in range(4)] == pytest.approx([0.0, 0.05, 0.1, 0.15])
    reporter = MemoryReporter()
    run_train(tiny(epochs=3), V2, reporter)
    assert [m["drop_path_prob"] for m in reporter.metrics] == pytest.approx([0.0, 0.1, 0.2])


def test_nb201_with_nesterov_trains():
    reporter = MemoryReporter()
    outcome = run_train(
        tiny(space="nb201", epochs=1, model__layers=1, model__auxiliary=False,
             optim__nesterov=True, optim__grad_clip=None, cutout_length=0),
        parse_genotype("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
        reporter,
    )
    assert 0.0 <= outcome.test_acc <= 1.0 and outcome.params > 0


def test_cutout_zeroes_one_square_per_image():
    torch.manual_seed(0)
    images = torch.ones(64, 3, 10, 10)
    out = cutout(images, 4)
    zeros = (out[:, 0] == 0).sum(dim=(1, 2))
    assert (zeros <= 16).all() and (zeros >= 4).all() and (zeros == 16).any()
    assert torch.equal(out[:, 0] == 0, out[:, 2] == 0)  # the same square in every channel
    assert torch.equal(cutout(images, 0), images)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"optim": {"lr": 0}}, "lr"),
        ({"model": {"drop_path_prob": 1.0}}, "drop_path_prob"),
        ({"cutout_length": -1}, "cutout_length"),
        ({"space": "nb201"}, "model.auxiliary"),
        ({"optim": {"nesterov": True, "momentum": 0.0}}, "nesterov"),
        ({"optim": {"lr": 0.01, "lr_min": 0.1}}, "lr_min"),
        ({"data": {"dataset": "mnist"}}, "dataset"),
        ({"data": {"dataset": "digits", "image_size": 16}, "cutout_length": 16}, "cutout_length=16"),
    ],
)
def test_bad_values_name_the_field(change, field):
    with pytest.raises(ValidationError) as info:
        TrainConfig.model_validate(change)
    assert field in str(info.value)


def test_bad_retrain_values_at_the_door():
    with pytest.raises(UsageError) as info:
        load_config("quickstart", ["retrain.optim.lr=-1"])
    assert "retrain.optim.lr=-1" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(UsageError, match=r"retrain.optim: nesterov=true needs momentum > 0"):
        load_config("quickstart", ["retrain.optim.nesterov=true", "retrain.optim.momentum=0"])


def test_it_learns():
    outcome = run_train(
        tiny(epochs=2, cutout_length=0, model__auxiliary=False, model__drop_path_prob=0.0,
             optim__lr=0.025, data__synthetic_samples=256),
        V2, MemoryReporter(),
    )
    assert outcome.test_acc >= 0.8 and outcome.history[-1]["train_loss"] < outcome.history[0]["train_loss"]
