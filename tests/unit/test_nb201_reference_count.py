"""NAS-Bench-201's search supernet has the reference implementation's parameter count."""

import json

import torch

from orchestrator.cli import main
from search_space import build_network, build_supernet, count_parameters

#: See `test_nb201_supernet_count_follows_the_reference` for the arithmetic.
NB201_SUPERNET_CIFAR10 = 1_692_826


def test_nb201_supernet_count_follows_the_reference(capsys):
    """The reference (D-X-Y/AutoDL-Projects, xautodl/models/cell_operations.py) builds
    ReLUConvBN's conv with `bias=not affine`; the search cells use affine=False BN, so both
    `nor_conv` ops of every edge carry a conv bias. C=16, N=5, 10 classes:

    * stem: conv 3x3 3->16 (432) + BN (32) = 464
    * search cell of width C: 6 edges x (1x1 conv C*C + C bias, 3x3 conv 9*C*C + C bias),
      BN without weights, skip / avg pool / none weight-free: 60*C^2 + 12*C.
      C=16: 15,552; C=32: 61,824; C=64: 246,528; 5 cells each: 1,619,520
    * residual blocks (affine BN, so no conv bias): 16->32: 3x3 convs 4,608 + 9,216, two BN
      64 + 64, 1x1 shortcut 512 = 14,464; 32->64: 18,432 + 36,864 + 128 + 128 + 2,048 = 57,600
    * last BN (64): 128; classifier 64*10 + 10 = 650
    Total 464 + 1,619,520 + 14,464 + 57,600 + 128 + 650 = 1,692,826; without the biases
    (the old count) it was 6,720 lower (6 edges x 2 convs x 5 cells x (16+32+64)).
    """
    assert main(["inspect", "--space", "nb201", "--supernet", "--dataset", "cifar10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["channels"], report["layers"], report["num_classes"]) == (16, 5, 10)
    assert report["params"] == NB201_SUPERNET_CIFAR10
    assert count_parameters(build_supernet("nb201", 10, 16, 5)) == NB201_SUPERNET_CIFAR10


def test_nb201_discrete_network_keeps_bias_free_convs():
    """Affine BN in the discrete network: no conv bias, the benchmark's 1,531,546 for the
    all-3x3 cell (unchanged by the supernet fix)."""
    net = build_network("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                        "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 10, 16, 5)
    assert count_parameters(net) == 1_531_546
    assert all(m.bias is None for m in net.modules() if isinstance(m, torch.nn.Conv2d))
