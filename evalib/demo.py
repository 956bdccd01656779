"""The library part of ``make demo``: the shape arithmetic, a network summarized and checked.

Run with ``python -m evalib.demo``. It prints a chain of 3x3 convolutions, two pooling
plans, the summary of PyTorch's classic MNIST network (shapes, parameters,
RF, jump), and the design-rule warnings of a network that breaks some of them. The
numbers are not those the assignments ask for.
"""
from __future__ import annotations

import torch.nn as nn

from . import ClassicNet, format_chain, layers_for_rf, lint, plan_to_one, shrink_chain, summary


def main() -> None:
    chain = shrink_chain(31)
    print("== 3x3 convolutions from 31x31 ==")
    print(format_chain(chain))
    print(f"{len(chain) - 1} convolutions; RF 15 needs {layers_for_rf(15)} stacked 3x3 layers\n")

    print("== Reaching 1x1 with max pooling ==")
    small = plan_to_one(64)
    print(f"64x64, two convolutions before each pool: {small.convolutions} convolutions\n  {small}")
    lecture = plan_to_one(400, convs_before_pool=5, max_pools=4)
    print(f"400x400, blocks of 5 and four pools: {lecture.convolutions} convolutions\n  {lecture}\n")

    print("== PyTorch's classic MNIST example (evalib.ClassicNet) ==")
    model = ClassicNet()
    s = summary(model, (1, 28, 28))
    print(s)
    print()
    print("Design-rule warnings (evalib.lint):")
    for warning in lint(model, (1, 28, 28), summary_=s):
        print(f"  - {warning}")
    crowded = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(3), nn.Conv2d(8, 10, 8))
    print("A network that pools with a 3x3 window right after its first convolution:")
    for warning in lint(crowded, (1, 28, 28)):
        print(f"  - {warning}")


if __name__ == "__main__":
    main()
