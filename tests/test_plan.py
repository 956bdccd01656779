"""Plans of a grading run: hidden cases' inputs only in a run whose words reach nobody, cells too large
to run, what comes back from the hidden run; and the results that need no kernel at all."""
from __future__ import annotations

import json

import nbformat

from autograders.grading.apart import APART, grade_apart
from autograders.grading.checker import questions_from_events
from autograders.grading.pipeline import grade_task, make_task
from autograders.grading.plan import LOCK_CALL, MAX_SOURCE_CHARS, SET_UP, build_plan, hidden_questions, merge_hidden
from autograders.samples.make_samples import as_handed_in
from autograders.source import read_source

A = "a1_kernels_channels"
SOURCE = read_source(A)


def _full():
    return as_handed_in(SOURCE.notebook)


def _hidden_inputs() -> list[str]:
    """Every hidden case's input of assignment 1, as JSON text (how it would travel in a plan)."""
    out = []
    for test in SOURCE.tests:
        for case in test.hidden.get("cases", []) if isinstance(test.hidden.get("cases"), list) else []:
            out.append(json.dumps(case[0]))
        cases = test.hidden.get("cases")
        if isinstance(cases, dict):
            out += [json.dumps(c[0]) for part in cases.values() for c in part]
    assert len(out) >= 10
    return out


def test_the_visible_plan_holds_no_hidden_input_and_starts_with_the_lock():
    plan = build_plan(_full(), SOURCE, calls="visible")
    text = json.dumps(plan.steps)
    assert not [i for i in _hidden_inputs() if i in text]
    assert plan.steps[0]["call"] == LOCK_CALL and plan.steps[0]["question"] == SET_UP
    everything = json.dumps(build_plan(_full(), SOURCE).steps)
    assert all(i in everything for i in _hidden_inputs())  # the same plan with every call has them all


def test_the_hidden_plan_makes_only_the_hidden_calls_and_stops_after_the_last():
    hidden = build_plan(_full(), SOURCE, calls="hidden", questions=["test_conv2d_by_hand"])
    probes = [s for s in hidden.steps if s["op"] == "probe" and s["question"] != SET_UP]
    assert [p["question"] for p in probes] == ["test_conv2d_by_hand"]
    assert all(r["case"] == "hidden" for r in probes[0]["args"]["requests"])
    assert hidden.steps[-1] is probes[0]  # nothing after the last call can change a result


def test_a_cell_too_large_to_run_is_replaced_and_reported():
    nb = _full()
    nb.cells.insert(3, nbformat.v4.new_code_cell("x = '" + "y" * (MAX_SOURCE_CHARS + 10) + "'"))
    plan = build_plan(nb, SOURCE, calls="visible")
    step = next(s for s in plan.steps if s["op"] == "cell" and s["index"] == 3)
    assert len(step["source"]) < 200 and step["source"].startswith("raise MemoryError")
    assert plan.notes and "too large to run" in plan.notes[0]


def _probe_event(gid: str, results: list) -> dict:
    return {"event": "probe", "question": gid, "data": {"question": gid, "results": results}}


#: The right results of shape_functions' examples, by part and example.
RIGHT = {("conv_output_shape", 0): {"__tuple__": [8, 10, 8]}, ("conv_output_shape", 1): {"__tuple__": [10, 12, 8]},
         ("conv_weight_count", 0): 1200}


def _right_examples(plan, gid: str) -> list[dict]:
    return [{"found": True, "callable": True, "ok": True, "helpers": [], "output": "",
             "result": RIGHT[plan.requests[gid][i]["part"], plan.requests[gid][i]["index"]]} for i in plan.taken[gid]]


def test_the_hidden_run_hands_back_right_or_wrong_and_nothing_else():
    visible = build_plan(_full(), SOURCE, calls="visible")
    gid = "test_shape_functions"
    requests = visible.requests[gid]
    events = [_probe_event(gid, _right_examples(visible, gid)), {"event": "done"}]
    assert hidden_questions(visible, events) == [gid]
    hidden = build_plan(_full(), SOURCE, calls="hidden", questions=[gid])
    leak = "(47, 49, 5, 7, 3, 0) was seen"
    answers = [{"found": True, "callable": True, "ok": False, "error": f"Seen_47_49: {leak}", "output": leak,
                "helpers": [leak]} for _ in hidden.taken[gid]]
    merged = merge_hidden(visible, events, hidden, [_probe_event(gid, answers), {"event": "killed", "reason": leak}])
    results = merged[0]["data"]["results"]
    assert len(results) == len(requests) and leak not in json.dumps(merged)
    judged = questions_from_events(SOURCE, [gid], merged)[0]
    assert judged.points == 0 and leak not in judged.message + judged.hint and "47, 49" not in judged.message


