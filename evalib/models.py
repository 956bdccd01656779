"""The lecture's networks.

``LectureNet`` is the session's MNIST network, layer for layer (6,379,786
parameters). With ``final_relu=True`` (the default, as handed out) it has the
quiz bug: a ReLU on the class scores before log-softmax. ``final_relu=False``
is the one-line fix.

>>> sum(p.numel() for p in LectureNet().parameters())
6379786
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["LectureNet"]


class LectureNet(nn.Module):
    """The lecture network: seven 3x3 convolutions and two 2x2 max pools.

    Shapes for a 1x28x28 digit: 28 > 28 > 28 | MP > 14 > 14 > 14 | MP > 7 > 5 > 3 > 1.
    """

    def __init__(self, final_relu: bool = True) -> None:
        super().__init__()
        self.final_relu = final_relu
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv4 = nn.Conv2d(128, 256, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.conv5 = nn.Conv2d(256, 512, 3)
        self.conv6 = nn.Conv2d(512, 1024, 3)
        self.conv7 = nn.Conv2d(1024, 10, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.conv2(F.relu(self.conv1(x)))))
        x = self.pool2(F.relu(self.conv4(F.relu(self.conv3(x)))))
        x = F.relu(self.conv6(F.relu(self.conv5(x))))
        x = self.conv7(x)
        if self.final_relu:
            x = F.relu(x)  # the bug: class scores can no longer be negative
        x = x.view(-1, 10)
        return F.log_softmax(x, dim=1)
