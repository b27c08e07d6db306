"""The second-order α gradient against finite differences of the unrolled objective."""

import torch
from helpers import run_on_two_ranks

from search_space import build_supernet
from trainables.config import MimConfig
from trainables.objective import SearchObjective
from trainables.second_order import unrolled_alpha_gradients


def test_unrolled_gradient_matches_finite_differences():
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    try:
        supernet = build_supernet("nb201", num_classes=3, channels=2, layers=1)
        mim = MimConfig(mask_ratio=0.5, patch_size=2, decoder_depth=0, decoder_width=4)
        objective = SearchObjective(supernet, mim, seed=0).double()
        with torch.no_grad():
            for a in objective.arch_parameters():
                a.normal_(0, 0.5)
        x_train, y_train = torch.randn(4, 3, 4, 4), torch.randint(0, 3, (4,))
        x_val, y_val = torch.randn(4, 3, 4, 4), torch.randint(0, 3, (4,))
        mask_train = objective.mim.sample_mask(x_train)
        mask_val = objective.mim.sample_mask(x_val)
        lr, wd = 0.1, 3e-4
        weights = objective.weight_parameters()
        grads, _ = unrolled_alpha_gradients(
            objective, (x_train, y_train, mask_train), (x_val, y_val, mask_val),
            lr, [None] * len(weights), 0.9, wd,
            fd_scale=1e-5,  # float64: a far smaller Hessian step than DARTS's 0.01
        )

        def unrolled_loss() -> float:
            loss_train = objective(x_train, y_train, mask_train).total
            g = torch.autograd.grad(loss_train, weights, allow_unused=True)
            originals = [w.detach().clone() for w in weights]
            with torch.no_grad():
                for w, gi in zip(weights, g):
                    w -= lr * ((0 if gi is None else gi) + wd * w)
            value = objective(x_val, y_val, mask_val).total.item()
            with torch.no_grad():
                for w, o in zip(weights, originals):
                    w.copy_(o)
            return value

        alpha = objective.arch_parameters()[0]
        h = 1e-5
        numeric = torch.zeros_like(alpha)
        checked = torch.randperm(alpha.numel())[:12].tolist()
        for idx in checked:
            with torch.no_grad():
                alpha.view(-1)[idx] += h
            up = unrolled_loss()
            with torch.no_grad():
                alpha.view(-1)[idx] -= 2 * h
            down = unrolled_loss()
            with torch.no_grad():
                alpha.view(-1)[idx] += h
            numeric.view(-1)[idx] = (up - down) / (2 * h)
        analytic = grads[0].view(-1)[checked]
        numeric = numeric.view(-1)[checked]
        first_order = torch.autograd.grad(objective(x_val, y_val, mask_val).total, alpha)[0]
        first_order = first_order.view(-1)[checked]
        # the plain first-order gradient is visibly off: the check really tests the unrolling
        assert not torch.allclose(first_order, numeric, rtol=1e-3, atol=1e-6)
        assert torch.allclose(analytic, numeric, rtol=1e-3, atol=1e-6), (analytic - numeric).abs().max()
    finally:
        torch.set_default_dtype(torch.float32)


def _second_order_alpha_grads(collective, shard: slice) -> list[torch.Tensor]:
    """The averaged second-order α gradient of a fixed tiny problem, this rank's `shard` of it.
    DARTS supernet in eval mode: no statistic depends on the batch, so shards add up exactly."""
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    mim = MimConfig(mask_ratio=0.5, patch_size=2, decoder_depth=0, decoder_width=4)
    objective = SearchObjective(build_supernet("darts", 3, 2, 1), mim, seed=0).double().eval()
    with torch.no_grad():
        for a in objective.arch_parameters():
            a.normal_(0, 0.5)
    x_train, y_train = torch.randn(4, 3, 4, 4), torch.randint(0, 3, (4,))
    x_val, y_val = torch.randn(4, 3, 4, 4), torch.randint(0, 3, (4,))
    mask_train, mask_val = objective.mim.sample_mask(x_train), objective.mim.sample_mask(x_val)
    weights = objective.weight_parameters()
    grads, _ = unrolled_alpha_gradients(
        objective, (x_train[shard], y_train[shard], mask_train[shard]),
        (x_val[shard], y_val[shard], mask_val[shard]), 0.5, [None] * len(weights), 0.9, 3e-4,
        collective=collective,
    )
    collective.average_tensors(grads)
    return grads


def _on_rank(rank: int, world_size: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    from trainables.distributed import Collective

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        half = 4 // world_size
        grads = _second_order_alpha_grads(Collective(rank, world_size), slice(rank * half, (rank + 1) * half))
        torch.save(grads, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_workers_on_half_batches_give_the_global_batch_gradient(tmp_path):
    from trainables.distributed import Collective

    try:
        whole = _second_order_alpha_grads(Collective(), slice(0, 4))
    finally:
        torch.set_default_dtype(torch.float32)
    run_on_two_ranks(_on_rank, 2, str(tmp_path / "rendezvous"), str(tmp_path))
    for rank in range(2):
        split = torch.load(tmp_path / f"rank{rank}.pt")
        for g_whole, g_split in zip(whole, split):
            assert torch.allclose(g_whole, g_split, rtol=1e-7, atol=1e-10), (g_whole - g_split).abs().max()
