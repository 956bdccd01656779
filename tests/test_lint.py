"""evalib.lint: each lecture rule fires on a model that breaks it, and only there."""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from evalib import LectureNet, lint, summary
from evalib.design.lint import RULES


def rules(model, size=(1, 28, 28)):
    return {(w.rule, w.layer) for w in lint(model, size)}


def test_quiz_bug_is_the_only_warning_on_the_lecture_network():
    found = lint(LectureNet(final_relu=True), (1, 28, 28))
    assert [(w.rule, w.layer) for w in found] == [("final-activation", "relu_6")]
    assert "conv7" in found[0].message and "negative" in found[0].message
    assert lint(LectureNet(final_relu=False), (1, 28, 28)) == []


class ScoresThroughModuleActivation(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)
        self.out_act = nn.Sigmoid()

    def forward(self, x):
        x = self.gap(self.features(x)).flatten(1)
        return F.log_softmax(self.out_act(self.fc(x)), dim=1)


def test_final_activation_is_found_through_modules_and_linear_layers():
    assert ("final-activation", "out_act") in rules(ScoresThroughModuleActivation(), (1, 8, 8))


def test_pooling_rules():
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(3, 3),  # too early and 3x3
        nn.Conv2d(8, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(8, 10, 1),  # close to the output
    )
    found = rules(net, (1, 64, 64))
    assert ("pool-window", "2") in found
    assert ("pool-too-early", "2") in found
    assert ("pool-near-output", "9") in found
    assert not any(rule == "pool-window" and layer == "9" for rule, layer in found)


def test_small_final_map_and_small_rf():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=4), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )
    found = rules(net, (3, 64, 64))
    s = summary(net, (3, 64, 64))
    assert s["6"].rf == 13 + 3 * 16  # the global pool sees all of a 4x4 map ...
    assert ("final-map-too-small", "6") in found  # ... but 4x4 is below 7x7 for 64x64 inputs
    assert ("rf-smaller-than-input", "5") in found  # and the last map sees 13x13 of 64x64


def test_missing_activation_between_convolutions():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.ReLU(), nn.Conv2d(4, 10, 24))
    found = rules(net)
    assert ("missing-activation", "0") in found
    assert not any(layer in ("1", "3") for rule, layer in found if rule == "missing-activation")


def test_every_rule_has_a_statement():
    fired = set()
    for model, size in [
        (LectureNet(), (1, 28, 28)),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(3), nn.Conv2d(4, 10, 3)), (1, 28, 28)),
        (nn.Sequential(nn.Conv2d(1, 4, 3, stride=8), nn.ReLU(), nn.Conv2d(4, 4, 3)), (1, 28, 28)),
    ]:
        fired |= {w.rule for w in lint(model, size)}
    assert fired <= set(RULES)
    assert {"final-activation", "pool-window", "missing-activation", "rf-smaller-than-input"} <= fired
