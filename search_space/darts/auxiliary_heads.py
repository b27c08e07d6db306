"""DARTS's auxiliary classifiers, attached two thirds of the way up during training only.

Faithful to DARTS at its own sizes (8x8 input on CIFAR, 7x7 on ImageNet). Where the input
is too small for the 5x5 pooling to leave 2x2, the pooling falls back to an adaptive 2x2
average, and anything left larger than 1x1 after the 2x2 conv is averaged away, so other
image sizes run too; the parameters are the same either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class AuxiliaryHead(nn.Module):
    """ReLU, AvgPool 5 (stride 3 CIFAR / 2 ImageNet), 1x1 conv 128, BN, ReLU, 2x2 conv 768,
    [BN,] ReLU, linear. ImageNet's head has no BN after the 768 conv, as in DARTS."""

    def __init__(self, channels: int, num_classes: int, pool_stride: int, bn_768: bool) -> None:
        super().__init__()
        self.pool_stride = pool_stride
        self.reduce = nn.Sequential(
            nn.Conv2d(channels, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=False)
        )
        layers: list[nn.Module] = [nn.Conv2d(128, 768, 2, bias=False)]
        if bn_768:
            layers.append(nn.BatchNorm2d(768))
        layers.append(nn.ReLU(inplace=False))
        self.expand = nn.Sequential(*layers)
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        if (min(x.shape[-2:]) - 5) // self.pool_stride + 1 >= 2:
            x = F.avg_pool2d(x, 5, stride=self.pool_stride, padding=0, count_include_pad=False)
        else:
            x = F.adaptive_avg_pool2d(x, 2)
        x = self.expand(self.reduce(x))
        if x.shape[-1] != 1 or x.shape[-2] != 1:
            x = F.adaptive_avg_pool2d(x, 1)
        return self.classifier(torch.flatten(x, 1))


def auxiliary_head_cifar(channels: int, num_classes: int) -> AuxiliaryHead:
    return AuxiliaryHead(channels, num_classes, pool_stride=3, bn_768=True)


def auxiliary_head_imagenet(channels: int, num_classes: int) -> AuxiliaryHead:
    return AuxiliaryHead(channels, num_classes, pool_stride=2, bn_768=False)
