"""The fast MixedOp / supernet compute what the straightforward ones compute (orchestrator.bench.reference_supernet):
same outputs, features and gradients (α and weights), same state_dict, and no more saved activations."""

import copy

import pytest
import torch

from orchestrator.bench.reference_supernet import ReferenceMixedOp, reference_copy
from orchestrator.bench.run import BenchSpec, build_variants, make_batches, saved_tensor_peak_bytes
from search_space import MixedOp, build_supernet, get_space
from trainables.config import SearchConfig

TOL = dict(rtol=1e-4, atol=1e-5)


def _reference_op(op: MixedOp) -> MixedOp:
    ref = copy.deepcopy(op)
    ref.__class__ = ReferenceMixedOp
    return ref


@pytest.mark.parametrize("space,n_ops", [("darts", 8), ("nb201", 5)])
@pytest.mark.parametrize("stride", [1, 2])
def test_mixed_op_matches_reference(space, n_ops, stride):
    torch.manual_seed(0)
    fast = MixedOp(get_space(space).search_op_table, 4, stride)
    ref = _reference_op(fast)
    x = torch.randn(3, 4, 7, 7)
    alpha = torch.randn(n_ops, requires_grad=True)
    outs = []
    for op in (fast, ref):
        xi = x.clone().requires_grad_()
        y = op(xi, torch.softmax(alpha, 0))
        loss = (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum()
        grads = torch.autograd.grad(loss, [xi, alpha, *op.parameters()])
        outs.append((y, grads, [b.clone() for b in op.buffers()]))
    (y1, g1, b1), (y2, g2, b2) = outs
    side = -(-7 // stride)  # ceil, odd sizes included
    assert y1.shape == y2.shape == (3, 4, side, side)
    torch.testing.assert_close(y1, y2, **TOL)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, **TOL)
    for a, b in zip(b1, b2):  # BN running statistics updated alike
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, TOL), (torch.float64, dict(rtol=1e-10, atol=1e-12))])
@pytest.mark.parametrize("space,layers", [("darts", 3), ("nb201", 1)])
def test_supernet_matches_reference(space, layers, dtype, tol):
    """float64 shows the math is the same; float32 only differs by summation order."""
    torch.manual_seed(1)
    fast = build_supernet(space, 5, 4, layers).to(dtype)
    ref = reference_copy(fast)
    assert list(fast.state_dict()) == list(ref.state_dict())
    assert all(a.shape == b.shape for a, b in zip(fast.parameters(), ref.parameters()))
    x, y = torch.randn(4, 3, 8, 8, dtype=dtype), torch.randint(0, 5, (4,))
    results = []
    for net in (fast, ref):
        logits, features = net(x)
        loss = torch.nn.functional.cross_entropy(logits, y) + features.square().mean()
        names, params = zip(*net.named_parameters())
        results.append((logits, features, dict(zip(names, torch.autograd.grad(loss, params)))))
    (l1, f1, g1), (l2, f2, g2) = results
    torch.testing.assert_close(l1, l2, **tol)
    torch.testing.assert_close(f1, f2, **tol)
    assert g1.keys() == g2.keys() and any(k.startswith("alphas_") for k in g1)
    for name in g1:
        torch.testing.assert_close(g1[name], g2[name], **tol, msg=name)


def test_reference_copy_leaves_the_original_fast():
    net = build_supernet("darts", 5, 4, 1)
    ref = reference_copy(net)
    assert net.channels_last_on_cpu and not ref.channels_last_on_cpu
    assert {type(m) for m in net.modules()} >= {MixedOp} and ReferenceMixedOp not in {type(m) for m in net.modules()}
    assert ReferenceMixedOp in {type(m) for m in ref.modules()}


@pytest.mark.parametrize("space,layers", [("darts", 1), ("nb201", 1)])
def test_fast_step_saves_no_more_activations_than_reference(space, layers):
    """One cell a stage: a DARTS reduction cell has MixedOps of both strides."""
    cfg = SearchConfig.model_validate({
        "model": {"space": space, "channels": 4, "layers": layers},
        "data": {"dataset": "synthetic", "image_size": 8, "batch_size": 4},
        "mim": {"patch_size": 2},
    })
    spec = BenchSpec(cfg, 8, compare_reference=True)
    variants = {v.name: v for v in build_variants(spec)}
    batch = make_batches(spec)
    fast = saved_tensor_peak_bytes(variants["plain"], *batch)
    ref = saved_tensor_peak_bytes(variants["reference"], *batch)
    assert 0 < fast <= ref
