"""Training one discrete network from scratch: a plain function of (config, genotype,
reporter), read top to bottom.

SGD with a cosine or exponential schedule, drop path ramped linearly over the epochs, the
auxiliary loss, gradient clipping, label smoothing, cutout; after every epoch the whole test
set is evaluated and the epoch is reported with a checkpoint state. With several workers the
network is wrapped in DistributedDataParallel. Ray Train calls this on every worker with a
reporter that forwards to `ray.train.report`; tests call it directly.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from search_space import Genotype, build_network, count_macs, count_parameters
from trainables.checkpoint import restore_run
from trainables.seeding import capture_rng, seed_everything
from trainables.distributed import Collective
from trainables.errors import InputError, NonFiniteLossError
from trainables.reporters import Reporter
from trainables.train_config import TrainConfig, TrainOptimConfig
from trainables.train_data import cutout, test_set_shard, train_set_shard

log = logging.getLogger(__name__)

#: what may change between a run and its resumption: where and how it runs, not what.
NOT_RESUME_RELEVANT = {
    "runtime": True, "keep_checkpoints": True, "data": {"root", "loader_workers", "pin_memory"},
}


@dataclass(frozen=True)
class TrainOutcome:
    test_acc: float  # the final epoch's, not the best
    test_ce: float
    train_acc: float
    params: int  # without the auxiliary head, as the papers count
    macs: int
    epochs: int
    wall_time_s: float  # summed over the epochs, across resumptions
    history: list[dict]


class DivergedError(NonFiniteLossError):
    """The training loss became NaN or infinite."""

    def __init__(self, epoch: int, value: float):
        RuntimeError.__init__(
            self, f"non-finite training loss ({value}) in epoch {epoch}; lower optim.lr"
        )
        self.epoch, self.step, self.phase, self.value = epoch, -1, "train", value

    def __reduce__(self):  # pickled by Ray on its way to the driver (see NonFiniteLossError)
        return (self.__class__, (self.epoch, self.value))


def run_train(
    config: TrainConfig, genotype: Genotype, reporter: Reporter, collective: Collective | None = None
) -> TrainOutcome:
    collective = collective or Collective.current()
    device, rt, data = collective.device, config.runtime, config.data
    memory_format = torch.channels_last if rt.channels_last else torch.contiguous_format

    # The network: the same initial weights on every rank (DDP also broadcasts rank 0's).
    seed_everything(config.seed)
    net = build_network(
        config.space, genotype, data.num_classes, config.model.channels, config.model.layers,
        auxiliary=config.model.auxiliary, family=data.network,
    )
    size = data.resolved_image_size
    params, macs = count_parameters(net), count_macs(net, (3, size, size))
    net.to(device, memory_format=memory_format)
    optimiser, schedule = build_optimiser(net, config.optim, config.epochs)

    # From here on each rank draws its own crops, flips, cutouts and drop-path masks.
    seed_everything(config.seed + collective.rank)
    train, sampler = train_set_shard(data, config.seed, collective.rank, collective.world_size)
    test = test_set_shard(data, collective.rank, collective.world_size)

    start_epoch, history = 0, []
    state = reporter.latest_state()
    if state is not None:
        start_epoch, history = _restore(state, config, genotype, net, optimiser, schedule, collective)
        log.info("resuming the training after epoch %d", start_epoch)
    model = net
    if collective.world_size > 1:
        model = DistributedDataParallel(
            net, device_ids=[device] if device.type == "cuda" else None,
            # an NB201 cell whose `none` edges cut a node off leaves that node's ops unused
            find_unused_parameters="none" in getattr(genotype, "ops", ()),
        )

    for epoch in range(start_epoch, config.epochs):
        started = time.perf_counter()
        net.drop_path_prob = drop_path_prob(config.model.drop_path_prob, epoch, config.epochs)
        lr = optimiser.param_groups[0]["lr"]
        sampler.set_epoch(epoch)
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.float64, device=device)
        seen = 0
        for x, y in train:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            x = cutout(x, config.cutout_length).contiguous(memory_format=memory_format)
            loss, logits = train_step(model, net, optimiser, x, y, config)
            loss_sum += loss.detach().double() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            seen += len(y)
        schedule.step()
        collective.broadcast_module(net)  # rank 0's BN statistics: what is tested and saved

        train_loss, train_acc = _means(collective, [float(loss_sum), float(correct)], seen)
        if not math.isfinite(train_loss):
            raise DivergedError(epoch + 1, train_loss)
        test_ce, test_acc = evaluate(net, test, device, rt.bf16, memory_format, collective)
        elapsed = time.perf_counter() - started
        metrics = {
            "epoch": epoch + 1,
            "lr": lr,
            "drop_path_prob": net.drop_path_prob,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "test_ce": test_ce,
            "test_acc": test_acc,
            "params": params,
            "macs": macs,
            "epoch_time_s": elapsed,
            "wall_time_s": sum(m["epoch_time_s"] for m in history) + elapsed,
            "images_per_s": collective.sum([float(seen)])[0] / elapsed if elapsed > 0 else 0.0,
            "workers": collective.world_size,
        }
        history.append(metrics)
        rng = collective.gather_objects(capture_rng())
        state = _state(epoch + 1, history, config, genotype, net, optimiser, schedule, rng) if collective.is_main else None
        if collective.is_main:
            log.info(
                "epoch %d/%d  lr %.4g  train_loss %.4f  train_acc %.4f  test_acc %.4f  (%.1f s)",
                epoch + 1, config.epochs, lr, train_loss, train_acc, test_acc, elapsed,
            )
        reporter.report(metrics, state)

    if not history:
        raise InputError("the checkpoint to resume from has no epochs")
    last = history[-1]
    if start_epoch >= config.epochs:
        # A finished run started again: nothing to train; say its result once more (without
        # a checkpoint), so that a caller restarting a finished run still hears it.
        reporter.report(dict(last), None)
    return TrainOutcome(
        test_acc=last["test_acc"], test_ce=last["test_ce"], train_acc=last["train_acc"],
        params=params, macs=macs, epochs=last["epoch"], wall_time_s=last["wall_time_s"],
        history=history,
    )


def train_step(model: nn.Module, net: nn.Module, optimiser: torch.optim.Optimizer, x: torch.Tensor,
               y: torch.Tensor, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on a batch already on the device and augmented: the loss (with the
    auxiliary head's) and the logits, both left on the device (nothing is read on the host).
    `model` is what runs the batch (`net` itself, or its DDP wrapper), `net` whose gradients
    are clipped. `alphadarts doctor` runs this very step under each runtime switch."""
    with _autocast(x.device, config.runtime.bf16):
        logits, logits_aux = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=config.optim.label_smoothing)
        if logits_aux is not None:
            aux = F.cross_entropy(logits_aux.float(), y, label_smoothing=config.optim.label_smoothing)
            loss = loss + config.model.auxiliary_weight * aux
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    if config.optim.grad_clip is not None:
        nn.utils.clip_grad_norm_(net.parameters(), config.optim.grad_clip)
    optimiser.step()
    return loss, logits


