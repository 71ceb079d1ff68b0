"""Data: synthetic sets from the model's prior, digits tasks, and point files.

One module per concern, all re-exported here so that `gfncp.data.make_mog`,
`gfncp.data.read_points` and `gfncp.data.InputError` are the public names:

    synthetic.py   CRP partitions and CRP mixtures of Gaussians (make_mog, mog_batch)
    digits.py      clustering tasks of scikit-learn's 8x8 digits (make_digits_task, digits_batch)
    files.py       read_points (CSV / TSV / NPY / NPZ uploads), write_points_csv, InputError
"""
from .digits import (DIGITS_SPLIT_SEED, DIGITS_SPLITS, DIGITS_TRAIN_FRACTION, digits_batch,
                     digits_split, digits_split_index, make_digits_task)
from .files import (LABEL_COLUMN_NAMES, MAX_POINTS, SUPPORTED_EXTENSIONS, TEXT_EXTENSIONS, InputError,
                    read_points, write_points_csv)
from .synthetic import crp_expected_k, crp_partition, make_mog, mog_batch

__all__ = [
    "crp_partition", "crp_expected_k", "make_mog", "mog_batch",
    "DIGITS_SPLIT_SEED", "DIGITS_TRAIN_FRACTION", "DIGITS_SPLITS",
    "digits_split", "digits_split_index", "make_digits_task", "digits_batch",
    "MAX_POINTS", "TEXT_EXTENSIONS", "SUPPORTED_EXTENSIONS", "LABEL_COLUMN_NAMES",
    "InputError", "read_points", "write_points_csv",
]
