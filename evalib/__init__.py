"""evalib: helpers for a course on the foundations of convolutional networks.

Importing evalib has no side effects: it defines functions and classes only.
The public API is listed in ``__all__`` below, grouped by topic.

>>> import evalib
>>> evalib.conv_output_size(400, 3)
398
"""
# Shapes and receptive fields (topic 2)
from .shapes import (
    PoolingPlan,
    conv_output_size,
    conv_weight_count,
    format_chain,
    layers_for_rf,
    plan_to_one,
    shrink_chain,
)
from .receptive_field import Geometry, receptive_field_steps

# Model summary and design rules (topics 2, 4, 5)
from .summary import LayerRow, ModelSummary, SummaryError, summary
from .lint import LintWarning, lint

# The lecture's models (topics 4, 5)
from .models import LectureNet

# Course facts
from .course import INSTALL_SPEC, REPOSITORY, colab_url, install_command

__all__ = [
    # shapes and receptive fields
    "PoolingPlan",
    "conv_output_size",
    "conv_weight_count",
    "format_chain",
    "layers_for_rf",
    "plan_to_one",
    "shrink_chain",
    "Geometry",
    "receptive_field_steps",
    # summary and lint
    "LayerRow",
    "ModelSummary",
    "SummaryError",
    "summary",
    "LintWarning",
    "lint",
    # models
    "LectureNet",
    # course
    "INSTALL_SPEC",
    "REPOSITORY",
    "colab_url",
    "install_command",
]
