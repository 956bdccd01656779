"""Assignment 5's questions (evalib.exercises.a5_buggy_code): multiple choice read as a letter or an
option's exact text and nothing else, no oracle before grading, the known wrong diagnoses answered
after grading, the earlier answer name `normalise` still read, and the fixed network's requirements."""
from __future__ import annotations

import pytest

from autograders.source import read_source
from evalib.exercises import a5
from exercise_support import assert_full_marks_and_an_empty_release, handed_in, judge_all, run, solution_outcomes

A = "a5_buggy_code"
RIGHT = {"padding_1": "b", "minus_one": "c", "normalize": "a", "no_grad": "b", "tensor": "c", "diagnosis": "f"}
QUESTIONS = {"padding_1": a5.padding_1, "minus_one": a5.minus_one, "normalize": a5.normalize, "no_grad": a5.no_grad,
             "tensor": a5.tensor, "diagnosis": a5.diagnosis}


def judged(q, namespace):
    hidden = read_source(A).by_id(q.id).hidden
    return q.judge(q.probe_all(namespace, q.requests(hidden)), hidden)


@pytest.fixture(scope="module")
def solution():
    return solution_outcomes(A)


def test_the_solution_scores_full_marks_and_the_release_nothing(solution):
    assert_full_marks_and_an_empty_release(A, solution, 12)


def test_the_keys_agree_with_the_notebook():
    """The options the module reads are those the notebook shows; the key is an option."""
    source = read_source(A)
    text = " ".join(" ".join(c.source for c in source.cells).split())
    for name, q in QUESTIONS.items():
        for letter, option in q.parts[0].options.items():
            assert option in text, (name, letter)
        assert source.by_id(q.id).hidden["key"] in q.parts[0].options


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_a_choice_is_read_in_every_form(name):
    q, letter = QUESTIONS[name], RIGHT[name]
    option = q.parts[0].options[letter]
    for answer in (letter, letter.upper(), f"({letter})", f"{letter})", f" '{letter}' ", option, option.upper(),
                   f"({letter}) {option}"):
        assert judged(q, {name: answer}).state == "correct", answer


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_a_graded_check_is_no_oracle(name):
    q = QUESTIONS[name]
    outcomes = [q.check(letter) for letter in q.parts[0].options]
    assert {o.state for o in outcomes} == {"recorded"}
    assert all(not o.hint for o in outcomes)


def test_sentences_that_start_with_the_right_letter_earn_nothing():
    sentences = {"padding_1": "both sides get a pixel", "minus_one": "channels come after it", "normalize": "average and spread",
                 "no_grad": "because gradients are not needed", "tensor": "can be anything n-dimensional",
                 "diagnosis": "fully connected layers are missing at the end"}
    for name, sentence in sentences.items():
        assert sentence[0] == RIGHT[name]
        outcome = judged(QUESTIONS[name], {name: sentence})
        assert outcome.points == 0 and "not one of the options" in outcome.message, name
        assert "not one of the options" in QUESTIONS[name].check(sentence).message
    outcomes = judge_all(A, run(handed_in(A, {"code_quiz": "\n".join(f"{k} = {v!r}" for k, v in sentences.items() if k != "diagnosis"),
                                               "diagnosis": f"diagnosis = {sentences['diagnosis']!r}"})))
    assert sum(outcomes[q.id].points for q in QUESTIONS.values()) == 0


@pytest.mark.parametrize("letter, hint", [
    ("a", "only slows training"), ("b", "changes nothing about training"), ("c", "fully connected"),
    ("d", "harmless"), ("e", "only gives a warning"),
])
def test_the_known_wrong_diagnoses_get_their_hint_after_grading(letter, hint):
    outcome = judged(a5.diagnosis, {"diagnosis": letter})
    assert outcome.state == "wrong" and hint in outcome.hint
    assert a5.diagnosis.check(letter).hint == ""  # not before


def test_the_earlier_name_normalise_is_still_read():
    assert judged(a5.normalize, {"normalise": "a"}).state == "correct"
    assert judged(a5.normalize, {"normalize": None, "normalise": "(A)"}).state == "correct"
    assert judged(a5.normalize, {}).state == "not attempted"
    assert judged(a5.normalize, {"normalize": "b"}).message.startswith("normalize ")


# --- the fixed network -------------------------------------------------------------------------------------
NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class FixedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv4 = nn.Conv2d(128, 256, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.conv5 = nn.Conv2d(256, 512, 3)
        self.conv6 = nn.Conv2d(512, 1024, 3)
        self.conv7 = nn.Conv2d(1024, 10, 3)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv2(F.relu(self.conv1(x)))))
        x = self.pool2(F.relu(self.conv4(F.relu(self.conv3(x)))))
        x = F.relu(self.conv6(F.relu(self.conv5(x))))
        x = LAST
        return END
'''


def _fixed(last="self.conv7(x)", end="F.log_softmax(x.view(-1, 10), dim=1)", replace=None):
    code = NET.replace("LAST", last).replace("END", end)
    for old, new in (replace or {}).items():
        code = code.replace(old, new)
    namespace: dict = {}
    exec(code, namespace)
    return namespace["FixedNet"]


def _fixed_outcome(cls):
    return judged(a5.fixed_net, {"FixedNet": cls}), a5.fixed_net.check(cls)


def test_a_right_fix_scores_full_marks():
    outcome, check = _fixed_outcome(_fixed())
    assert (outcome.state, outcome.points) == ("correct", 4) and check.state == "recorded"
    other_call = _fixed(end="torch.log_softmax(x.view(-1, 10), 1)")  # not through F.log_softmax
    assert _fixed_outcome(other_call)[0].points == 4


def test_log_softmax_over_the_batch_axis_gets_a_hint_and_loses_that_point():
    outcome, check = _fixed_outcome(_fixed(end="F.log_softmax(x.view(-1, 10), dim=0)"))
    assert outcome.points == 3 and "batch axis" in outcome.message and "dim=1" in outcome.hint
    assert "batch axis" in check.message


def test_log_softmax_without_dim_and_the_bug_left_in():
    outcome, check = _fixed_outcome(_fixed(end="F.log_softmax(x.view(-1, 10))"))
    assert outcome.points == 3 and "without dim" in outcome.message and "without dim" in check.message
    outcome, check = _fixed_outcome(_fixed(last="F.relu(self.conv7(x))"))
    assert outcome.points == 2 and "none of them can be negative" in outcome.hint
    assert check.state == "recorded"  # whether the bug is fixed is not told before grading


def test_changed_layers_cost_the_layers_point():
    merged = _fixed(last="self.conv7(x)", replace={"nn.Conv2d(512, 1024, 3)": "nn.Conv2d(512, 1024, 1)",
                                                   "nn.Conv2d(1024, 10, 3)": "nn.Conv2d(1024, 10, 5)"})
    outcome, check = _fixed_outcome(merged)
    assert outcome.points == 3 and "not the lecture's 6,379,786" in outcome.message
    assert "keep every layer" in check.hint


def test_probabilities_instead_of_log_probabilities_and_reusing_evalib():
    outcome, _ = _fixed_outcome(_fixed(end="F.softmax(x.view(-1, 10), dim=1)"))
    assert outcome.points < 4 and "log-probabilities" in outcome.message
    import evalib

    reused = type("FixedNet", (evalib.LectureNet,), {"__init__": lambda self: evalib.LectureNet.__init__(self, False)})
    outcome, check = _fixed_outcome(reused)
    assert outcome.points == 0 and "reuses evalib's LectureNet" in outcome.message and "reuses" in check.message
