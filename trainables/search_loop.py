"""The αDARTS search loop: a plain function of (config, reporter), read top to bottom.

Each step first updates α on a batch of the α split, then the weights (supernet + decoder)
on a batch of the weight split, as DARTS does. Ray Train calls this function on every worker
with a reporter that forwards to `ray.train.report`; tests call it directly.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from search_space import alpha_entropy, alpha_top_weight
from trainables.seeding import capture_rng, rank_seed, seed_everything
from trainables.checkpoint import restore_run
from trainables.config import SearchConfig
from trainables.data import load_images, sharded_loader, split_for_search
from trainables.distributed import Collective
from trainables.errors import InputError
from trainables.metrics import check_epoch_report
from trainables.nb201_benchmark.epoch_metrics import EpochBenchmark
from trainables.objective import SearchObjective
from trainables.reporters import Reporter
from trainables.search_model import build_search_objective, build_search_step
from trainables.search_step import build_optimisers

log = logging.getLogger(__name__)

#: images per rank (clean weight-split batches) that re-estimate BatchNorm statistics
#: before each evaluation; enough for a stable mean and variance, cheap next to an epoch.
BN_ESTIMATE_IMAGES = 512

#: the clean passes (the BatchNorm re-estimate and the α-split evaluation) read batches of
#: at least this many images. They run without gradients, so a batch holds a few live
#: activations at a time, far less than a training step at its own batch keeps for backward;
#: and on a CPU a small batch's time is mostly per-op overhead (docs/benchmarks.md).
CLEAN_PASS_BATCH = 256


@dataclass(frozen=True)
class SearchOutcome:
    genotype: object
    alphas: dict[str, list]
    history: list[dict]


def run_search(config: SearchConfig, reporter: Reporter, collective: Collective | None = None) -> SearchOutcome:
    collective = collective or Collective.current()
    device, rt = collective.device, config.runtime
    reporter.phase("search_start")
    benchmark = EpochBenchmark.for_search(config)  # NB-201 ground truth per epoch, if at hand
    seed_everything(config.seed)

    # The supernet and its MIM head; α and weights get their own optimisers.
    objective = build_search_objective(config, device)
    w_opt, a_opt, schedule = build_optimisers(objective, config.optim, config.epochs)
    # Data-side randomness (masks, crops, flips) is each rank's own, reproducibly from
    # (seed, rank); weights and α come from rank 0 and stay identical on every rank.
    seed_everything(rank_seed(config.seed, collective.rank))
    reporter.phase("model_built")

    # The data: the training set cut into the weight split and the α split, sharded by rank.
    # The clean passes read the same two splits without random crops and flips.
    splits = split_for_search(load_images(config.data), config.data.train_portion, config.seed)
    plain = split_for_search(load_images(config.data, augment=False), config.data.train_portion, config.seed)
    shard = dict(config=config.data, seed=config.seed, rank=collective.rank, world_size=collective.world_size)
    w_loader, w_sampler = sharded_loader(splits.weights, **shard)
    a_loader, a_sampler = sharded_loader(splits.alpha, **shard)
    clean_batch = max(config.data.batch_size, CLEAN_PASS_BATCH)
    eval_loader, _ = sharded_loader(plain.alpha, shuffle=False, drop_last=False, batch_size=clean_batch, **shard)
    bn_loader, _ = sharded_loader(plain.weights, shuffle=False, drop_last=False, batch_size=clean_batch, **shard)
    reporter.phase("data_ready")

    # Resume from the last checkpoint, or start every rank from rank 0's parameters.
    start_epoch, history = 0, []
    state = reporter.latest_state()
    if state is not None:
        start_epoch, history = restore_run(
            state, {"objective": objective, "w_opt": w_opt, "a_opt": a_opt, "schedule": schedule},
            collective, config.seed, "search model")
        log.info("resuming the search after epoch %d", start_epoch)
    else:
        collective.broadcast_module(objective)
    reporter.phase("resume_checked")

    step_fn = build_search_step(config, objective, w_opt, a_opt, collective)
    for epoch in range(start_epoch, config.epochs):
        w_sampler.set_epoch(epoch)
        a_sampler.set_epoch(epoch)
        objective.train()
        lr = w_opt.param_groups[0]["lr"]
        sums = _Sums()
        started = time.perf_counter()
        # Every epoch covers the whole weight split; the α split is restarted as needed.
        alpha_batches = _alpha_batches(a_loader, a_sampler, epoch, len(w_loader))
        for step, ((xw, yw), (xa, ya)) in enumerate(zip(w_loader, alpha_batches)):
            xw, yw, xa, ya = (_to(t, device, rt.channels_last) for t in (xw, yw, xa, ya))
            mask_a, mask_w = step_fn.sample_masks(xa, xw)
            loss_a = step_fn.alpha_step(xa, ya, mask_a, xw, yw, mask_w, where=(epoch, step))
            loss_w = step_fn.weights_step(xw, yw, mask_w, where=(epoch, step))
            if loss_a is not None:
                sums.add("alpha_step_ce", loss_a.ce, len(ya))
                sums.add_rec(loss_a, mask_a, len(ya))
            sums.add("weights_ce", loss_w.ce, len(yw))
            sums.add("weights_correct", (loss_w.logits.argmax(1) == yw).sum(), len(yw), per_sample=False)
            sums.add_rec(loss_w, mask_w, len(yw))
            sums.steps += 1
        schedule.step()
        reporter.phase("epoch_trained", epoch=epoch + 1)
        # BatchNorm statistics of clean images (not the masked ones gathered while training),
        # the same on every rank, for the evaluation and the checkpoint.
        _estimate_clean_bn_statistics(objective.supernet, bn_loader, device, rt, clean_batch)
        collective.average_buffers(objective)

        alpha_ce, alpha_acc = _evaluate(objective, eval_loader, device, rt, collective)
        elapsed = time.perf_counter() - started
        reporter.phase("epoch_evaluated", epoch=epoch + 1)
        metrics = _epoch_metrics(epoch, lr, sums, collective, objective, alpha_ce, alpha_acc, elapsed)
        metrics.update(benchmark.metrics(objective.supernet.genotype()))
        # Every rank's α digest: gradients are averaged, so they must all agree, bit for bit.
        metrics["alpha_rank_digests"] = collective.gather_objects(_alpha_digest(objective))
        history.append(check_epoch_report(metrics))
        rng = collective.gather_objects(capture_rng())
        state = (
            _state(epoch + 1, history, objective, w_opt, a_opt, schedule, rng) if collective.is_main else None
        )
        if collective.is_main:
            log.info(
                "epoch %d/%d  weights_acc %.3f  alpha_acc %.3f  mim %.4f  entropy %.4f  "
                "param-free %d  genotype %s",  # the genotype itself is in the epoch tables
                epoch + 1, config.epochs, metrics["weights_acc"], alpha_acc, metrics["mim_loss"],
                metrics["alpha_entropy"], metrics["param_free_ops"], metrics["genotype_hash"],
            )
        reporter.report(metrics, state)

    return SearchOutcome(
        genotype=objective.supernet.genotype(),
        alphas={k: v.tolist() for k, v in objective.supernet.alphas().items()},
        history=history,
    )


class _Sums:
    """Per-epoch running sums kept on the device (no host sync per step)."""

    def __init__(self):
        self.values: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.steps = 0

    def add(self, name: str, value: torch.Tensor, n: int, per_sample: bool = True) -> None:
        v = value.detach().double() * (n if per_sample else 1)
        self.values[name] = self.values.get(name, 0) + v
        self.counts[name] = self.counts.get(name, 0) + n

    def add_rec(self, loss, mask, n: int) -> None:
        if mask is not None:
            self.add("mim_loss", loss.reconstruction, n)

    def means(self, collective: Collective, names: list[str]) -> dict[str, float]:
        flat = []
        for name in names:
            flat += [float(self.values.get(name, 0.0)), float(self.counts.get(name, 0))]
        flat = collective.sum(flat)
        return {
            name: (flat[2 * i] / flat[2 * i + 1] if flat[2 * i + 1] else 0.0)
            for i, name in enumerate(names)
        }


def _alpha_batches(loader, sampler, epoch: int, steps: int):
    """At least `steps` α-split batches: the split is read in order and restarted, reshuffled,
    when it runs out (as DARTS's `next(iter(valid_queue))`), so a weight split longer than
    the α split (`train_portion` > 0.5) is still read whole each epoch."""
    passes = math.ceil(steps / len(loader))
    for restart in range(passes):
        sampler.set_epoch(epoch * passes + restart)
        yield from loader


@torch.no_grad()
def _estimate_clean_bn_statistics(supernet: nn.Module, loader, device, rt, batch_size: int) -> None:
    """Replace the supernet's BatchNorm running statistics by the cumulative average over
    clean (unmasked) weight-split batches. The statistics gathered during the epoch come from
    masked images; evaluated with those, a higher mask ratio would score lower whatever the
    architecture. Normalisation in training uses batch statistics, so training is unchanged."""
    norms = [m for m in supernet.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    momenta = [m.momentum for m in norms]
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        supernet.train()
        for x, _ in itertools.islice(loader, max(1, BN_ESTIMATE_IMAGES // batch_size)):
            with _autocast(device, rt.bf16):
                supernet(_to(x, device, rt.channels_last))
    finally:  # training goes on with its own momentum, whatever stopped the estimate
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum


@torch.no_grad()
def _evaluate(objective: SearchObjective, loader, device, rt, collective: Collective) -> tuple[float, float]:
    """Clean (unmasked) α-split CE and accuracy in eval mode, with BatchNorm statistics of
    clean images: the sweep's default objective."""
    objective.eval()
    ce_sum, correct, count = 0.0, 0.0, 0.0
    for x, y in loader:
        x, y = _to(x, device, rt.channels_last), _to(y, device, False)
        with _autocast(device, rt.bf16):
            logits, _ = objective.supernet(x)
        ce_sum += torch.nn.functional.cross_entropy(logits.float(), y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    objective.train()
    ce_sum, correct, count = collective.sum([ce_sum, correct, count])
    return ce_sum / max(count, 1), correct / max(count, 1)


def _epoch_metrics(epoch, lr, sums, collective, objective, alpha_ce, alpha_acc, elapsed) -> dict:
    means = sums.means(collective, ["weights_ce", "weights_correct", "alpha_step_ce", "mim_loss"])
    genotype = objective.supernet.genotype()
    alphas = objective.supernet.alphas()
    images = collective.sum([float(sums.counts.get("weights_ce", 0) + sums.counts.get("alpha_step_ce", 0))])[0]
    return {
        "epoch": epoch + 1,
        "lr": lr,
        "weights_ce": means["weights_ce"],
        "weights_acc": means["weights_correct"],
        "alpha_step_ce": means["alpha_step_ce"],
        "alpha_ce": alpha_ce,
        "alpha_acc": alpha_acc,
        "mim_loss": means["mim_loss"],
        "mim_active": objective.mim is not None and objective.mim_config.active,
        "alpha_entropy": alpha_entropy(alphas),
        "alpha_top_weight": alpha_top_weight(alphas),
        "param_free_ops": genotype.num_parameter_free_ops(),
        "genotype": genotype.to_dict(),
        "genotype_hash": genotype.key,
        "alphas": {k: v.tolist() for k, v in alphas.items()},
        "weight_steps": sums.steps,
        "epoch_time_s": elapsed,
        "images_per_s": images / elapsed if elapsed > 0 else 0.0,
    }


def _alpha_digest(objective: SearchObjective) -> str:
    h = hashlib.sha256()
    for a in objective.arch_parameters():
        h.update(a.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _state(epoch, history, objective, w_opt, a_opt, schedule, rng_per_rank) -> dict:
    return {
        "epoch": epoch,
        "history": [dict(m) for m in history],
        "objective": objective.state_dict(),
        "w_opt": w_opt.state_dict(),
        "a_opt": a_opt.state_dict(),
        "schedule": schedule.state_dict(),
        "rng": rng_per_rank,
    }


def _to(t: torch.Tensor, device, channels_last: bool) -> torch.Tensor:
    t = t.to(device, non_blocking=True)
    if channels_last and t.dim() == 4:
        t = t.contiguous(memory_format=torch.channels_last)
    return t


def _autocast(device: torch.device, bf16: bool):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)
