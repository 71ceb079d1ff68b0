"""Uploaded tables: named columns, numeric or not, with missing values; then the points.

    table = gfncp.tables.read_table(raw_bytes, "penguins.csv")      -> Table
    table.columns, table.numeric_columns, table.non_numeric, table.label_guess
    pts = gfncp.tables.select_points(table, features=None, label=table.label_guess)
    pts.X, pts.labels, pts.class_names, pts.rows_dropped

`read_table` keeps every column of a text file under its header name ("column 1", "column 2",
... when the file has no header). A column is numeric when every value that is not missing
parses as a number; any other column is non-numeric: it can hold known labels but not
coordinates. Missing values are empty fields and NA, N/A, NaN, NULL (any case). NumPy files
(.npy / .npz) are read by `gfncp.data.read_points` (finite arrays only) and become a table of
numeric columns plus a "label" column when the archive holds labels.

`select_points` turns a table, the chosen feature columns and the chosen label column (or
none) into (X, labels): rows with a missing value in any chosen column are dropped and
counted. Problems raise gfncp.data.InputError with a message a person can act on. Pure
functions, no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import MAX_POINTS, TEXT_EXTENSIONS, InputError, read_points
# the text format itself (encoding, delimiter, quoting) is read_points': one home for it
from .data.files import _is_number, _text_rows, checked_upload
from .partitions import canonical_labels

MAX_UPLOAD_MB = 10                                   # files above this are refused, in words
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 10**6          # decimal megabytes, as the browser shows sizes
MISSING_VALUES = ("", "na", "n/a", "nan", "null")   # compared lower-case, stripped
LABEL_NAMES = ("label", "labels", "cluster", "class", "target", "species")   # and "y" without "x"
_HEADER_SAMPLE = 50                                  # data rows looked at to tell a header


@dataclass(frozen=True)
class Table:
    """Every column of a file, in file order. `numeric[name]`: float64 (N,), NaN where
    missing; `text[name]`: object (N,) of str, None where missing. `lines`: each row's
    1-based line in the file (row number for NumPy files)."""

    filename: str
    columns: tuple[str, ...]
    numeric: dict = field(repr=False)
    text: dict = field(repr=False)
    has_header: bool
    lines: np.ndarray = field(repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c in self.numeric)

    @property
    def non_numeric(self) -> tuple[str, ...]:
        """Columns left out of the coordinates (text, or empty in every row)."""
        return tuple(c for c in self.columns if c in self.text)

    def missing(self, column: str) -> np.ndarray:
        """(N,) bool: rows where `column` has no value."""
        if column in self.numeric:
            return np.isnan(self.numeric[column])
        return np.array([v is None for v in self.text[column]], dtype=bool)

    @property
    def rows_with_missing(self) -> int:
        """Rows with a missing value in any column (select_points drops only those missing a
        value in the columns it uses)."""
        if not self.columns:
            return 0
        return int(np.any([self.missing(c) for c in self.columns], axis=0).sum())

    @property
    def label_guess(self) -> str | None:
        """The column that most likely holds known labels: the first named label, labels,
        cluster, class, target or species (any case), else one named y when no column is
        named x; None otherwise (and always for a file without a header)."""
        if not self.has_header:
            return None
        names = [c.strip().lower() for c in self.columns]
        for c, name in zip(self.columns, names):
            if name in LABEL_NAMES:
                return c
        if "x" not in names and "y" in names:
            return self.columns[names.index("y")]
        return None


@dataclass(frozen=True)
class Points:
    """What select_points returns: X float64 (N, d), canonical labels int64 (N,) or None,
    the name of every label value in canonical order, and how many rows were dropped."""

    X: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(repr=False)
    class_names: tuple[str, ...] | None
    features: tuple[str, ...]
    label: str | None
    rows_dropped: int


def read_table(raw_bytes: bytes, filename: str, max_points: int = MAX_POINTS,
               max_bytes: int = MAX_UPLOAD_BYTES) -> Table:
    """Parse an uploaded file into a Table (see the module docstring). Raises InputError."""
    raw_bytes, ext = checked_upload(raw_bytes, filename, max_points)
    if len(raw_bytes) > max_bytes:
        raise InputError(f"The file is {size_in_words(len(raw_bytes))}; the limit is "
                         f"{size_in_words(max_bytes)}. Upload a random subsample of its rows "
                         f"(at most {max_points:,} points).")
    if ext in TEXT_EXTENSIONS:
        return _read_text_table(raw_bytes, filename, max_points)
    X, labels = read_points(raw_bytes, filename, max_points)
    columns = [f"column {j + 1}" for j in range(X.shape[1])]
    numeric = {c: X[:, j].copy() for j, c in enumerate(columns)}
    if labels is not None:
        columns.append("label")
        numeric["label"] = labels.astype(np.float64)
    return Table(filename, tuple(columns), numeric, {}, labels is not None, np.arange(1, len(X) + 1))


def select_points(table: Table, features=None, label: str | None = None) -> Points:
    """(X, labels) from `table`: `features` (column names; None: every numeric column but the
    label column) as coordinates, `label` (a column name, or None) as known labels. Rows with
    a missing value in any of these columns are dropped and counted."""
    if label is not None and label not in table.columns:
        raise InputError(f"There is no column {label!r}; the columns are {_listed(table.columns)}.")
    if features is None:
        features = [c for c in table.numeric_columns if c != label]
    features = list(features)
    for c in features:
        if c not in table.columns:
            raise InputError(f"There is no column {c!r}; the columns are {_listed(table.columns)}.")
        if c not in table.numeric:
            raise InputError(f"Column {c!r} is not numeric, so it cannot be a coordinate "
                             "(it can hold the known labels).")
        if c == label:
            raise InputError(f"Column {c!r} holds the labels; it cannot also be a coordinate.")
    if len(set(features)) != len(features):
        raise InputError("A column is chosen twice as a coordinate.")
    if not features:
        raise InputError("Choose at least one numeric column as a coordinate." if table.numeric_columns
                         else "The file has no numeric columns: nothing to use as coordinates.")
    used = features + ([label] if label is not None else [])
    dropped = np.any([table.missing(c) for c in used], axis=0)
    keep = ~dropped
    n = int(keep.sum())
    if n < 2:
        raise InputError(f"Only {n} row{'s' * (n != 1)} of {table.n_rows} {'have' if n != 1 else 'has'} "
                         "a value in every chosen column; at least 2 points are needed.")
    X = np.stack([table.numeric[c][keep] for c in features], axis=1)
    bad = ~np.isfinite(X)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        line = int(table.lines[np.flatnonzero(keep)[r]])
        raise InputError(f"Row {line}, column {features[j]!r} holds an infinite value. "
                         "Remove or fill such values before uploading.")
    labels = class_names = None
    if label is not None:
        labels, class_names = _labels_of(table, label, keep)
    return Points(X, labels, class_names, tuple(features), label, int(dropped.sum()))


def size_in_words(n_bytes: int) -> str:
    """1500 -> '1.5 KB', 10**7 -> '10 MB' (decimal units, as Streamlit's uploader shows sizes)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes} bytes"


# --- helpers


def _labels_of(table: Table, label: str, keep: np.ndarray):
    if label in table.numeric:
        values = table.numeric[label][keep]
        labels = canonical_labels(values)
        first = [values[np.argmax(labels == k)] for k in range(int(labels.max()) + 1)]
        names = tuple(f"{label} {v:g}" for v in first)
    else:
        values = np.array([v for v in table.text[label][keep]], dtype=object).astype(str)
        labels = canonical_labels(values)
        names = tuple(str(values[np.argmax(labels == k)]) for k in range(int(labels.max()) + 1))
    return labels, names


def _listed(names) -> str:
    return ", ".join(repr(n) for n in names)


def _is_missing(field_: str) -> bool:
    return field_.strip().lower() in MISSING_VALUES


def _numberish(field_: str) -> bool:
    return _is_missing(field_) or _is_number(field_)


def _has_header(first: list[str], rest: list[list[str]]) -> bool:
    """The first row is a header when it is not all numbers and either every field is text or
    some field is text above a column of numbers."""
    if all(_numberish(f) for f in first):
        return False
    if not rest or not any(_numberish(f) for f in first):
        return True
    sample = rest[:_HEADER_SAMPLE]
    for j, f in enumerate(first):
        below = [r[j] for r in sample if j < len(r)]
        if (not _numberish(f) and all(_numberish(v) for v in below)
                and any(_is_number(v) and not _is_missing(v) for v in below)):
            return True
    return False


def _unique_names(header: list[str]) -> list[str]:
    names, seen = [], {}
    for j, raw in enumerate(header):
        name = raw.strip() or f"column {j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    return names


def _read_text_table(raw: bytes, filename: str, max_points: int) -> Table:
    rows = _text_rows(raw, max_points)
    has_header = _has_header(rows[0][1], [f for _, f in rows[1:]])
    if has_header:
        header, rows = rows[0][1], rows[1:]
        if not rows:
            raise InputError("The file has a header row but no data rows.")
    width = len(header) if has_header else len(rows[0][1])
    for no, fields in rows:
        if len(fields) != width:
            raise InputError(f"Row {no} has {len(fields)} value{'s' * (len(fields) != 1)}, "
                             f"expected {width}{' (as many as header names)' if has_header else ''}.")
    columns = _unique_names(header) if has_header else [f"column {j + 1}" for j in range(width)]
    numeric, texts = {}, {}
    for j, name in enumerate(columns):
        values = [fields[j] for _, fields in rows]
        missing = [_is_missing(v) for v in values]
        if not all(missing) and all(m or _is_number(v) for v, m in zip(values, missing)):
            numeric[name] = np.array([np.nan if m else float(v) for v, m in zip(values, missing)])
        else:
            texts[name] = np.array([None if m else v for v, m in zip(values, missing)], dtype=object)
    return Table(filename, tuple(columns), numeric, texts, has_header,
                 np.array([no for no, _ in rows], dtype=np.int64))
