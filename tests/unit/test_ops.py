"""Ops of both spaces: names and order, output shapes at every stride, odd and even sizes."""

import pytest
import torch

from search_space import (
    OPS_DARTS,
    OPS_NB201,
    MixedOp,
    get_space,
    SearchSpaceError,
    build_op,
    build_search_op,
    ops_for,
)
from search_space.layers import FactorizedReduce, Identity, drop_path


def test_op_order_is_methods_order():
    assert OPS_DARTS == (
        "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
        "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
    )
    assert OPS_NB201 == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert ops_for("darts") == OPS_DARTS and ops_for("nb201") == OPS_NB201
    assert get_space("darts").parameter_free_ops == {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"}
    assert get_space("nb201").parameter_free_ops == {"none", "avg_pool_3x3", "skip_connect"}


@pytest.mark.parametrize("space", ["darts", "nb201"])
@pytest.mark.parametrize("size", [7, 8, 15, 16])
@pytest.mark.parametrize("stride", [1, 2])
def test_every_op_keeps_or_halves_the_size(space, size, stride):
    x = torch.randn(2, 4, size, size)
    expected = size if stride == 1 else (size + 1) // 2
    for name in ops_for(space):
        for op in (build_op(space, name, 4, stride), build_search_op(space, name, 4, stride)):
            out = op(x)
            assert out.shape == (2, 4, expected, expected), (name, stride, size)


def test_parameter_free_ops_have_no_parameters_at_stride_one():
    for space in ("darts", "nb201"):
        for name in ops_for(space):
            count = sum(p.numel() for p in build_op(space, name, 4, 1).parameters())
            assert (count == 0) == (name in get_space(space).parameter_free_ops), name


def test_search_ops_use_bn_without_affine_and_pools_get_bn_in_darts():
    pool = build_search_op("darts", "max_pool_3x3", 4, 1)
    assert isinstance(pool[1], torch.nn.BatchNorm2d) and not pool[1].affine
    conv = build_search_op("darts", "sep_conv_3x3", 4, 1)
    assert all(not m.affine for m in conv.modules() if isinstance(m, torch.nn.BatchNorm2d))
    nb = build_search_op("nb201", "nor_conv_3x3", 4, 1)
    bns = [m for m in nb.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(not m.affine and not m.track_running_stats for m in bns)
    assert isinstance(build_op("darts", "skip_connect", 4, 1), Identity)
    assert isinstance(build_op("darts", "skip_connect", 4, 2), FactorizedReduce)


def test_factorized_reduce_matches_darts_on_even_sizes_and_handles_odd_channels():
    fr = FactorizedReduce(4, 6)
    x = torch.randn(1, 4, 8, 8)
    relu = torch.relu(x)
    expected = fr.bn(torch.cat([fr.conv_1(relu), fr.conv_2(relu[:, :, 1:, 1:])], dim=1))
    torch.testing.assert_close(fr(x), expected)
    assert FactorizedReduce(4, 5)(torch.randn(1, 4, 7, 7)).shape == (1, 5, 4, 4)


def test_mixed_op_is_the_weighted_sum_of_its_ops():
    torch.manual_seed(0)
    mixed = MixedOp(get_space("darts").search_op_table, 4, 1).eval()
    x = torch.randn(2, 4, 8, 8)
    weights = torch.softmax(torch.randn(len(OPS_DARTS)), dim=0)
    expected = sum(w * op(x) for w, op in zip(weights, mixed.ops))
    torch.testing.assert_close(mixed(x, weights), expected)


def test_drop_path_zeroes_whole_samples_and_rescales():
    torch.manual_seed(0)
    x = torch.ones(64, 2, 3, 3)
    out = drop_path(x, 0.5)
    per_sample = out.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample.min(1).values == per_sample.max(1).values).all()
    assert drop_path(x, 0.0) is x


@pytest.mark.parametrize(
    ("space", "name", "stride"),
    [("darts", "nor_conv_3x3", 1), ("nb201", "sep_conv_3x3", 1), ("mobilenet", "none", 1),
     ("darts", "none", 3)],
)
def test_bad_op_requests_raise(space, name, stride):
    with pytest.raises(SearchSpaceError):
        build_op(space, name, 4, stride)
