"""A trial actor of either stage ends itself after Tune's `stop` (orchestrator.stages.trial_exit):
Tune builds the trainable's class with the mixin, and its `stop` exits the actor after the
trainable's own, also when that raised, with SIGTERM ignored from then on. The actor's exit
itself, and that no SIGTERM ends a trial, are test_pipeline's (integration)."""

import signal

import pytest

from orchestrator.stages import trial_exit
from orchestrator.stages.trial_exit import ExitsOnStop, exits_on_stop


@pytest.mark.parametrize("module, name", [("orchestrator.stages.retrain", "retrain_trial"),
                                          ("orchestrator.stages.sweep", "run_trial")])
def test_tune_builds_each_stages_trainable_with_the_mixin(module, name):
    import importlib

    from ray import tune
    from ray.tune.trainable.function_trainable import wrap_function

    fn = getattr(importlib.import_module(module), name)
    wrapped = tune.with_resources(tune.with_parameters(fn, unused=None), {"cpu": 0.5})
    cls = wrap_function(wrapped)
    assert issubclass(cls, ExitsOnStop) and cls._name == name  # trial names unchanged


@pytest.fixture
def sigterm_restored():
    """This process's SIGTERM handler back as it was (the stop under test ignores SIGTERM)."""
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def test_stop_runs_then_the_actor_exits_even_when_stop_raised(monkeypatch, sigterm_restored):
    import ray.actor

    calls = []

    def exit_actor():
        calls.append(("exit", signal.getsignal(signal.SIGTERM)))

    monkeypatch.setattr(ray.actor, "exit_actor", exit_actor)
    exited = ("exit", signal.SIG_IGN)

    class Trainable:
        fail = False

        def stop(self):
            calls.append("stop")
            if self.fail:
                raise RuntimeError("the trial's own error")

    class Trial(ExitsOnStop, Trainable):
        pass

    Trial().stop()
    assert calls == ["stop", exited]
    calls.clear()
    failing = Trial()
    failing.fail = True
    with pytest.raises(RuntimeError):
        failing.stop()
    assert calls == ["stop", exited]


def test_marking_keeps_other_mixins():
    class Other:
        pass

    def trainable(config):
        return None

    trainable.__mixins__ = (Other,)
    assert exits_on_stop(trainable).__mixins__ == (ExitsOnStop, Other)
    assert trial_exit.exits_on_stop(lambda config: None).__mixins__ == (ExitsOnStop,)
