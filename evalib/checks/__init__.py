"""The machinery behind the assignments' checks.

- :mod:`~evalib.checks.outcome`: :class:`Outcome`, what a check says, as data;
- :mod:`~evalib.checks.plain`: :func:`to_plain` / :func:`from_plain`, what crosses
  from a student's process to the side that judges;
- :mod:`~evalib.checks.parse`: readers of answers as students write them;
- :mod:`~evalib.checks.compare`: canonical forms, digests, rules that explain a
  wrong chain or plan;
- :mod:`~evalib.checks.guard`: the helpers that solve an exercise earn nothing;
- :mod:`~evalib.checks.question`: :class:`Question` and its kinds of parts;
- :mod:`~evalib.checks.mode`: graded and practice feedback, :func:`progress`;
- :mod:`~evalib.checks.probe`: :func:`run`, what a grading runner calls in the
  student's process.

The questions themselves are declared in :mod:`evalib.exercises`, one module per
assignment.

>>> from evalib.checks import read_chain
>>> read_chain("7x7 --> 5x5 --> 3x3 --> 1x1").value
[7, 5, 3, 1]
"""
from . import guard, probe
from .compare import canonical, chain_problem, digest, expand_chain, plan_problem, same, spellings
from .guard import HelperNotAllowed, computed_with, helpers_off, locked_copy, registered, solves, static_registry
from .mode import feedback_mode, practice, progress
from .outcome import OUTCOME_MIME, Outcome, PartOutcome
from .parse import (Reading, is_placeholder, read_bool, read_chain, read_choice, read_name, read_number,
                    read_numbers, read_plan, read_size, read_tensor, read_whole_number)
from .plain import Limits, from_plain, to_plain
from .question import (BoolPart, ChainPart, ChoicePart, Example, FunctionPart, NamePart, NumberListPart, NumberPart,
                       Part, PlanPart, Question, Rule, SizePart, TensorPart, ValuePart, find_question, questions_of)

__all__ = [
    "Outcome", "PartOutcome", "OUTCOME_MIME",
    "to_plain", "from_plain", "Limits",
    "Reading", "is_placeholder", "read_bool", "read_chain", "read_choice", "read_name", "read_number",
    "read_numbers", "read_plan", "read_size", "read_tensor", "read_whole_number",
    "canonical", "chain_problem", "digest", "expand_chain", "plan_problem", "same", "spellings",
    "HelperNotAllowed", "solves", "registered", "static_registry", "helpers_off", "computed_with", "locked_copy",
    "feedback_mode", "practice", "progress",
    "Question", "Part", "ValuePart", "Example", "Rule", "NumberPart", "ChoicePart", "BoolPart", "NamePart", "SizePart",
    "ChainPart", "PlanPart", "NumberListPart", "TensorPart", "FunctionPart", "find_question", "questions_of",
    "guard", "probe",
]
