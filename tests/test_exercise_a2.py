"""Assignment 2's questions (evalib.exercises.a2_receptive_field): full marks for the solution, nothing
for the release, a targeted hint for each known mistake, every shape of chain students write, and
nothing for answers computed with evalib's helpers."""
from __future__ import annotations

import re

import pytest

from autograders.source import read_source
from evalib.exercises import a2
from exercise_support import handed_in, judge_all, max_points, released, review_all, run, score

A = "a2_receptive_field"
SIDES = list(range(199, 0, -2))


def key(q):
    return read_source(A).by_id(q.id).hidden


def judged(q, *answers):
    """The outcome of grading ``answers`` with the source's hidden key, through probe and judge."""
    names = dict(zip(q.names, answers))
    return q.judge(q.probe_all(names, q.requests(key(q))), key(q))


def chain(sides=SIDES, sep=" > ", x="x"):
    return sep.join(f"{n}{x}{n}" for n in sides)


@pytest.fixture(scope="module")
def solution():
    """The solution's outcomes, judged and as a graded release's checks see them (right after running it)."""
    namespace = run(handed_in(A))
    return judge_all(A, namespace), review_all(A, namespace)


def test_the_solution_scores_full_marks(solution):
    outcomes = solution[0]
    assert {k: o.state for k, o in outcomes.items() if o.state != "correct"} == {}
    assert score(outcomes) == max_points(A) == 17


def test_the_untouched_release_scores_nothing_and_is_not_attempted():
    namespace = run(released(A))
    outcomes = judge_all(A, namespace)
    assert score(outcomes) == 0
    assert {o.state for o in outcomes.values()} == {"not attempted"}
    assert {o.state for o in review_all(A, namespace).values()} == {"not attempted"}


def test_graded_checks_never_say_correct_and_never_quote_the_key(solution):
    for q_id, outcome in solution[1].items():
        assert outcome.state == "recorded", (q_id, outcome)
        assert "correct" not in outcome.message
        functions = ("test_conv_chain", "test_rf_after", "test_receptive_fields")
        assert "right" not in outcome.message or q_id in functions  # a function is right on the stated examples
    assert not re.search(r"\b99\b", a2.chain_199.check(chain()).message)


# --- chains as students write them ------------------------------------------------------------------
def _pairs(sep=">"):
    return "\n".join(f"{a}x{a}{sep}{b}x{b}" for a, b in zip(SIDES, SIDES[1:]))


CHAIN_SHAPES = {
    "one line with >": chain(),
    "no spaces, X": chain(sep=">", x="X"),
    "arrows ->": chain(sep=" -> "),
    "long arrows -->": chain(sep="-->"),
    "bars": chain(sep=" | "),
    "stars": chain(x=" * "),
    "trailing arrow": chain(sep=" -> ") + " ->",
    "trailing >": chain(sep=">") + ">",
    "one step per line, as pairs": _pairs(),
    "one step per line, arrows": _pairs(" -> "),
    "blocks with notes": "\n".join(" > ".join(f"{n}x{n}" for n in SIDES[i:i + 6]) + " (5 layers)"
                                   for i in range(0, 99, 5)),
    "numbered lines with the kernel": "\n".join(f"{i + 1}. {a}x{a} | 3x3 > {b}x{b}" for i, (a, b) in enumerate(zip(SIDES, SIDES[1:]))),
    "the kernel between sizes": " ".join(f"{a}*{a} | 3*3 | {b}*{b} ->" for a, b in zip(SIDES, SIDES[1:])),
    "markdown table with more columns": "| input | kernel | output | RF |\n|---|---|---|---|\n" + "\n".join(
        f"| {a}x{a} | 3x3 | {b}x{b} | {3 + 2 * i}x{3 + 2 * i} |" for i, (a, b) in enumerate(zip(SIDES, SIDES[1:]))),
    "rows separated by bars": " | ".join(" > ".join(f"{n}x{n}" for n in SIDES[i:i + 11]) for i in range(0, 99, 10)),
    "one size per line": "\n".join(f"{n} x {n}" for n in SIDES),
    "a list of ints": SIDES,
    "a list of pairs": [(n, n) for n in SIDES],
}


@pytest.mark.parametrize("shape", CHAIN_SHAPES)
def test_every_shape_of_a_right_chain_is_read_as_meant(shape):
    answer = CHAIN_SHAPES[shape]
    assert a2.chain_199.check(answer).state == "recorded"
    outcome = judged(a2.chain_199, answer)
    assert (outcome.state, outcome.points) == ("correct", 2.0), outcome


