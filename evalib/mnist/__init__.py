"""Topics 4 and 5: MNIST data, the lecture's models, the one-epoch training loop, and what a
trained model got right and wrong (with a figure for each).

Matplotlib is imported inside the plotting functions, so importing this package does not load it.

>>> from evalib.mnist import LectureNet
>>> sum(p.numel() for p in LectureNet().parameters())
6379786
"""
from .data import (
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
from .models import LECTURE_FORWARD, ClassicNet, LeanNet, LectureNet, LectureNetFC
from .plots import (
    plot_class_histogram,
    plot_confusion,
    plot_feature_maps,
    plot_history,
    plot_kernels,
    plot_misclassified,
    plot_output_units,
)
from .results import (
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
from .training import (
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

__all__ = [
    "MNIST_MEAN", "MNIST_STD", "SOURCES", "Loaders", "MnistData", "MnistUnavailableError", "PixelStats",
    "find_idx_files", "load_idx_folder", "load_mnist", "mnist_loaders", "pixel_stats", "read_idx", "stratified_split",
    "LECTURE_FORWARD", "ClassicNet", "LeanNet", "LectureNet", "LectureNetFC",
    "plot_class_histogram", "plot_confusion", "plot_feature_maps", "plot_history", "plot_kernels",
    "plot_misclassified", "plot_output_units",
    "Mistakes", "OutputUnits", "Predictions", "confusion_matrix", "feature_maps", "first_layer_kernels",
    "last_layer", "misclassified", "output_unit_gradients", "output_units", "predict", "predicted_class_counts",
    "BatchRecord", "EpochRecord", "History", "evaluate", "fit", "one_cycle_sgd", "pick_device",
    "seed_everything", "train_epoch",
]
