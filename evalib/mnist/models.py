"""The lecture's networks.

``LectureNet`` is the lecture's MNIST network, layer for layer (6,379,786
parameters). With ``final_relu=True`` (the default) it computes exactly what
the lecture handed out (:data:`LECTURE_FORWARD` is that code, to read);
``final_relu=False`` leaves out the ReLU after ``conv7``.

>>> sum(p.numel() for p in LectureNet().parameters())
6379786

Lessons 4 and 5 add three more: ``LeanNet``, a small network built by the
lecture's own design rules; ``ClassicNet``, the well-known PyTorch MNIST example
architecture, as a baseline; and ``LectureNetFC``, the lecture network with
fully connected layers in place of its last convolution (what a student who
"adds fully connected layers" writes).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

# The networks; LECTURE_FORWARD below is text, imported by name where it is needed.
__all__ = ["LectureNet", "LectureNetFC", "LeanNet", "ClassicNet"]

#: The lecture network's ``forward`` as it was handed out, for reading. ``LectureNet()``
#: computes the same thing (a test compares the two on the same weights).
LECTURE_FORWARD = """\
def forward(self, x):
    x = self.pool1(F.relu(self.conv2(F.relu(self.conv1(x)))))
    x = self.pool2(F.relu(self.conv4(F.relu(self.conv3(x)))))
    x = F.relu(self.conv6(F.relu(self.conv5(x))))
    x = F.relu(self.conv7(x))
    x = x.view(-1, 10)
    return F.log_softmax(x)
"""


class LectureNet(nn.Module):
    """The lecture network: seven 3x3 convolutions and two 2x2 max pools, for 1x28x28 digits.

    ``final_relu=True`` (the default) is the code as handed out; ``False`` drops the ReLU after ``conv7``.
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
            x = F.relu(x)
        x = x.view(-1, 10)
        return F.log_softmax(x, dim=1)


# --- lessons 4 and 5: a lean design, a baseline, and a wrong fix -----------------------------


def _conv_bn_relu(c_in: int, c_out: int, padding: int = 0) -> list[nn.Module]:
    # BatchNorm supplies the shift, so the convolution needs no bias of its own.
    return [nn.Conv2d(c_in, c_out, 3, padding=padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class LeanNet(nn.Module):
    """A small MNIST network designed by the lecture's rules (42,298 parameters).

    Two 3x3 convolutions take the receptive field to 5 pixels, enough for the
    strokes of a 28x28 digit, before the first 2x2 max pool; two more before
    the second pool; two padded ones after it, so the last pool is well away
    from the prediction and the final 4x4 map sees 32x32 pixels, more than the
    whole image. Global average pooling then gives one value per channel and a
    1x1 convolution turns them into ten class scores, with no activation.

    Shapes: 28 > 26 > 24 | MP > 12 > 10 > 8 | MP > 4 > 4 > 4 | GAP > 1, 1x1 conv > 10 scores.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 32, 32, 32, 32)) -> None:
        super().__init__()
        w1, w2, w3, w4, w5, w6 = widths
        self.block1 = nn.Sequential(*_conv_bn_relu(1, w1), *_conv_bn_relu(w1, w2))
        self.pool1 = nn.MaxPool2d(2, 2)
        self.block2 = nn.Sequential(*_conv_bn_relu(w2, w3), *_conv_bn_relu(w3, w4))
        self.pool2 = nn.MaxPool2d(2, 2)
        self.block3 = nn.Sequential(*_conv_bn_relu(w4, w5, padding=1), *_conv_bn_relu(w5, w6, padding=1))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Conv2d(w6, 10, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.block1(x))
        x = self.pool2(self.block2(x))
        x = self.gap(self.block3(x))
        x = self.classifier(x)  # class scores: no activation after the last layer
        return F.log_softmax(x.flatten(1), dim=1)


class ClassicNet(nn.Module):
    """The architecture of PyTorch's classic MNIST example, as a baseline (1,199,882 parameters).

    Two unpadded 3x3 convolutions (32 and 64 channels), one 2x2 max pool,
    dropout, a 9216 > 128 fully connected layer, dropout, and 128 > 10.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(2)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(12 * 12 * 64, 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(self.pool(x))
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class LectureNetFC(LectureNet):
    """The lecture network with its last convolution replaced by fully connected layers.

    conv6's output (9,216 values) is flattened into ``fc1`` (9216 > 128) and
    ``fc2`` (128 > 10). With ``final_relu=True`` a ReLU follows ``fc2``, as one
    follows ``conv7`` in :class:`LectureNet`; a student who "adds fully connected
    layers" usually keeps the rest of the code as it was.
    """

    def __init__(self, final_relu: bool = True, hidden: int = 128) -> None:
        super().__init__(final_relu=final_relu)
        del self.conv7
        self.fc1 = nn.Linear(3 * 3 * 1024, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(F.relu(self.conv2(F.relu(self.conv1(x)))))
        x = self.pool2(F.relu(self.conv4(F.relu(self.conv3(x)))))
        x = F.relu(self.conv6(F.relu(self.conv5(x))))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        x = self.fc2(x)
        if self.final_relu:
            x = F.relu(x)
        return F.log_softmax(x, dim=1)
