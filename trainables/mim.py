"""Masked image modeling for the supernet (docs/method.md): patch masks, decoder, masked-pixel MSE.

The mask is sampled once per batch and passed around explicitly, so that a second-order step
evaluates the same masked image several times, and tests can hand-make one.
"""

from __future__ import annotations

import torch
from torch import nn

from trainables.config import MimConfig


def sample_patch_mask(
    batch: int, height: int, width: int, patch_size: int, mask_ratio: float, device=None
) -> torch.Tensor:
    """Bool [B, H/p, W/p]: for each image, round(mask_ratio * patches) patches drawn uniformly
    without replacement (argsort of uniform noise), from torch's global RNG."""
    gh, gw = height // patch_size, width // patch_size
    num_patches = gh * gw
    num_masked = round(mask_ratio * num_patches)
    noise = torch.rand(batch, num_patches, device=device)
    chosen = noise.argsort(dim=1)[:, :num_masked]
    mask = torch.zeros(batch, num_patches, dtype=torch.bool, device=device)
    mask.scatter_(1, chosen, True)
    return mask.view(batch, gh, gw)


def full_precision(t: torch.Tensor) -> torch.Tensor:
    """Losses are computed in at least float32, also under bf16 autocast."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def patch_to_pixel_mask(patch_mask: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Bool [B, 1, H, W] from a patch mask [B, H/p, W/p]."""
    pix = patch_mask.repeat_interleave(patch_size, 1).repeat_interleave(patch_size, 2)
    return pix.unsqueeze(1)


def masked_mse(
    prediction: torch.Tensor,
    target: torch.Tensor,
    pixel_mask: torch.Tensor,
    norm_target: bool = False,
    patch_size: int = 1,
) -> torch.Tensor:
    """Mean squared error over masked pixels only (all channels of each masked pixel).

    With `norm_target`, each patch of the target is normalised to zero mean and unit
    variance over its pixels and channels first (as in MAE).
    """
    if norm_target:
        target = _normalise_patches(target, patch_size)
    weight = pixel_mask.to(prediction.dtype).expand_as(prediction)
    # An empty mask gives 0 / 1 = 0. No `if count == 0`: that branch would read the count on
    # the host (a device sync in every MIM step) and break a torch.compile graph in two.
    return ((prediction - target) ** 2 * weight).sum() / weight.sum().clamp_min(1)


def _normalise_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    b, c, h, w = x.shape
    patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    patches = patches.reshape(b, h // p, w // p, c * p * p)
    mean = patches.mean(-1, keepdim=True)
    var = patches.var(-1, keepdim=True, unbiased=False)
    patches = (patches - mean) / (var + 1e-6).sqrt()
    patches = patches.reshape(b, h // p, w // p, c, p, p).permute(0, 3, 1, 4, 2, 5)
    return patches.reshape(b, c, h, w)


class MimDecoder(nn.Module):
    """`depth` x (Conv3x3 -> BN -> ReLU) at `width`, then 1x1 conv to 3*s^2 and PixelShuffle(s)."""

    def __init__(self, in_channels: int, stride: int, depth: int, width: int, out_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for _ in range(depth):
            layers += [
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        layers += [nn.Conv2d(channels, out_channels * stride * stride, 1), nn.PixelShuffle(stride)]
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.body(features)


class MimHead(nn.Module):
    """What αDARTS adds to a supernet: the mask fill and the decoder.

    Its parameters are trained with the network weights (never by the α optimiser) and are
    thrown away after the search.
    """

    def __init__(self, config: MimConfig, feature_channels: int, feature_stride: int):
        super().__init__()
        self.config = config
        self.decoder = MimDecoder(
            feature_channels, feature_stride, config.decoder_depth, config.decoder_width
        )
        # `zero` fills with 0, the dataset mean after normalisation; `token` learns the fill.
        self.token = nn.Parameter(torch.zeros(3)) if config.fill == "token" else None

    def sample_mask(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        return sample_patch_mask(b, h, w, self.config.patch_size, self.config.mask_ratio, x.device)

    def apply_mask(self, x: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        pixel_mask = patch_to_pixel_mask(patch_mask, self.config.patch_size)
        fill = (
            self.token.view(1, -1, 1, 1).to(x.dtype)
            if self.token is not None
            else x.new_zeros(())
        )
        return torch.where(pixel_mask, fill, x)

    def reconstruction_loss(
        self, features: torch.Tensor, x: torch.Tensor, patch_mask: torch.Tensor
    ) -> torch.Tensor:
        prediction = full_precision(self.decoder(features))
        pixel_mask = patch_to_pixel_mask(patch_mask, self.config.patch_size)
        return masked_mse(
            prediction, full_precision(x), pixel_mask, self.config.norm_target, self.config.patch_size
        )
