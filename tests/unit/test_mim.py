"""The MIM pieces: patch masks, the decoder's shape, masked-pixel MSE."""

import pytest
import torch

from trainables.config import MimConfig
from trainables.mim import MimHead, masked_mse, patch_to_pixel_mask, sample_patch_mask


def test_mask_draws_the_rounded_count_per_image():
    torch.manual_seed(0)
    mask = sample_patch_mask(batch=5, height=16, width=16, patch_size=4, mask_ratio=0.3)
    assert mask.shape == (5, 4, 4)
    assert mask.view(5, -1).sum(1).tolist() == [round(0.3 * 16)] * 5
    # independent per image
    assert len({tuple(m.flatten().tolist()) for m in mask}) > 1


def test_masked_mse_counts_only_masked_pixels():
    target = torch.zeros(1, 3, 4, 4)
    prediction = torch.zeros(1, 3, 4, 4)
    patch_mask = torch.tensor([[[True, False], [False, False]]])  # top-left 2x2 patch
    pixel_mask = patch_to_pixel_mask(patch_mask, 2)
    # error everywhere except the masked patch: the loss must stay 0
    prediction[..., 2:, :] = 5.0
    prediction[..., :, 2:] = 5.0
    assert masked_mse(prediction, target, pixel_mask).item() == 0.0
    # error of 2 on the masked patch only: mean over its 3*2*2 values is 4
    prediction[..., :2, :2] = 2.0
    assert masked_mse(prediction, target, pixel_mask).item() == pytest.approx(4.0)
    # half of the masked values wrong by 2: (6 * 4) / 12 = 2
    prediction[:, :, 0, :2] = 0.0
    assert masked_mse(prediction, target, pixel_mask).item() == pytest.approx(2.0)


def test_masked_mse_of_empty_mask_is_zero():
    x = torch.randn(2, 3, 4, 4)
    empty = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    assert masked_mse(x, x + 1, empty).item() == 0.0


def test_norm_target_normalises_each_patch():
    x = torch.randn(2, 3, 8, 8) * 5 + 3
    everything = torch.ones(2, 1, 8, 8, dtype=torch.bool)
    # predicting the per-patch-normalised target exactly gives 0; the raw target does not
    from trainables.mim import _normalise_patches

    normalised = _normalise_patches(x, 4)
    assert masked_mse(normalised, x, everything, norm_target=True, patch_size=4).item() < 1e-10
    assert masked_mse(x, x, everything, norm_target=True, patch_size=4).item() > 1.0


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_decoder_returns_full_resolution(depth):
    head = MimHead(MimConfig(decoder_depth=depth, decoder_width=8), feature_channels=12, feature_stride=4)
    out = head.decoder(torch.randn(2, 12, 4, 4))
    assert out.shape == (2, 3, 16, 16)
    n_convs = sum(isinstance(m, torch.nn.Conv2d) for m in head.decoder.modules())
    assert n_convs == depth + 1


def test_token_fill_is_learned_and_used():
    head = MimHead(MimConfig(fill="token", patch_size=2), feature_channels=4, feature_stride=2)
    with torch.no_grad():
        head.token.copy_(torch.tensor([1.0, 2.0, 3.0]))
    x = torch.zeros(1, 3, 4, 4)
    patch_mask = torch.tensor([[[False, True], [False, False]]])
    masked = head.apply_mask(x, patch_mask)
    assert masked[0, :, 0, 2].tolist() == [1.0, 2.0, 3.0]
    assert masked[0, :, 3, 0].tolist() == [0.0, 0.0, 0.0]
    assert head.token in set(head.parameters())
