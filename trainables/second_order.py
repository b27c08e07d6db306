"""DARTS's second-order α gradient (Liu et al. 2019, eq. 7-8), with the MIM term inside.

    w'    = w - ξ (m + ∇w L_train(w, α) + λ w)          the virtual SGD step (momentum m)
    ∇α   ≈ ∇α L_val(w', α) - ξ (∇α L_train(w⁺, α) - ∇α L_train(w⁻, α)) / 2ε
    w±    = w ± ε ∇w' L_val(w', α),   ε = fd_scale / ‖∇w' L_val(w', α)‖  (DARTS: 0.01)

"w" is every weight the weight optimiser trains (supernet and decoder). The virtual weights
are substituted with `torch.func.functional_call`, so the model is never copied.

On several workers each rank holds a shard of both batches. What the virtual step uses is
averaged over ranks before it is used (the train gradient that makes w', and ∇w' L_val that
sets ε and w±), so every rank builds the same w' and w± and N workers compute the step of
the global batch (BatchNorm aside); the α gradient returned is still this rank's share, to
be averaged by the caller as in a first-order step.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from trainables.distributed import Collective
from trainables.objective import SearchObjective

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]  # (x, y, patch_mask)


def unrolled_alpha_gradients(
    objective: SearchObjective,
    train_batch: Batch,
    val_batch: Batch,
    lr: float,
    momentum_buffers: list[torch.Tensor | None],
    momentum: float,
    weight_decay: float,
    fd_scale: float = 0.01,
    collective: Collective = Collective(),
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(gradients for `objective.arch_parameters()`, the α-split loss at w')."""
    weights = objective.weight_parameters()
    alphas = objective.arch_parameters()
    names = {id(p): n for n, p in objective.named_parameters()}
    weight_names = [names[id(p)] for p in weights]

    def loss_with(weight_values: list[torch.Tensor], batch: Batch) -> torch.Tensor:
        params = dict(zip(weight_names, weight_values))
        return functional_call(objective, params, batch, strict=False).total

    # 1. the virtual step w -> w'
    grads = torch.autograd.grad(objective(*train_batch).total, weights, allow_unused=True)
    grads = _averaged(collective, weights, grads)
    with torch.no_grad():
        virtual = []
        for w, g, buf in zip(weights, grads, momentum_buffers):
            step = g + weight_decay * w
            if buf is not None:
                step = step + momentum * buf
            virtual.append((w - lr * step).detach().requires_grad_(True))

    # 2. the α-split loss at w', differentiated w.r.t. α and w'
    val_loss = loss_with(virtual, val_batch)
    outs = torch.autograd.grad(val_loss, alphas + virtual, allow_unused=True)
    alpha_grads = [torch.zeros_like(a) if g is None else g for a, g in zip(alphas, outs[: len(alphas)])]
    dvirtual = _averaged(collective, virtual, outs[len(alphas) :])

    # 3. the Hessian-vector product by central finite differences
    # ε stays a device tensor: reading the norm on the host would wait for the device
    norm = torch.sqrt(sum((d.double() ** 2).sum() for d in dvirtual))
    eps = fd_scale / norm.clamp_min(1e-12)
    with torch.no_grad():
        plus = [w + eps * d for w, d in zip(weights, dvirtual)]
        minus = [w - eps * d for w, d in zip(weights, dvirtual)]
    g_plus = torch.autograd.grad(loss_with(plus, train_batch), alphas, allow_unused=True)
    g_minus = torch.autograd.grad(loss_with(minus, train_batch), alphas, allow_unused=True)
    result = []
    for a, g, gp, gm in zip(alphas, alpha_grads, g_plus, g_minus):
        gp = torch.zeros_like(a) if gp is None else gp
        gm = torch.zeros_like(a) if gm is None else gm
        result.append(g - lr * (gp - gm) / (2 * eps))
    return result, val_loss.detach()


def _averaged(collective: Collective, params: list[torch.Tensor], grads) -> list[torch.Tensor]:
    """`grads` (None read as zeros) averaged over ranks, so every rank gets the same tensors."""
    grads = [torch.zeros_like(p) if g is None else g.detach().clone() for p, g in zip(params, grads)]
    collective.average_tensors(grads)
    return grads
