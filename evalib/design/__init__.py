"""Network design: output sizes and receptive fields, the model summary, the design rules.

The arithmetic of topic 2 (:mod:`.shapes`, :mod:`.receptive_field`), the layer-by-layer
summary of any ``nn.Module`` (:mod:`.summary`) and the lecture's rules of thumb checked
against a model (:mod:`.lint`).

>>> from evalib.design import conv_output_size, layers_for_rf
>>> conv_output_size(28, 3, padding=1), layers_for_rf(9)
(28, 4)
"""
from .lint import LintWarning, lint
from .receptive_field import Geometry, receptive_field_steps
from .shapes import PoolingPlan, conv_output_size, conv_weight_count, format_chain, layers_for_rf, plan_to_one, shrink_chain
from .summary import LayerRow, ModelSummary, SummaryError, summary

__all__ = [
    "LintWarning", "lint",
    "Geometry", "receptive_field_steps",
    "PoolingPlan", "conv_output_size", "conv_weight_count", "format_chain", "layers_for_rf", "plan_to_one", "shrink_chain",
    "LayerRow", "ModelSummary", "SummaryError", "summary",
]