def test_hidden_cases_not_tried_are_wrong_not_lost():
    visible = build_plan(_full(), SOURCE, calls="visible")
    gid = "test_shape_functions"
    merged = merge_hidden(visible, [_probe_event(gid, _right_examples(visible, gid)), {"event": "done"}], None, [])
    judged = questions_from_events(SOURCE, [gid], merged)[0]
    assert (judged.state, judged.points) == ("wrong", 0.0)


def test_a_question_not_attempted_needs_no_hidden_run():
    visible = build_plan(_full(), SOURCE, calls="visible")
    gid = "test_conv2d_by_hand"
    events = [_probe_event(gid, [{"found": False, "name": "conv2d_by_hand"}] * len(visible.taken[gid]))]
    assert hidden_questions(visible, events) == []


def test_a_part_found_is_tried_even_when_another_part_is_missing():
    visible = build_plan(_full(), SOURCE, calls="visible")
    gid = "test_shape_functions"
    results = [r if visible.requests[gid][i]["part"] == "conv_output_shape" else {"found": False, "name": "conv_weight_count"}
               for i, r in zip(visible.taken[gid], _right_examples(visible, gid))]
    assert hidden_questions(visible, [_probe_event(gid, results)]) == [gid]


def test_a_file_too_large_is_neither_read_nor_sent():
    task = make_task("ada", A, "ada/a1.ipynb", b"", too_large=300 * 2 ** 20)
    result = grade_task(task)
    assert result["status"] == "error" and "file too large (300 MB" in result["error"]
    assert {q["state"] for q in result["questions"] if q["kind"] == "auto"} == {"error"}


def test_an_evaluation_error_is_told_by_its_type_only():
    """The run that predicts holds the evaluation images: an error's text there could carry pixels."""
    spec = APART["a4_mnist_one_epoch"]
    source = read_source("a4_mnist_one_epoch")
    weights = {"__tensor__": {"dtype": "float32", "shape": [10], "data": [0.0] * 10, "truncated": False}}
    trained = {"ok": True, "held": {"state": {"__dict__": [["w", weights]]}, "attributes": {"__dict__": []}},
               "mean": 0.1, "std": 0.3}

    def train(steps):
        return [{"event": "probe", "question": spec.question, "data": trained}, {"event": "done"}]

    def evaluate(steps):
        return [{"event": "probe", "question": spec.question,
                 "data": {"ok": False, "error": "Pixels_0_5: 0.1372, 0.9921, 0.4470"}}, {"event": "done"}]

    judged, _ = grade_apart(spec, {"imports": "import torch", "my_net": "class MyNet: pass"}, source, train, evaluate, b"x")
    assert judged.state == "wrong" and "0.9921" not in judged.message and "Pixels" not in judged.message
    assert "(an error)" in judged.message


def test_a_judge_that_fails_costs_that_question_only_and_is_reported_to_the_instructor(monkeypatch):
    """A fault of the grader's own judge: 0 for that question with a message that blames no one's
    answer, the other questions judged as usual, and a report line telling the instructor to re-grade."""
    import nbformat as nbf

    from autograders.grading.checker import NOT_JUDGED
    from autograders.grading.pipeline import close_servers
    from evalib.exercises import a2

    source = read_source("a2_receptive_field")
    notebook = nbf.writes(as_handed_in(source.notebook)).encode()
    fine = grade_task(make_task("ada", "a2_receptive_field", "ada/a2.ipynb", notebook))

    def broken(data, hidden):
        raise KeyError("a key the judge expected")

    monkeypatch.setattr(a2.n_convs_199, "judge", broken)
    try:
        result = grade_task(make_task("ada", "a2_receptive_field", "ada/a2.ipynb", notebook))
    finally:
        close_servers()
    by_id = {q["id"]: q for q in result["questions"]}
    before = {q["id"]: q for q in fine["questions"]}
    failed = by_id[a2.n_convs_199.id]
    assert failed["state"] == "error" and failed["points"] == 0
    assert failed["message"].startswith(NOT_JUDGED) and "KeyError" in failed["message"]
    assert "a key the judge expected" not in failed["message"]  # the type only
    assert before[a2.n_convs_199.id]["state"] == "correct"
    assert {k: q["points"] for k, q in by_id.items() if k != a2.n_convs_199.id} == \
        {k: q["points"] for k, q in before.items() if k != a2.n_convs_199.id}
    assert [p for p in result["problems"] if a2.n_convs_199.id in p] == [
        f"{a2.n_convs_199.id} could not be judged (KeyError): a fault of the grader; fix it, then grade this "
        "hand-in again with --regrade"]
