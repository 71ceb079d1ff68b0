"""Reading point sets from files: the upload parser and the app's CSV export.

    read_points(raw_bytes, filename)    CSV / TSV / TXT / NPY / NPZ -> (X, labels or None)
    write_points_csv(X, labels)         the app's export format; read_points reads it back

Nothing is ever unpickled; every problem with a file is an InputError whose message says
what is wrong and what to do.
"""
from __future__ import annotations

import csv
import io
import math
import numbers
import os
import struct
import tokenize
import zipfile
import zlib

import numpy as np

from ..partitions import canonical_labels

MAX_POINTS = 5000  # default upper limit on the number of points read_points accepts


class InputError(ValueError):
    """A file the user gave us cannot be read; the message says why and what to do."""


TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS + (".npy", ".npz")
LABEL_COLUMN_NAMES = ("label", "labels", "cluster", "class", "target", "y")  # "y" only without an "x"
_NPZ_DATA_KEYS = ("X", "x", "data")
_NPZ_LABEL_KEYS = ("labels", "label", "y")
_MAX_MEMBER_BYTES = 256 * 2**20  # refuse to inflate a single .npz member beyond this

# everything numpy / zipfile may raise on malformed bytes
_LOAD_ERRORS = (ValueError, TypeError, SyntaxError, OSError, EOFError, KeyError, IndexError,
                OverflowError, MemoryError, RuntimeError, struct.error, zlib.error,
                tokenize.TokenError, zipfile.BadZipFile, zipfile.LargeZipFile)
_DTYPE_KIND_NAMES = {"b": "boolean", "c": "complex", "U": "string", "S": "bytes string",
                     "V": "structured / void", "M": "datetime", "m": "timedelta",
                     "O": "Python object", "T": "string"}


