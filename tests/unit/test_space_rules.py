"""Small public rules of the search spaces: the feature stride and the α-separation metric."""

import math

import pytest
import torch

from search_space import alpha_top_weight, build_supernet, feature_stride


@pytest.mark.parametrize("space, layers", [("darts", 1), ("darts", 2), ("darts", 3), ("darts", 5), ("darts", 8), ("nb201", 1)])
def test_feature_stride_is_the_supernets(space, layers):
    supernet = build_supernet(space, 10, 2, layers)
    assert feature_stride(space, layers) == supernet.feature_stride
    size = 4 * feature_stride(space, layers)
    _, features = supernet(torch.randn(1, 3, size, size))
    assert features.shape[-1] * feature_stride(space, layers) == size


def test_alpha_top_weight():
    assert alpha_top_weight({"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8)}) == pytest.approx(1 / 8)
    # softmax of (ln 3, 0, 0) is (0.6, 0.2, 0.2); a uniform row gives 1/3
    rows = torch.tensor([[math.log(3.0), 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert alpha_top_weight({"cell": rows}) == pytest.approx((0.6 + 1 / 3) / 2)
    assert alpha_top_weight({"a": rows[:1], "b": rows[1:]}) == pytest.approx((0.6 + 1 / 3) / 2)
