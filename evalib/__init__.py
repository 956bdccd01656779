"""evalib: helpers for a course on the foundations of convolutional networks.

Importing evalib has no side effects: it defines functions and classes only.
The public API is listed in ``__all__`` below, grouped by topic.

>>> import evalib
>>> evalib.conv_output_size(400, 3)
398
"""
# Shapes and receptive fields (topic 2)
from .design.shapes import (
    PoolingPlan,
    conv_output_size,
    conv_weight_count,
    format_chain,
    layers_for_rf,
    plan_to_one,
    shrink_chain,
)
from .design.receptive_field import Geometry, receptive_field_steps

# Model summary and design rules (topics 2, 4, 5)
from .design.summary import LayerRow, ModelSummary, SummaryError, summary
from .design.lint import LintWarning, lint

# The lecture's models (topics 4, 5)
from .mnist.models import LectureNet
from .mnist.models import LECTURE_FORWARD

# Lessons 4-5: MNIST data, more models, the one-epoch training loop
from .mnist.models import ClassicNet, LeanNet, LectureNetFC
from .mnist.data import (
    MNIST_MEAN,
    MNIST_STD,
    SOURCES,
    Loaders,
    MnistData,
    MnistUnavailableError,
    PixelStats,
    find_idx_files,
    load_idx_folder,
    load_mnist,
    mnist_loaders,
    pixel_stats,
    read_idx,
    stratified_split,
)
from .mnist.training import (
    BatchRecord,
    EpochRecord,
    History,
    evaluate,
    fit,
    one_cycle_sgd,
    pick_device,
    seed_everything,
    train_epoch,
)
from .mnist.results import (
    Mistakes,
    OutputUnits,
    Predictions,
    confusion_matrix,
    feature_maps,
    first_layer_kernels,
    last_layer,
    misclassified,
    output_unit_gradients,
    output_units,
    predict,
    predicted_class_counts,
)
from .mnist.plots import (
    plot_class_histogram,
    plot_confusion,
    plot_feature_maps,
    plot_history,
    plot_kernels,
    plot_misclassified,
    plot_output_units,
)

# The machinery of the assignments' checks (the questions live in evalib.exercises)
from . import checks

# Lessons 1-3: kernels and channels, 3x3 stacking and receptive field, initialization
from .lessons.kernels import KERNEL_DESCRIPTIONS, KERNELS, apply_kernels, kernel, kernel_bank, kernel_names
from .lessons.convolution import conv2d_loops, conv2d_vectorised
from .lessons.images import digit, edge_and_gradient_image, line_image, mnist_digits, photo
from .lessons.initialization import (
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
from .lessons.invariance import TRANSFORMS, InvarianceRow, pooling_invariance, transform_images
from .lessons.plots import plot_depth, plot_invariance, show_images
from .lessons.plots import show_kernels
from .lessons.widgets import (
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
    "LECTURE_FORWARD",
    # lessons 4-5: data, models, training
    "ClassicNet",
    "LeanNet",
    "LectureNetFC",
    "MNIST_MEAN",
    "MNIST_STD",
    "SOURCES",
    "Loaders",
    "MnistData",
    "MnistUnavailableError",
    "PixelStats",
    "find_idx_files",
    "load_idx_folder",
    "load_mnist",
    "mnist_loaders",
    "pixel_stats",
    "read_idx",
    "stratified_split",
    "BatchRecord",
    "EpochRecord",
    "History",
    "evaluate",
    "fit",
    "one_cycle_sgd",
    "pick_device",
    "seed_everything",
    "train_epoch",
    "Mistakes",
    "OutputUnits",
    "Predictions",
    "confusion_matrix",
    "feature_maps",
    "first_layer_kernels",
    "last_layer",
    "misclassified",
    "output_unit_gradients",
    "output_units",
    "predict",
    "predicted_class_counts",
    "plot_class_histogram",
    "plot_confusion",
    "plot_feature_maps",
    "plot_history",
    "plot_kernels",
    "plot_misclassified",
    "plot_output_units",
    # the assignments' check machinery
    "checks",
    # lessons 1-3: kernels, convolution, images, initialization, invariance, widgets
    "KERNELS",
    "KERNEL_DESCRIPTIONS",
    "apply_kernels",
    "kernel",
    "kernel_bank",
    "kernel_names",
    "conv2d_loops",
    "conv2d_vectorised",
    "digit",
    "edge_and_gradient_image",
    "line_image",
    "mnist_digits",
    "photo",
    "SCHEMES",
    "DepthRecord",
    "InitScheme",
    "SymmetryResult",
    "deep_stack",
    "depth_experiment",
    "fans",
    "init_model_",
    "init_weights_",
    "scheme_std",
    "symmetry_demo",
    "TRANSFORMS",
    "InvarianceRow",
    "pooling_invariance",
    "transform_images",
    "plot_depth",
    "plot_invariance",
    "show_images",
    "show_kernels",
    "STACK_PRESETS",
    "InitExplorer",
    "KernelEditor",
    "ReceptiveFieldExplorer",
    "init_explorer",
    "kernel_editor",
    "receptive_field_explorer",
    "stack_from_spec",
]
