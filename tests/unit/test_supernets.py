"""Supernets: α as parameters, the parameter split, forward/backward, features, genotype."""

import pytest
import torch

from search_space import (
    DartsGenotype,
    DartsSupernet,
    Nb201Genotype,
    Nb201Supernet,
    SearchSpaceError,
    build_supernet,
    count_parameters,
    derive_genotype,
)

TINY = {"darts": dict(channels=4, layers=3), "nb201": dict(channels=4, layers=1)}


def tiny(space, **kw):
    return build_supernet(space, num_classes=5, **{**TINY[space], **kw})


def test_alpha_parameters_and_split():
    torch.manual_seed(0)
    darts, nb = tiny("darts"), tiny("nb201")
    assert isinstance(darts, DartsSupernet) and isinstance(nb, Nb201Supernet)
    assert darts.space == "darts" and nb.space == "nb201"
    assert darts.alphas_normal.shape == darts.alphas_reduce.shape == (14, 8)
    assert nb.alphas_cell.shape == (6, 5)
    for net in (darts, nb):
        arch, weights = net.arch_parameters(), net.weight_parameters()
        assert all(isinstance(p, torch.nn.Parameter) for p in arch)
        ids = [id(p) for p in arch + weights]
        assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in net.parameters()}
        assert all(p.abs().max() < 0.01 for p in arch)  # 1e-3 * N(0, 1)
        assert count_parameters(net) == sum(p.numel() for p in weights)
        assert "alphas_" + next(iter(net.alphas())) in net.state_dict()
    assert set(darts.alphas()) == {"normal", "reduce"} and set(nb.alphas()) == {"cell"}
    assert set(darts.op_weights()) == {"normal", "reduce"}
    torch.testing.assert_close(nb.op_weights()["cell"].sum(-1), torch.ones(6))


def test_alphas_are_detached_copies_and_seeded():
    torch.manual_seed(3)
    a = tiny("darts")
    torch.manual_seed(3)
    b = tiny("darts")
    torch.testing.assert_close(a.alphas()["normal"], b.alphas()["normal"], rtol=0, atol=0)
    copy = a.alphas()["normal"]
    copy.add_(1.0)
    assert not copy.requires_grad and not torch.equal(copy, a.alphas_normal.detach())


@pytest.mark.parametrize("space", ["darts", "nb201"])
@pytest.mark.parametrize("size", [16, 32])
def test_forward_backward_and_features(space, size):
    torch.manual_seed(0)
    net = tiny(space)
    logits, features = net(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 5)
    assert features.shape == (2, net.feature_channels, size // net.feature_stride, size // net.feature_stride)
    (logits.sum() + features.mean()).backward()
    assert all(p.grad is not None for p in net.arch_parameters())
    assert net.classifier.weight.grad is not None


def test_feature_stride_of_default_sizes():
    assert build_supernet("darts", 10, 2, 8).feature_stride == 4
    assert build_supernet("nb201", 10, 2, 1).feature_stride == 4
    assert build_supernet("darts", 10, 2, 1).feature_stride == 2  # a single (reduction) cell


def test_odd_input_sizes_run():
    torch.manual_seed(0)
    logits, _ = tiny("darts")(torch.randn(1, 3, 15, 15))
    assert logits.shape == (1, 5)


def test_genotype_follows_alphas():
    torch.manual_seed(0)
    net = tiny("darts")
    assert isinstance(net.genotype(), DartsGenotype)
    alphas = {"normal": torch.randn(14, 8), "reduce": torch.randn(14, 8)}
    net.set_alphas(alphas)
    assert net.genotype() == derive_genotype("darts", alphas)
    nb = tiny("nb201")
    nb.set_alphas({"cell": torch.eye(6, 5)})
    assert isinstance(nb.genotype(), Nb201Genotype)
    assert nb.genotype().ops[:5] == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    with pytest.raises(SearchSpaceError):
        nb.set_alphas({"cell": torch.zeros(6, 4)})


def test_in_channels():
    torch.manual_seed(0)
    logits, _ = build_supernet("nb201", 3, 4, 1, in_channels=1)(torch.randn(1, 1, 16, 16))
    assert logits.shape == (1, 3)


@pytest.mark.parametrize(
    "kwargs",
    [dict(space="darts", num_classes=10, channels=0, layers=8),
     dict(space="darts", num_classes=10, channels=16, layers=-1),
     dict(space="nb201", num_classes=10, channels=-16, layers=5),
     dict(space="nb201", num_classes=0, channels=16, layers=5),
     dict(space="nb201", num_classes=10, channels=16, layers=2.5),
     dict(space="hat", num_classes=10, channels=16, layers=5)],
)
def test_bad_sizes_raise(kwargs):
    with pytest.raises(SearchSpaceError):
        build_supernet(**kwargs)