def checked_upload(raw_bytes, filename, max_points: int) -> tuple[bytes, str]:
    """The arguments of a file reader checked (bytes-like and not empty, a name with a supported
    extension, max_points >= 2) -> (bytes, lower-case extension)."""
    if isinstance(raw_bytes, (bytearray, memoryview)):
        raw_bytes = bytes(raw_bytes)
    if not isinstance(raw_bytes, bytes):
        raise InputError(f"Expected the file's bytes, got {type(raw_bytes).__name__}.")
    if not isinstance(filename, str):
        raise InputError(f"Expected a file name string, got {type(filename).__name__}.")
    if (isinstance(max_points, bool) or not isinstance(max_points, numbers.Integral)
            or max_points < 2):
        raise InputError(f"max_points must be an integer >= 2, got {max_points!r}.")
    ext = os.path.splitext(filename)[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError(f"Unsupported file type {ext or '(no extension)'!r} for {filename!r}. "
                         f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}.")
    if not raw_bytes.strip():
        raise InputError(f"The file {filename!r} is empty.")
    return raw_bytes, ext


def read_points(raw_bytes: bytes, filename: str, max_points: int = MAX_POINTS):
    """Parse an uploaded point set.

    Formats by extension (case-insensitive): .csv / .tsv / .txt text (delimiter sniffed:
    comma, tab, semicolon or whitespace; optional header, present when the first row is not
    all numbers; a column named label, labels, cluster, class or target, or else y when there is no
    column x, holds ground-truth labels of any kind; lines starting with # are skipped),
    .npy (one 2-D numeric array) and .npz (array 'X', 'x' or 'data', or its only array,
    plus optional 'labels' / 'label' / 'y'). Nothing is ever unpickled.

    Returns X float64 (N, d) and canonical labels int64 (N,), or None if the file has no
    labels. Any problem with the bytes raises InputError; text row numbers are 1-based
    line numbers of the file, array row numbers are 1-based row indices.
    """
    raw_bytes, ext = checked_upload(raw_bytes, filename, max_points)
    if ext in TEXT_EXTENSIONS:
        X, labels = _read_text(raw_bytes, max_points)
    elif ext == ".npy":
        X, labels = _load_npy(raw_bytes, "The .npy file"), None
    else:
        X, labels = _read_npz(raw_bytes)
    return _finish(X, labels, max_points)


def write_points_csv(X, labels=None) -> bytes:
    """CSV bytes with header x0..x{d-1}[,label]; floats written exactly (read_points reads it)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X, got {X.ndim}D array instead.")
    header = [f"x{j}" for j in range(X.shape[1])]
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(X):
            raise ValueError(f"labels has {len(labels)} entries but X has {len(X)} rows")
        header.append("label")
    lines = [",".join(header)]
    for r, row in enumerate(X.tolist()):
        fields = [repr(v) for v in row]
        if labels is not None:
            fields.append(str(labels[r]))
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- validation shared by all formats


def _finish(X: np.ndarray, labels, max_points: int):
    """Check X (and labels) and return X float64 (N, d), canonical labels or None."""
    _check_dtype(X, "The data")
    if X.ndim == 1:
        raise InputError(
            "Expected 2D array, got 1D array instead. Reshape your data either using "
            "X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if it "
            "contains a single sample.")
    if X.ndim != 2:
        raise InputError(f"Expected 2D array, got {X.ndim}D array instead (shape {X.shape}). "
                         "Flatten each point to one row, e.g. X.reshape(len(X), -1).")
    n, d = X.shape
    if d == 0:
        raise InputError("The data has no numeric columns (0 features per point).")
    if n < 2:
        raise InputError(f"At least 2 points are needed to cluster, got {n}.")
    if n > max_points:
        raise InputError(f"The file has {n} points; the limit is {max_points}. "
                         "Upload a random subsample.")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN (a missing value)" if np.isnan(X[r, c]) else "inf (an infinite value)"
        raise InputError(f"Row {r + 1} contains {what} in column {c + 1}. "
                         "Remove or fill such values before uploading.")
    if labels is not None:
        labels = _check_labels(labels, n)
    return X, labels


def _check_dtype(arr: np.ndarray, what: str) -> None:
    kind = arr.dtype.kind
    if kind not in "fiu":
        name = _DTYPE_KIND_NAMES.get(kind, "non-numeric")
        raise InputError(f"{what} has {name} dtype {arr.dtype}; a real-valued numeric array "
                         "(float or int) is needed.")


def _check_labels(labels: np.ndarray, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"Labels must be a 1D array, got shape {labels.shape}.")
    if len(labels) != n:
        raise InputError(f"The labels have {len(labels)} entries but there are {n} points; "
                         "they must match one to one.")
    if labels.dtype.kind not in "biuUSf":
        raise InputError(f"Labels have unsupported dtype {labels.dtype}.")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        r = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise InputError(f"Label {r + 1} is NaN or inf.")
    return canonical_labels(labels)


# --- text


def _text_rows(raw: bytes, max_points: int) -> list[tuple[int, list[str]]]:
    """The non-empty, non-comment lines of a text file as (1-based line number, fields), split
    on the sniffed delimiter; errors for an empty file or one over max_points rows."""
    text = _decode(raw)
    lines = [(no, line) for no, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError("The file is empty: it has no data rows.")
    if len(lines) > max_points + 1:
        raise InputError(f"The file has about {len(lines):,} rows; the limit is {max_points:,} "
                         "points. Upload a random subsample.")
    delimiter = _sniff_delimiter([line for _, line in lines[:20]])
    return [(no, _split_line(line, delimiter)) for no, line in lines]


def _read_text(raw: bytes, max_points: int):
    """(X float64 (N, d), label strings (N,) or None); errors name 1-based file lines."""
    rows = _text_rows(raw, max_points)
    header = None
    if not all(_is_number(f) for f in rows[0][1]):
        header, rows = rows[0][1], rows[1:]
        if not rows:
            raise InputError("The file has a header row but no data rows.")
    width = len(header) if header is not None else len(rows[0][1])
    for no, fields in rows:
        if len(fields) != width:
            raise InputError(f"Row {no} has {len(fields)} value{'s' * (len(fields) != 1)}, "
                             f"expected {width}"
                             f"{' (as many as header names)' if header else ''}.")
    label_col = _label_column(header)
    feature_cols = [j for j in range(width) if j != label_col]
    first_no, first = rows[0]
    if not feature_cols or not any(_is_number(first[j]) for j in feature_cols):
        raise InputError(f"The file has no numeric columns (first data row, row {first_no}: "
                         f"{', '.join(repr(f) for f in first[:5])}).")
    X = np.empty((len(rows), len(feature_cols)))
    for r, (no, fields) in enumerate(rows):
        for c, j in enumerate(feature_cols):
            X[r, c] = _to_float(fields[j], no, j, header)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN (a missing value)" if np.isnan(X[r, c]) else "inf (an infinite value)"
        name = f" ({header[feature_cols[c]]!r})" if header is not None else ""
        raise InputError(f"Row {rows[r][0]} contains {what} in column {feature_cols[c] + 1}"
                         f"{name}. Remove or fill such values before uploading.")
    labels = None
    if label_col is not None:
        labels = [fields[label_col] for _, fields in rows]
        for (no, _), value in zip(rows, labels):
            if value == "":
                raise InputError(f"Row {no} has an empty label.")
        labels = np.array(labels)
    return X, labels


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"The file is not UTF-8 text (byte {raw[err.start]:#04x} at position "
                         f"{err.start}). Save it as UTF-8 CSV, or upload a .npy file.") from err
    if "\x00" in text:
        raise InputError("The file contains NUL bytes, so it looks binary rather than text. "
                         "Upload CSV text, or use the .npy / .npz extension for NumPy files.")
    return text


def _sniff_delimiter(sample: list[str]) -> str | None:
    """Tab, semicolon or comma: the one found on most sampled lines, if on more than half
    of them (a short row then reads as ragged, not as another format); else None
    (whitespace)."""
    counts = {d: sum(d in line for line in sample) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])   # ties: the earlier in the tuple
    return best if 2 * counts[best] > len(sample) else None


def _split_line(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    try:
        fields = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as err:
        raise InputError(f"Could not parse the line {line[:40]!r}: {err}") from err
    return [f.strip() for f in fields]


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _to_float(field: str, row: int, col: int, header) -> float:
    try:
        return float(field)
    except ValueError as err:
        name = f" ({header[col]!r})" if header is not None else ""
        problem = ("is empty (a missing value)" if field == ""
                   else f"has {field[:30]!r}, not a number")
        raise InputError(
            f"Row {row}, column {col + 1}{name} {problem}. Only numeric columns are allowed, "
            f"plus one label column with a header named {', '.join(LABEL_COLUMN_NAMES)}.") from err


def _label_column(header) -> int | None:
    """Index of the label column: one named label/labels/cluster/class/target, else one named y,
    except when a column named x exists too (then x and y are coordinates)."""
    if header is None:
        return None
    names = [name.strip().lower() for name in header]
    found = [j for j, name in enumerate(names) if name in LABEL_COLUMN_NAMES[:-1]]
    if len(found) > 1:
        listed = ", ".join(repr(header[j]) for j in found)
        raise InputError(f"The header has more than one label column ({listed}); keep one.")
    if not found and "x" not in names:
        found = [j for j, name in enumerate(names) if name == "y"][:1]
    return found[0] if found else None


# --- numpy binaries


def _load_npy(raw: bytes, what: str) -> np.ndarray:
    """Load one .npy payload, checking its header first: no pickles, no truncation."""
    if not raw.startswith(np.lib.format.MAGIC_PREFIX):
        hint = (" It is a zip archive: use the .npz extension." if raw.startswith(b"PK")
                else " If it is text, use the .csv extension.")
        raise InputError(f"{what} is not a NumPy .npy file (it lacks the .npy header).{hint}")
    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InputError(f"{what} uses .npy format version {version}, which is not "
                             "supported; save a plain numeric array with numpy.save.")
    except InputError:
        raise
    except _LOAD_ERRORS as err:
        raise InputError(f"{what} is corrupt: its .npy header cannot be read ({err}).") from err
    if dtype.hasobject:
        raise InputError(f"{what} contains Python objects (pickled data), which are not loaded "
                         "for safety. Save a plain numeric array, e.g. "
                         "np.save(f, X.astype(float)).")
    need = math.prod(shape) * dtype.itemsize
    have = len(raw) - fp.tell()
    if have < need:
        raise InputError(f"{what} is truncated or corrupt: its header announces shape {shape} "
                         f"({need} bytes of data) but only {have} bytes follow.")
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except _LOAD_ERRORS as err:
        raise InputError(f"{what} is corrupt and cannot be loaded ({err}).") from err
    if not isinstance(array, np.ndarray):
        raise InputError(f"{what} is not a single NumPy array.")
    return array


def _read_npz(raw: bytes):
    """(X array, labels array or None) from .npz bytes."""
    if not raw.startswith(b"PK"):
        hint = (" It is a single-array .npy file: use the .npy extension."
                if raw.startswith(np.lib.format.MAGIC_PREFIX) else "")
        raise InputError(f"The .npz file is not a NumPy .npz (zip) archive.{hint}")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = {info.filename[:-4]: info for info in archive.infolist()
                       if info.filename.endswith(".npy")}
            data_key, label_key = _npz_keys(list(members))
            X = _npz_member(archive, members, data_key)
            labels = _npz_member(archive, members, label_key) if label_key else None
    except InputError:
        raise
    except _LOAD_ERRORS as err:
        raise InputError(f"The .npz file is corrupt and cannot be read ({err}).") from err
    if labels is not None and labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return X, labels


def _npz_keys(keys: list[str]) -> tuple[str, str | None]:
    if not keys:
        raise InputError("The .npz archive contains no arrays.")
    label_key = next((k for k in _NPZ_LABEL_KEYS if k in keys), None)
    data_key = next((k for k in _NPZ_DATA_KEYS if k in keys), None)
    others = [k for k in keys if k != label_key]
    if data_key is None and len(others) == 1:
        data_key = others[0]
    if data_key is None:
        raise InputError(f"The .npz archive has arrays {', '.join(map(repr, keys))}; name the "
                         f"points 'X' (and the optional labels 'labels').")
    return data_key, label_key


def _npz_member(archive: zipfile.ZipFile, members: dict, key: str) -> np.ndarray:
    info = members[key]
    if info.file_size > _MAX_MEMBER_BYTES:
        raise InputError(f"Array {key!r} in the .npz is too large ({info.file_size} bytes).")
    return _load_npy(archive.read(info), f"Array {key!r} in the .npz")
