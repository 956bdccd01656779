"""What the teaching notebooks of topics 1 to 3 call: kernels, a hand-written convolution,
images, initialization experiments, pooling invariance, their figures and widgets.

Matplotlib and ipywidgets are imported inside the functions that draw, so importing this
package loads neither.

>>> from evalib.lessons import kernel
>>> kernel("sobel_x").tolist()[1]
[-2.0, 0.0, 2.0]
"""
from .convolution import conv2d_loops, conv2d_vectorised
from .images import digit, edge_and_gradient_image, line_image, mnist_digits, photo
from .initialization import (
    SCHEMES,
    DepthRecord,
    InitScheme,
    SymmetryResult,
    deep_stack,
    depth_experiment,
    fans,
    init_model_,
    init_weights_,
    scheme_std,
    symmetry_demo,
)
from .invariance import TRANSFORMS, InvarianceRow, pooling_invariance, transform_images
from .kernels import KERNEL_DESCRIPTIONS, KERNELS, apply_kernels, kernel, kernel_bank, kernel_names
from .plots import plot_depth, plot_invariance, show_images, show_kernels
from .widgets import (
    STACK_PRESETS,
    InitExplorer,
    KernelEditor,
    ReceptiveFieldExplorer,
    init_explorer,
    kernel_editor,
    receptive_field_explorer,
    stack_from_spec,
)

__all__ = [
    "conv2d_loops", "conv2d_vectorised",
    "digit", "edge_and_gradient_image", "line_image", "mnist_digits", "photo",
    "SCHEMES", "DepthRecord", "InitScheme", "SymmetryResult", "deep_stack", "depth_experiment", "fans",
    "init_model_", "init_weights_", "scheme_std", "symmetry_demo",
    "TRANSFORMS", "InvarianceRow", "pooling_invariance", "transform_images",
    "KERNEL_DESCRIPTIONS", "KERNELS", "apply_kernels", "kernel", "kernel_bank", "kernel_names",
    "plot_depth", "plot_invariance", "show_images", "show_kernels",
    "STACK_PRESETS", "InitExplorer", "KernelEditor", "ReceptiveFieldExplorer",
    "init_explorer", "kernel_editor", "receptive_field_explorer", "stack_from_spec",
]