@pytest.mark.parametrize("answer, pointed_at", [
    (chain().replace("187x187", "187 x 1897"), "187 x 1897"),  # a typo in one side
    (chain().replace("167x167 > 165x165", "165 x 165 > 167 x 167"), "165 x 165 > 167 x 167"),  # two sizes swapped
    (chain(SIDES[:40] + SIDES[41:]), "a size is missing"),
    (chain(SIDES[:40] + [SIDES[40]] + SIDES[40:]), "twice"),
    (chain(SIDES[:-1]), "stops at 3x3"),
    (chain(list(range(199, 0, -1))), "shrinks by 1"),
    (chain(SIDES[1:]), "should start with the input"),
    (chain().replace("101x101", "1001x1001"), "1001x1001 after 103x103"),
    (_pairs().replace("187x187>185x185", "187x187>185x185\n187x187>185x185"), "written twice"),
])
def test_a_wrong_chain_gets_a_hint_about_its_real_mistake(answer, pointed_at):
    for outcome in (a2.chain_199.check(answer), judged(a2.chain_199, answer)):
        assert outcome.state == "wrong" and outcome.points == 0
        assert pointed_at in outcome.hint, outcome.hint


def test_an_unreadable_chain_says_so_and_how_to_write_it():
    outcome = a2.chain_199.check("from one hundred ninety-nine down to one")
    assert "cannot be read" in outcome.message and "'7x7 > 5x5 > 3x3 > 1x1'" in outcome.hint


# --- counts and sizes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", [99, "99", 99.0, "99 times", " 99 convolutions "])
def test_counts_are_read_in_every_form(answer):
    assert a2.n_convs_199.check(answer).state == "recorded"
    assert judged(a2.n_convs_199, answer).state == "correct"


@pytest.mark.parametrize("q, answer, hint", [
    (a2.n_convs_199, 100, "counted the sizes"),
    (a2.n_convs_199, 198, "not by 1"),
    (a2.n_convs_199, 1004, "A typo?"),
    (a2.layers_for_rf_21, 11, "needs no layer"),
    (a2.layers_for_rf_21, 21, "the receptive field itself"),
    (a2.layers_for_rf_21, 7, "not 3"),
    (a2.layers_for_rf_21, 20, "not 1"),
    (a2.size_47x49, (47, 49), "padding 1"),
    (a2.size_47x49, "46x48", "each side loses 2"),
    (a2.size_47x49, (45, 45), "separately"),
    (a2.size_47x49, "47 x 45", "Keep the order"),
    (a2.convs_100, 13, "pools are not counted"),
    (a2.convs_100, 14, "counted the sizes"),
    (a2.convs_100, 49, "without any pooling"),
])
def test_each_known_wrong_answer_gets_its_hint(q, answer, hint):
    for outcome in (q.check(answer), judged(q, answer)):
        assert outcome.state == "wrong" and hint.lower() in outcome.hint.lower(), outcome


def test_a_slip_that_would_point_at_the_answer_is_explained_only_after_grading():
    # "One short" for 98 would tell a student trying numbers that 99 is right: the graded release's check
    # records 98 like any other count, and the feedback after grading explains it (a hidden note).
    assert a2.n_convs_199.check(98).state == "recorded"
    outcome = judged(a2.n_convs_199, 98)
    assert outcome.state == "wrong" and "one short" in outcome.hint.lower()


def test_sizes_are_read_in_every_form():
    for answer in ("45x47", "45 x 47", (45, 47), [45, 47], "(45, 47)", "45 X 47"):
        assert judged(a2.size_47x49, answer).state == "correct", answer
    outcome = a2.size_47x49.check("45x47x1")
    assert "cannot be read" in outcome.message and "height x width" in outcome.hint


def test_two_vs_one_gives_partial_credit_and_hints():
    outcome = judged(a2.two_vs_one, 9, 25, 5)
    assert outcome.points == 0.75 and outcome.state == "wrong"
    assert "two layers" in outcome.hint
    assert "multiply" in judged(a2.two_vs_one, 18, 25, 9).hint
    assert judged(a2.two_vs_one, 18, 25, 5).points == 1


def test_receptive_field_lists_explain_the_shortcut_and_the_forgotten_jump():
    shortcut = [3, 5, 10, 12, 14, 28, 30, 32, 34]
    no_jump = [3, 5, 6, 8, 10, 11, 13, 15, 17]
    assert "shortcut" in a2.rf_lecture.check(shortcut).hint
    assert "jump" in a2.rf_lecture.check(no_jump).hint
    outcome = a2.rf_lecture.check([3, 5, 6])
    assert "9 values" in outcome.hint and outcome.message.startswith("rf_lecture ")  # the name as written


def test_a_plan_that_breaks_the_rules_and_one_that_is_not_the_shortest():
    odd = "100x100 > 98x98 > 96x96 | MP > 48x48 > 46x46 > 44x44 | MP > 22x22 > 20x20 > 18x18 > 16x16 > 14x14 | MP > 7x7 > 5x5 > 3x3 > 1x1"
    assert judged(a2.plan_100, odd).points == 1.0  # valid, 12 convolutions
    assert "more than needed" in judged(a2.plan_100, odd).message
    assert "odd last row" in a2.plan_100.check("100x100 > 98x98 > 96x96 | MP > 48x48 > 46x46 > 44x44 | MP > 22x22 > 20x20 "
                                               "> 18x18 | MP > 9x9 > 7x7 > 5x5 | MP > 3x3 > 1x1").hint
    assert "only 1" in a2.plan_100.check("100x100 > 98x98 | MP > 49x49").hint
    assert "end at 1x1" in a2.plan_100.check("100x100 > 98x98 > 96x96").hint