def proxy_accuracy(proxy: TrainConfig, genotype: Genotype, collective: Collective | None = None) -> float:
    """The final test accuracy of `genotype` trained from scratch with `proxy`: a short, small
    training that ranks a search's result by what it becomes. Not checkpointed: a restarted
    trial trains it again (it is small by design)."""
    from trainables.reporters import MemoryReporter

    return run_train(proxy, genotype, MemoryReporter(), collective).test_acc


def drop_path_prob(final: float, epoch: int, epochs: int) -> float:
    """DARTS's linear ramp: 0 in the first epoch, `final * epoch / epochs` in epoch `epoch`
    (0-based), so the last epoch trains just below `final`."""
    return final * epoch / epochs


def build_optimiser(net: nn.Module, optim: TrainOptimConfig, epochs: int):
    """SGD over every parameter (auxiliary head included), with the configured schedule
    stepped once per epoch."""
    optimiser = torch.optim.SGD(
        net.parameters(), optim.lr, momentum=optim.momentum, nesterov=optim.nesterov,
        weight_decay=optim.weight_decay,
    )
    if optim.schedule == "cosine":
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, float(epochs), eta_min=optim.lr_min)
    else:
        schedule = torch.optim.lr_scheduler.StepLR(optimiser, 1, gamma=optim.lr_decay)
    return optimiser, schedule


@torch.no_grad()
def evaluate(net: nn.Module, loader, device, bf16: bool, memory_format, collective: Collective) -> tuple[float, float]:
    """Test cross-entropy (no smoothing) and accuracy in eval mode, summed over the ranks."""
    net.eval()
    ce_sum, correct, count = 0.0, 0.0, 0
    for x, y in loader:
        x = x.to(device, non_blocking=True).contiguous(memory_format=memory_format)
        y = y.to(device, non_blocking=True)
        with _autocast(device, bf16):
            logits, _ = net(x)
        ce_sum += F.cross_entropy(logits.float(), y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    net.train()
    return _means(collective, [ce_sum, correct], count)


def _means(collective: Collective, sums: list[float], count: int) -> tuple[float, ...]:
    *totals, n = collective.sum([*sums, float(count)])
    return tuple(t / max(n, 1.0) for t in totals)


def _state(epoch, history, config, genotype, net, optimiser, schedule, rng_per_rank) -> dict:
    return {
        "epoch": epoch,
        "history": [dict(m) for m in history],
        "genotype": str(genotype),
        "config": _fingerprint(config),
        "model": net.state_dict(),
        "optimiser": optimiser.state_dict(),
        "schedule": schedule.state_dict(),
        "rng": rng_per_rank,
    }


def _restore(state, config, genotype, net, optimiser, schedule, collective) -> tuple[int, list[dict]]:
    if state.get("genotype") != str(genotype):
        raise InputError(
            f"the checkpoint to resume trains genotype {state.get('genotype')!r}, not {genotype!s}"
        )
    if state.get("config") != _fingerprint(config):
        raise InputError(
            "the checkpoint to resume was written with another training config "
            f"({state.get('config')}); use another run name or the same settings"
        )
    return restore_run(state, {"model": net, "optimiser": optimiser, "schedule": schedule},
                       collective, config.seed, "network")


def finished_result(state: dict, config: TrainConfig, genotype: Genotype) -> dict | None:
    """The last epoch's metrics of a checkpoint that ends this very run (this genotype, this
    config, every epoch done), else None. A caller that finds one reports it as the run's
    result without building the network or starting workers."""
    if (state.get("genotype") != str(genotype) or state.get("config") != _fingerprint(config)
            or int(state.get("epoch", 0)) < config.epochs or not state.get("history")):
        return None
    return dict(state["history"][-1])


def _fingerprint(config: TrainConfig) -> str:
    return json.dumps(config.model_dump(mode="json", exclude=NOT_RESUME_RELEVANT), sort_keys=True)


def _autocast(device: torch.device, bf16: bool):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)
