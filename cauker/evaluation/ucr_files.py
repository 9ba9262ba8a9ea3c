"""Reading one UCR/UEA split file into series and labels; the parsing is done by libraries.

=================================  ==========================================
format                             parsed by
=================================  ==========================================
``.ts`` (sktime/aeon)              sktime's ``load_from_tsfile_to_dataframe``
``.arff`` (Weka)                   :func:`scipy.io.arff.loadarff`
``.tsv``, ``.txt``, ``.csv``       :func:`pandas.read_csv` (label first, one
(UCR text files)                   series a line; tab, comma or blanks)
``.npz`` (tslearn's cache)         :func:`numpy.load` (``X_train``, ``y_train``,
                                   ``X_test``, ``y_test``)
=================================  ==========================================

What stays ours is small: peeking at a ``.ts`` header to decide, without
parsing the data, whether a file is a univariate classification problem
(:func:`ts_header`, used by the offline discovery), and giving labels one
spelling (``1``, ``1.0`` and ``1.0000000e+00`` are the same class).

Every reader returns ``(series, labels)``: a list of 1-D float64 arrays
(lengths may differ, NaN marks a missing value) and a list of label strings.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cauker.errors import MissingDependencyError, ParameterError

#: Extensions of a ``NAME_TRAIN`` / ``NAME_TEST`` pair, in order of preference.
SPLIT_EXTENSIONS = (".ts", ".tsv", ".txt", ".csv", ".arff")
NPZ_ARRAYS = ("X_train", "y_train", "X_test", "y_test")


def label_text(value) -> str:
    """Canonical label text: ``'1'``, ``'1.0'``, ``b'1'`` and ``'1.0000000e+00'`` agree."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    token = str(value).strip().strip("'\"")
    try:
        number = float(token)
    except ValueError:
        return token
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return token


def ts_header(path: Path) -> dict[str, str]:
    """The ``@key value`` lines of a ``.ts`` file before ``@data``, keys lower-cased."""
    header = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.replace("\ufeff", "").strip()
            if not line.startswith("@"):
                continue
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                break
            header[key] = value.strip()
    return header


def _is_true(header: dict[str, str], key: str) -> bool:
    return header.get(key, "").lower().split(" ")[:1] == ["true"]


def is_univariate_classification(path: Path) -> bool:
    """Whether a split file holds a univariate classification problem (only ``.ts`` says)."""
    if path.suffix.lower() != ".ts":
        return True
    header = ts_header(path)
    univariate = header.get("univariate", "true").lower().startswith("true")
    return univariate and _is_true(header, "classlabel") and not _is_true(header, "timestamps")


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """A univariate, labelled ``.ts`` file, parsed by sktime."""
    header = ts_header(path)
    if _is_true(header, "timestamps"):
        raise ParameterError(f"dataset file {path}: time-stamped .ts files are not supported")
    if not _is_true(header, "classlabel"):
        raise ParameterError(
            f"dataset file {path}: no class labels (@classLabel true); not a classification dataset"
        )
    if not header.get("univariate", "true").lower().startswith("true"):
        raise ParameterError(
            f"dataset file {path}: @univariate false; only univariate series are supported"
        )
    try:
        from sktime.datasets import load_from_tsfile_to_dataframe
    except ImportError as error:
        raise MissingDependencyError(
            f"reading {path} needs sktime, which is not installed: pip install 'cauker[eval]'"
        ) from error
    try:
        frame, labels = load_from_tsfile_to_dataframe(
            str(path), return_separate_X_and_y=True, replace_missing_vals_with="NaN"
        )
    except (OSError, ValueError, IndexError) as error:
        raise ParameterError(f"dataset file {path}: {error}") from error
    if frame.shape[1] != 1:
        raise ParameterError(
            f"dataset file {path}: {frame.shape[1]} dimensions per series; "
            "only univariate series are supported"
        )
    series = [np.asarray(cell, dtype=np.float64) for cell in frame.iloc[:, 0]]
    return series, [label_text(v) for v in labels]


def read_text(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """A UCR text file (label first, one series a line), parsed by pandas."""
    import pandas as pd

    with open(path, encoding="utf-8", errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    if path.suffix.lower() == ".tsv":
        separator = "\t"
    else:
        separator = "," if "," in first else r"\s+"
    try:
        frame = pd.read_csv(
            path, sep=separator, header=None, na_values=["?"], dtype={0: str}, engine="c"
        )
        values = frame.iloc[:, 1:].to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError) as error:
        raise ParameterError(f"dataset file {path}: {' '.join(str(error).split())}") from error
    return list(values), [label_text(v) for v in frame.iloc[:, 0]]


def read_arff(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """A univariate Weka ``.arff`` file (numeric attributes, nominal class last), by scipy."""
    from scipy.io import arff

    try:
        data, meta = arff.loadarff(str(path))
    except (ValueError, NotImplementedError, arff.ArffError) as error:
        raise ParameterError(f"dataset file {path}: {error}") from error
    names, types = meta.names(), meta.types()
    if "relational" in types:
        raise ParameterError(
            f"dataset file {path}: relational (multivariate) ARFF is not supported"
        )
    if not names or types[-1] != "nominal":
        raise ParameterError(
            f"dataset file {path}: the last attribute must be the nominal class; "
            "not a classification dataset"
        )
    values = np.column_stack([data[n].astype(np.float64) for n in names[:-1]])
    return list(values), [label_text(v) for v in data[names[-1]]]


READERS = {
    ".ts": read_ts,
    ".tsv": read_text,
    ".txt": read_text,
    ".csv": read_text,
    ".arff": read_arff,
}


def read_split(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Series and labels of one ``NAME_TRAIN.EXT`` or ``NAME_TEST.EXT`` file."""
    return READERS[path.suffix.lower()](path)


def read_npz(path: Path) -> dict[str, tuple[list[np.ndarray], list[str]]]:
    """``{"train": (series, labels), "test": ...}`` from an ``.npz`` in tslearn's layout."""
    with np.load(path, allow_pickle=False) as data:
        missing = set(NPZ_ARRAYS) - set(data.files)
        if missing:
            raise ParameterError(f"dataset file {path}: missing arrays {sorted(missing)}")
        splits = {}
        for split in ("train", "test"):
            x = np.asarray(data[f"X_{split}"], dtype=np.float64)
            if x.ndim == 3 and 1 in x.shape[1:]:
                x = x.reshape(len(x), -1)
            if x.ndim != 2:
                raise ParameterError(
                    f"dataset file {path}: X_{split} must be univariate, got shape {x.shape}"
                )
            splits[split] = (list(x), [label_text(v) for v in data[f"y_{split}"]])
    return splits


def is_npz_dataset(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` holding the four arrays of a dataset."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return set(NPZ_ARRAYS) <= set(data.files)
    except (OSError, ValueError):
        return False