# --- functions -------------------------------------------------------------------------------------------
def _define(code):
    namespace: dict = {}
    exec(code, namespace)
    return namespace


def test_a_function_that_prints_and_returns_none_is_told_to_return_the_text():
    ns = _define("def conv_chain(size, kernel=3):\n    print(size)\n")
    outcome = a2.conv_chain.check(ns["conv_chain"])
    assert "prints its result but returns None" in outcome.message and "return" in outcome.hint


def test_a_step_fixed_at_2_and_a_loop_that_never_ends():
    fixed = _define("def conv_chain(size, kernel=3):\n    s = [size]\n    while s[-1] - 2 >= 1:\n        s.append(s[-1] - 2)\n"
                    "    return ' > '.join(f'{n}x{n}' for n in s)\n")["conv_chain"]
    assert "whatever the kernel" in a2.conv_chain.check(fixed).hint
    endless = _define("def conv_chain(size, kernel=3):\n    s = [size]\n    while s[-1] != 1:\n"
                      "        if s[-1] % 2 == 0:\n            continue  # never ends for an even size\n"
                      "        if s[-1] - (kernel - 1) < 1:\n            break\n        s.append(s[-1] - (kernel - 1))\n"
                      "    return ' > '.join(f'{n}x{n}' for n in s)\n")["conv_chain"]
    outcome = judged(a2.conv_chain, endless)
    assert outcome.points == 0 and "hidden cases" in outcome.message and "did not finish" in outcome.message
    assert "while n != 1" in outcome.hint
    assert "200" not in str(outcome) and "28" not in str(outcome)  # no hidden case is described


def test_rf_after_mistakes():
    assert "input pixel" in a2.rf_after.check(lambda n, kernel=3: n * (kernel - 1)).hint
    assert "not 3" in a2.rf_after.check(lambda n, kernel=3: 1 + n * kernel).hint


def test_receptive_fields_with_the_shortcut():
    def shortcut(layers):
        rf, out = 1, []
        for k, s in layers:
            rf = rf * 2 if s == 2 else rf + k - 1
            out.append(rf)
        return out

    assert "shortcut" in a2.receptive_fields.check(shortcut).hint


# --- evalib's helpers earn nothing ---------------------------------------------------------------------------------
HELPER_ANSWERS = {
    "conv_chain": "import evalib\n\ndef conv_chain(size, kernel=3):\n    return evalib.format_chain(evalib.shrink_chain(size, kernel))\n",
    "chain_199": "import evalib\nchain_199 = evalib.format_chain(evalib.shrink_chain(199))\nn_convs_199 = len(evalib.shrink_chain(199)) - 1\n",
    "rf_after": "import evalib\n\ndef rf_after(n_layers, kernel=3):\n    return 1 + n_layers * (kernel - 1)\n\n"
                "layers_for_rf_21 = evalib.layers_for_rf(21)\nsize_47x49 = (evalib.conv_output_size(47, 3), evalib.conv_output_size(49, 3))\n",
    "plan_100": "import evalib\nplan = evalib.plan_to_one(100)\nplan_100 = str(plan)\nconvs_100 = plan.convolutions\n",
    "two_vs_one": "from evalib import conv_weight_count\nweights_two_3x3 = 2 * conv_weight_count(3, 1, 1)\n"
                  "weights_one_5x5 = conv_weight_count(5, 1, 1)\nrf_two_3x3 = 5\n",
    "receptive_fields": "import evalib\n\ndef receptive_fields(layers):\n    return [g.rf for g in evalib.receptive_field_steps(layers)]\n\n"
                        "rf_lecture = [evalib.Geometry().after(3).rf] + [5, 6, 10, 14, 16, 24, 32, 40]\n",
}


def test_value_and_function_answers_computed_with_evalib_helpers_earn_nothing():
    outcomes = judge_all(A, run(handed_in(A, HELPER_ANSWERS)))
    earned = {k: o.points for k, o in outcomes.items() if o.points and k not in ("test_two_vs_one", "test_rf_after")}
    assert earned == {}, earned
    assert outcomes["test_rf_after"].points == 1  # written by hand
    assert outcomes["test_two_vs_one"].points == 0.5  # rf_two_3x3 was written by hand
    assert "evalib.shrink_chain" in outcomes["test_chain_199"].message
    assert "evalib.layers_for_rf" in outcomes["test_layers_for_rf_21"].message
    assert "evalib.plan_to_one" in outcomes["test_convs_100"].message
    assert "evalib.Geometry.after" in outcomes["test_rf_lecture"].message
    assert "evalib.receptive_field_steps" in outcomes["test_receptive_fields"].message
