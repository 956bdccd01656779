"""The trusted side of grading: outcomes from the plain data a run sent back, and the hidden key.

Runs in the grading process, never in a student's: it reads the events of a run (bounded JSON
from :mod:`.forkserver`), hands each question's probe data to that question's ``judge`` with the
key from the source assignment's hidden part, and turns the outcomes into the question results
of a :class:`~autograders.results.record.Result`. No student object is ever in this process:
only numbers, strings, lists and dicts that it rebuilt itself.

>>> from autograders.source import read_source
>>> source = read_source("a2_receptive_field")
>>> found = questions_from_events(source, ["test_n_convs_199"], [
...     {"event": "probe", "question": "test_n_convs_199",
...      "data": {"question": "test_n_convs_199", "results": [{"found": True, "name": "n_convs_199", "value": 100}]}}])
>>> found[0].state, found[0].points, "sizes" in found[0].hint
('wrong', 0.0, True)
"""
from __future__ import annotations

from typing import Iterable, Sequence

from ..results.record import QuestionResult
from ..source import SourceAssignment

__all__ = ["judge_question", "judge_failures", "questions_from_events", "cell_errors", "written_questions",
           "run_problem", "NOT_JUDGED"]

#: How a question's message starts when its judge failed (the grader's fault, never the student's).
NOT_JUDGED = "This question could not be judged"


def _outcome_result(source: SourceAssignment, outcome, max_points: float) -> QuestionResult:
    points = max(0.0, min(float(outcome.points), max_points))
    return QuestionResult(outcome.question, source.title(outcome.question), "auto", max_points, points, outcome.state,
                          outcome.message, outcome.answer, outcome.hint)


def judge_question(source: SourceAssignment, grade_id: str, data: object) -> QuestionResult:
    """One question's result from its probe data (``{"question", "results"}``) and the hidden key."""
    from evalib.checks.outcome import Outcome
    from evalib.checks.question import find_question

    cell = source.by_id(grade_id)
    question = find_question(grade_id, source.name)
    try:
        outcome = question.judge(data, cell.hidden)
    except Exception as error:  # a judge's own failure is the grader's bug: say so, never blame the student
        # The type only: the text of an error raised on the student's data could quote that data.
        outcome = Outcome(grade_id, "error", 0.0, cell.points,
                          f"{NOT_JUDGED} ({type(error).__name__}): a fault of the grader, not of your answer. "
                          "It is listed in your instructor's grading report, to be graded again.")
    return _outcome_result(source, outcome, cell.points)


def judge_failures(questions: Iterable[QuestionResult]) -> list[str]:
    """One report line per question whose judge failed, for the instructor's ``report.txt``.

    >>> judge_failures([QuestionResult("test_q", "Q", "auto", 2.0, 0.0, "error", NOT_JUDGED + " (KeyError): ...")])
    ['test_q could not be judged (KeyError): a fault of the grader; fix it, then grade this hand-in again with --regrade']
    """
    lines = []
    for q in questions:
        if q.state == "error" and (q.message or "").startswith(NOT_JUDGED):
            kind = q.message[len(NOT_JUDGED):].split(":", 1)[0].strip()
            lines.append(f"{q.id} could not be judged {kind}: a fault of the grader; fix it, then grade this "
                         "hand-in again with --regrade")
    return lines


def cell_errors(events: Iterable[dict]) -> dict[int, str]:
    """Cell index -> the error it stopped with (the student's own code: type and message)."""
    return {int(e["index"]): str(e.get("error") or "an error")[:300]
            for e in events if e.get("event") == "cell" and e.get("status") == "error" and isinstance(e.get("index"), int)}


def run_problem(events: Sequence[dict]) -> str | None:
    """Why a run ended early (killed: a time limit, the budget, a crash), or None when it finished."""
    last = events[-1] if events else {}
    if last.get("event") == "done":
        return None
    if last.get("event") == "killed":
        return str(last.get("reason") or "the run was stopped")[:300]
    return "the run ended without a word"


def questions_from_events(source: SourceAssignment, asked: Sequence[str], events: Sequence[dict],
                          explains: dict[int, list[str]] | None = None) -> list[QuestionResult]:
    """A result for every question in ``asked`` (test cell grade ids), from the run's ``events``.

    A question whose probe never came back (the run was stopped before it) scores 0 with the
    reason; a question whose answers a failing cell was meant to set says which cell failed.
    """
    probes: dict[str, dict] = {}
    for e in events:
        if e.get("event") == "probe" and isinstance(e.get("question"), str):
            probes[e["question"]] = e
    stopped = run_problem(events)
    errors = cell_errors(events)
    blamed: dict[str, list[str]] = {}
    for index, gids in (explains or {}).items():
        if index in errors:
            for gid in gids:
                blamed.setdefault(gid, []).append(f"cell {index + 1} stopped with {errors[index]}")
    out = []
    for gid in asked:
        event = probes.get(gid)
        points = source.by_id(gid).points
        if event is None:
            why = stopped or "its answers were not taken"
            out.append(QuestionResult(gid, source.title(gid), "auto", points, 0.0, "error",
                                      f"Not graded: the notebook stopped before this question ({why})."))
            continue
        if event.get("error"):
            out.append(QuestionResult(gid, source.title(gid), "auto", points, 0.0, "error",
                                      f"Your answers could not be taken ({str(event['error'])[:200]})."))
            continue
        result = judge_question(source, gid, event.get("data"))
        if result.state != "correct" and gid in blamed:
            result.message = f"{result.message} ({'; '.join(blamed[gid][:2])})".strip()
        out.append(result)
    return out


def written_questions(source: SourceAssignment) -> list[QuestionResult]:
    """The written answers: recorded, for a person to grade in nbgrader's formgrader."""
    return [QuestionResult(c.grade_id, source.title(c.grade_id), "manual", c.points, None, "recorded",
                           "Read and graded by a person.") for c in source.written]
