"""gfncp.tables: uploaded tables by column name, non-numeric columns, missing values, the
label column choice; and the size limit in words."""
import io

import numpy as np
import pytest

from gfncp import data
from gfncp.data import InputError
from gfncp.tables import (MAX_UPLOAD_BYTES, MISSING_VALUES, read_table, select_points,
                          size_in_words)


def test_header_names_numeric_and_text_columns():
    raw = (b"species,island,bill_length_mm,body_mass_g,sex\n"
           b"Adelie,Torgersen,39.1,3750,male\n"
           b"Gentoo,Biscoe,46.1,4500,female\n"
           b"Adelie,Dream,37.8,3400,female\n")
    t = read_table(raw, "penguins.csv")
    assert t.has_header and t.n_rows == 3
    assert t.columns == ("species", "island", "bill_length_mm", "body_mass_g", "sex")
    assert t.numeric_columns == ("bill_length_mm", "body_mass_g")
    assert t.non_numeric == ("species", "island", "sex")
    assert t.label_guess == "species"
    np.testing.assert_array_equal(t.numeric["body_mass_g"], [3750, 4500, 3400])
    pts = select_points(t, label=t.label_guess)
    assert pts.features == ("bill_length_mm", "body_mass_g") and pts.rows_dropped == 0
    np.testing.assert_array_equal(pts.X, [[39.1, 3750], [46.1, 4500], [37.8, 3400]])
    np.testing.assert_array_equal(pts.labels, [0, 1, 0])
    assert pts.class_names == ("Adelie", "Gentoo")
    # a non-numeric column may hold labels, never coordinates
    pts = select_points(t, features=["body_mass_g"], label="island")
    assert pts.class_names == ("Torgersen", "Biscoe", "Dream") and pts.X.shape == (3, 1)
    with pytest.raises(InputError, match="'sex' is not numeric"):
        select_points(t, features=["body_mass_g", "sex"])


def test_missing_values_are_dropped_and_counted_in_the_used_columns_only():
    raw = (b"a,b,c,note\n"
           b"1,2,3,x\n"
           b"4,,6,\n"          # b empty; note empty
           b"7,NA,9,y\n"       # b NA
           b"10,11,nan,z\n"    # c NaN
           b"13,14,N/A,w\n"    # c N/A
           b"16,17,18,NULL\n"  # note missing
           b"19,20,21,v\n")
    t = read_table(raw, "m.csv")
    assert t.numeric_columns == ("a", "b", "c") and t.non_numeric == ("note",)
    np.testing.assert_array_equal(t.missing("b"), [0, 1, 1, 0, 0, 0, 0])
    assert t.rows_with_missing == 5
    pts = select_points(t)                                      # a, b, c: rows 2-5 dropped
    assert pts.rows_dropped == 4
    np.testing.assert_array_equal(pts.X, [[1, 2, 3], [16, 17, 18], [19, 20, 21]])
    assert select_points(t, features=["a"]).rows_dropped == 0  # a has every value
    pts = select_points(t, features=["a", "b"], label="note")  # b missing twice, note twice (one row both)
    assert pts.rows_dropped == 3 and pts.class_names == ("x", "z", "w", "v")
    assert {"", "na", "n/a", "nan", "null"} <= set(MISSING_VALUES)


def test_too_few_complete_rows():
    t = read_table(b"a,b\n1,\n2,NA\n3,4\n", "few.csv")
    with pytest.raises(InputError, match="Only 1 row of 3 has a value in every chosen column"):
        select_points(t)


@pytest.mark.parametrize("header", ["label", "Cluster", "class", "target", "species"])
def test_label_column_guessed_by_name(header):
    raw = f"f1,f2,{header}\n1,2,0\n3,4,1\n5,6,0\n".encode()
    t = read_table(raw, "t.csv")
    assert t.label_guess == header
    pts = select_points(t, label=t.label_guess)
    assert pts.features == ("f1", "f2")
    np.testing.assert_array_equal(pts.labels, [0, 1, 0])
    assert pts.class_names == (f"{header} 0", f"{header} 1")
    # "none" is a choice too: then the column is a coordinate like any other
    assert select_points(t, label=None).X.shape == (3, 3)


def test_sklearn_as_frame_export_target_is_labels_not_a_fifth_feature():
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    t = read_table(frame.to_csv(index=False).encode(), "iris.csv")
    assert t.columns[-1] == "target" and t.label_guess == "target"
    pts = select_points(t, label=t.label_guess)
    assert pts.X.shape == (150, 4) and pts.features == tuple(frame.columns[:4])
    np.testing.assert_allclose(pts.X, frame.iloc[:, :4].to_numpy())
    assert int(pts.labels.max()) + 1 == 3


