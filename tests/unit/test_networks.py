"""Discrete networks: the papers' parameter counts, forward/backward, auxiliary, drop path."""

import pytest
import torch

from search_space import (
    PUBLISHED_GENOTYPES,
    Nb201Genotype,
    NetworkCIFAR,
    NetworkImageNet,
    SearchSpaceError,
    build_network,
    count_macs,
    count_parameters,
)
from search_space.layers import Identity

V2 = PUBLISHED_GENOTYPES["DARTS_V2"]


def test_darts_v2_cifar_has_the_published_parameter_count():
    net = build_network("darts", V2, 10, 36, 20, auxiliary=True)
    assert isinstance(net, NetworkCIFAR)
    assert count_parameters(net) == 3_349_342  # aux head excluded (docs/method.md)
    assert sum(p.numel() for p in net.parameters()) > 3_349_342


def test_darts_v2_imagenet_mobile_parameter_count():
    net = build_network("darts", V2, 1000, 48, 14, auxiliary=True, family="imagenet")
    assert isinstance(net, NetworkImageNet)
    assert count_parameters(net) == 4_718_752  # DARTS's ImageNet log: 4.718752 MB


def test_nb201_largest_cell_matches_the_benchmark():
    # every edge nor_conv_3x3, C=16, N=5: the benchmark's largest CIFAR-10 network
    # (1.53 M parameters, 220.11 M "FLOPs", which the benchmark counts as multiply-adds).
    net = build_network("nb201", Nb201Genotype(("nor_conv_3x3",) * 6), 10, 16, 5)
    assert count_parameters(net) == 1_531_546
    assert count_macs(net, (3, 32, 32)) == pytest.approx(220.11e6, rel=1e-3)


def test_macs_are_flops_over_two_and_batch_scaled():
    torch.manual_seed(0)
    net = build_network("nb201", "NB201_RESNET", 10, 4, 1)
    one = count_macs(net, (1, 3, 16, 16))
    assert one > 0 and count_macs(net, (2, 3, 16, 16)) == 2 * one
    lin = torch.nn.Linear(7, 3)
    assert count_macs(lin, (1, 7)) == 21
    assert net.training  # mode restored


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("name", ["DARTS_V2", "PC_DARTS", "DrNAS"])
def test_darts_cifar_forward_backward_with_auxiliary(name, size):
    torch.manual_seed(0)
    net = build_network("darts", name, 5, 4, 3, auxiliary=True, drop_path_prob=0.2)
    logits, aux = net(torch.randn(2, 3, size, size))
    assert logits.shape == aux.shape == (2, 5)
    (logits.sum() + 0.4 * aux.sum()).backward()
    assert net.auxiliary_head.classifier.weight.grad is not None
    net.eval()
    logits, aux = net(torch.randn(2, 3, size, size))
    assert aux is None and logits.shape == (2, 5)


def test_darts_imagenet_forward_backward():
    torch.manual_seed(0)
    net = build_network("darts", V2, 7, 4, 3, auxiliary=True, family="imagenet")
    logits, aux = net(torch.randn(1, 3, 64, 64))
    assert logits.shape == aux.shape == (1, 7)
    logits.sum().backward()


@pytest.mark.parametrize("size", [16, 32])
def test_nb201_forward_backward(size):
    torch.manual_seed(0)
    net = build_network(
        "nb201",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
        5, 4, 1,
    )
    logits, aux = net(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 5) and aux is None
    logits.sum().backward()


def test_drop_path_only_in_training_and_spares_identity():
    torch.manual_seed(0)
    net = build_network("darts", V2, 5, 4, 3)
    x = torch.randn(4, 3, 16, 16)
    net.eval()
    reference = net(x)[0]
    net.drop_path_prob = 0.5
    torch.testing.assert_close(net(x)[0], reference)  # eval: no drop path
    cell = net.cells[0]
    assert any(isinstance(op, Identity) for op in cell.ops)
    cell.train()
    s = torch.randn(4, 12, 8, 8)
    torch.manual_seed(1)
    dropped = cell(s, s, 0.5)
    torch.manual_seed(1)
    kept = cell(s, s, 0.0)
    assert not torch.allclose(dropped, kept)


@pytest.mark.parametrize(
    "kwargs",
    [dict(space="darts", genotype="DARTS_V2", num_classes=10, channels=0, layers=20),
     dict(space="darts", genotype="DARTS_V2", num_classes=10, channels=36, layers=0),
     dict(space="darts", genotype="NO_SUCH_CELL", num_classes=10, channels=36, layers=20),
     dict(space="nb201", genotype="DARTS_V2", num_classes=10, channels=16, layers=5),
     dict(space="darts", genotype=Nb201Genotype(("none",) * 6), num_classes=10, channels=16, layers=5),
     dict(space="nb201", genotype="NB201_RESNET", num_classes=10, channels=16, layers=5, auxiliary=True),
     dict(space="darts", genotype="DARTS_V2", num_classes=10, channels=36, layers=20, family="svhn"),
     dict(space="darts", genotype="DARTS_V2", num_classes=10, channels=36, layers=20, drop_path_prob=1.0)],
)
def test_bad_network_requests_raise(kwargs):
    with pytest.raises(SearchSpaceError):
        build_network(**kwargs)
