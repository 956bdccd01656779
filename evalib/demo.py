"""The library part of ``make demo``: the lecture network annotated and checked.

Run with ``python -m evalib.demo``. It prints the 199-to-1 chain, the pooling
plans, the summary of the lecture network (shapes, parameters, RF, jump) and
the design-rule warnings with and without the quiz bug.
"""
from __future__ import annotations

from . import LectureNet, format_chain, layers_for_rf, lint, plan_to_one, shrink_chain, summary


def main() -> None:
    chain = shrink_chain(199)
    print("== 3x3 convolutions from 199x199 ==")
    print(format_chain(chain))
    print(f"{len(chain) - 1} convolutions; RF 21 needs {layers_for_rf(21)} stacked 3x3 layers\n")

    print("== Reaching 1x1 with max pooling ==")
    quiz = plan_to_one(100)
    print(f"100x100, quiz rules: {quiz.convolutions} convolutions\n  {quiz}")
    lecture = plan_to_one(400, convs_before_pool=5, max_pools=4)
    print(f"400x400, blocks of 5 and four pools: {lecture.convolutions} convolutions\n  {lecture}\n")

    print("== The lecture network, as handed out ==")
    model = LectureNet(final_relu=True)
    s = summary(model, (1, 28, 28))
    print(s)
    print()
    print("Design-rule warnings (evalib.lint):")
    for warning in lint(model, (1, 28, 28), summary_=s):
        print(f"  - {warning}")
    fixed = lint(LectureNet(final_relu=False), (1, 28, 28))
    print(f"After the one-line fix (no ReLU on conv7): {len(fixed)} warnings")


if __name__ == "__main__":
    main()
