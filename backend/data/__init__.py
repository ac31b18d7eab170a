"""Data for training: built-in and user data sets as in-memory tensors, split once and mapped
onto a design's Inputs and Outputs."""

from backend.data.augment import augment_images
from backend.data.builtin import LOADERS, load_builtin
from backend.data.config import BUILTIN, FILE_KINDS, DataConfig
from backend.data.csv_file import read_csv
from backend.data.dataset import Dataset, Target
from backend.data.errors import DataError, DataMismatchError
from backend.data.files import read_idx_pair, read_image_folder, read_mnist, read_npz
from backend.data.idx import read_idx, write_idx
from backend.data.prepare import (
    InputSpec,
    OutputSpec,
    OutputTarget,
    PreparedData,
    SplitData,
    load_dataset,
    prepare_data,
)
from backend.data.split import SplitIndices, split_indices

__all__ = [
    "augment_images", "LOADERS", "load_builtin", "BUILTIN", "FILE_KINDS", "DataConfig",
    "read_csv", "Dataset", "Target", "DataError", "DataMismatchError", "read_idx_pair",
    "read_image_folder", "read_mnist", "read_npz", "read_idx", "write_idx", "InputSpec",
    "OutputSpec", "OutputTarget", "PreparedData", "SplitData", "load_dataset", "prepare_data",
    "SplitIndices", "split_indices",
]