def test_headerless_file_can_mark_its_last_column_as_labels():
    raw = b"1.0,2.0,1\n1.5,2.5,1\n9.0,9.5,2\n"
    t = read_table(raw, "nohead.csv")
    assert not t.has_header and t.columns == ("column 1", "column 2", "column 3")
    assert t.label_guess is None                                # no header: no guess, all coordinates
    assert select_points(t).X.shape == (3, 3)
    pts = select_points(t, label="column 3")
    np.testing.assert_array_equal(pts.X, [[1, 2], [1.5, 2.5], [9, 9.5]])
    np.testing.assert_array_equal(pts.labels, [0, 0, 1])


def test_headerless_file_with_a_text_column_is_not_mistaken_for_a_header():
    t = read_table(b"5.1 3.5 setosa\n7.0 3.2 versicolor\n6.3 3.3 virginica\n", "iris.txt")
    assert not t.has_header and t.non_numeric == ("column 3",)
    assert select_points(t, label="column 3").class_names == ("setosa", "versicolor", "virginica")


def test_duplicate_and_empty_header_names_are_made_unique():
    t = read_table(b"x,x,,y\n1,2,3,4\n5,6,7,8\n", "d.csv")
    assert t.columns == ("x", "x (2)", "column 3", "y")
    assert t.label_guess is None                                # x and y are coordinates


def test_numpy_files_become_numeric_tables():
    X = np.arange(12.0).reshape(4, 3)
    buf = io.BytesIO()
    np.save(buf, X)
    t = read_table(buf.getvalue(), "a.npy")
    assert t.columns == ("column 1", "column 2", "column 3") and t.label_guess is None
    np.testing.assert_array_equal(select_points(t).X, X)
    buf = io.BytesIO()
    np.savez(buf, X=X, labels=np.array([3, 3, 5, 3]))
    t = read_table(buf.getvalue(), "a.npz")
    assert t.label_guess == "label"
    pts = select_points(t, label="label")
    np.testing.assert_array_equal(pts.X, X)
    np.testing.assert_array_equal(pts.labels, [0, 0, 1, 0])


def test_round_trip_of_the_apps_export():
    X, labels = data.make_mog(30, 3, seed=2)
    t = read_table(data.write_points_csv(X, labels), "export.csv")
    pts = select_points(t, label=t.label_guess)
    assert pts.features == ("x0", "x1", "x2")
    np.testing.assert_array_equal(pts.X, X)
    np.testing.assert_array_equal(pts.labels, labels)


@pytest.mark.parametrize("raw, name, message", [
    (b"", "e.csv", "is empty"),
    (b"a,b\n", "h.csv", "header row but no data rows"),
    (b"1,2,3\n4,5\n", "r.csv", "Row 2 has 2 values, expected 3"),
    (b"a,b\n1,inf\n2,3\n", "i.csv", "Row 2, column 'b' holds an infinite value"),
    (b"1,2\n", "p.xlsx", "Unsupported file type"),
    (b"\xff\xfe1,2\n", "b.csv", "not UTF-8"),
])
def test_bad_tables(raw, name, message):
    with pytest.raises(InputError, match=message):
        select_points(read_table(raw, name))


def test_no_numeric_column_and_bad_choices():
    t = read_table(b"name,colour\nann,red\nbob,blue\n", "words.csv")
    assert t.numeric_columns == () and t.non_numeric == ("name", "colour")
    with pytest.raises(InputError, match="no numeric columns"):
        select_points(t, label="colour")
    t = read_table(b"a,b,label\n1,2,0\n3,4,1\n", "t.csv")
    with pytest.raises(InputError, match="There is no column 'c'"):
        select_points(t, features=["a", "c"])
    with pytest.raises(InputError, match="holds the labels"):
        select_points(t, features=["a", "label"], label="label")
    with pytest.raises(InputError, match="at least one numeric column"):
        select_points(t, features=[])


def test_limits_in_words():
    assert size_in_words(MAX_UPLOAD_BYTES) == "10 MB"
    assert size_in_words(1500) == "1.5 KB" and size_in_words(31_000_000) == "31 MB"
    assert size_in_words(12 * 2**20) == "12.6 MB"               # as the browser's uploader says
    with pytest.raises(InputError, match=r"The file is 10\.5 MB; the limit is 10 MB"):
        read_table(b"1,2\n" * (10_500_000 // 4), "big.csv")
    read_table(b"1,2\n" * (MAX_UPLOAD_BYTES // 4), "at_the_limit.csv", max_points=10**7)
    with pytest.raises(InputError, match="limit is 4 points"):
        read_table(b"1,2\n" * 6, "rows.csv", max_points=4)
