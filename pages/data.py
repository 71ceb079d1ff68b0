"""Data: choose the point set every page works on (generate, digits, upload) and export it."""
from __future__ import annotations

import hashlib
import re
import secrets

import numpy as np
import streamlit as st

from gfncp import data, tables
from gfncp.figures import data_views as dv
from gfncp.prior import TEXTBOOK
from gfncp.scaling import estimate_scale
from gfncp.ui import sources
from gfncp.ui.table_sets import REAL_SETS, real_set, real_summary, upload_set
from gfncp.ui.state import DEFAULT_MOG, Dataset, get_dataset, projection, set_dataset

SEED_MAX = 2**31 - 1
PLOT_CONFIG = {"displaylogo": False}
DIGITS_MAX_N = 500
INPUT_PX, SEED_PX = 96, 150       # fixed widths, so a row of inputs wraps in a narrow window
UPLOAD_LIMIT = tables.size_in_words(tables.MAX_UPLOAD_BYTES)   # the server takes more (.streamlit/config.toml) so the page can say so


# -- helpers ---------------------------------------------------------------------------------


def describe(ds: Dataset) -> str:
    k = f"true K = {ds.true_k}" if ds.true_k is not None else "no labels"
    return f"N = {ds.n} · {ds.dim}-D · {k}"


def commit(ds: Dataset) -> None:
    """Make ds the current set and leave a confirmation for the next run."""
    set_dataset(ds)
    st.session_state["data_flash"] = (f"**{ds.name}** is now the current data set ({describe(ds)}). "
                                      "Every page works on it.")


def new_seed(key: str) -> None:
    st.session_state[key] = secrets.randbelow(100_000)


def show_current_view(ds: Dataset, where: str) -> None:
    """Scatter of the current set: the points themselves in 2-D, else PCA or UMAP."""
    method = "pca"
    if ds.dim > 2:
        choice = st.segmented_control(
            "Projection", ["PCA", "UMAP"], default="PCA", key=f"proj_{where}", persist_state="session",
            help="PCA is instant and linear; UMAP (seconds) keeps neighbourhoods, so clusters separate better.")
        method = "umap" if choice == "UMAP" else "pca"
    table = ds.source in ("real", "upload") and ds.dim > 2       # features in different units
    if method == "umap":
        with st.spinner("Computing UMAP… the first time in a session also compiles it (up to half a minute)."):
            X2 = projection(ds.key, ds.X, "umap", seed=0, standardized=table)
    else:
        X2 = projection(ds.key, ds.X, "pca", standardized=table)
    if ds.dim <= 2:
        axes, title = ("x₁", "x₂"), "The points"
    elif method == "pca":
        axes, title = ("PC 1", "PC 2"), f"The {ds.dim}-D points on their first two principal axes"
    else:
        axes, title = ("UMAP 1", "UMAP 2"), f"UMAP view of the {ds.dim}-D points"
    hover = None
    if ds.source == "digits" and "digit_classes" in ds.params:
        hover = [f"row {i}, digit {c}" for i, c in enumerate(ds.params["digit_classes"])]
    fig = dv.scatter_clusters(X2, ds.labels, title=title, hover=hover,
                              axis_titles=axes, cluster_names=ds.class_names)
    st.plotly_chart(fig, config=PLOT_CONFIG, key=f"scatter_{where}")
    if ds.labels is not None:
        truth = "the known classes" if ds.class_names else "the true clusters"
        note = " Each feature is standardised before the projection, as the general pair does." if table else ""
        st.caption(f"Colours: {truth}. The models never see them; they only see the points.{note}")


# -- page ------------------------------------------------------------------------------------

st.title("Data")
st.markdown("Pick the point set that every page works on: draw one from the models' own prior, "
            "take real handwritten digits, or upload your own. It stays current until you choose another.")

current = get_dataset()
flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
else:
    st.markdown(f":material/dataset: Current data set: **{current.name}** — {describe(current)}")

tabs = st.tabs(["Generate", "Real data", "Upload", "Export"], key="data_tab", on_change="rerun")
tab_gen, tab_real, tab_up, tab_exp = tabs


# -- Generate ----------------------------------------------------------------------------------


GEN_INPUTS = {"gen_n": ("n_points", "Number of points N"), "gen_dim": ("dim", "Dimension"),
              "gen_alpha": ("alpha", "α (CRP)"), "gen_sigma": ("sigma", "σ (spread)"),
              "gen_lam": ("lam", "λ (centres)"), "gen_seed": ("seed", "Seed")}


def generate() -> None:
    """Generate from the form's values; a value outside the allowed range says which range."""
    s = st.session_state
    spec = {p.key: p for p in sources.SOURCES["generated"].params}
    params, problems = {}, []
    for key, (name, label) in GEN_INPUTS.items():
        p = spec[name]
        try:
            params[name] = p.decode(str(s[key]))
        except ValueError as allowed:
            problems.append(f"{label} must be {allowed}; it is {s[key]:g}")
    if problems:
        s["generate_error"] = "Nothing was generated: " + "; ".join(problems) + "."
        return
    try:
        ds = sources.generated_dataset(params)
    except ValueError as e:          # never show a traceback
        s["generate_error"] = str(e)
        return
    commit(ds)


def generate_new_seed() -> None:
    new_seed("gen_seed")
    generate()


if tab_gen.open is not False:
    with tab_gen:
        left, right = st.columns([1.2, 2], gap="large")
        with left:
            st.markdown("**A mixture of Gaussians from the CRP prior**")
            st.caption("A Chinese Restaurant Process partitions the N points (α: more clusters when larger); "
                       "each cluster gets a centre ~ N(0, λ²I) and its points ~ N(centre, σ²I). "
                       f"The shipped models were trained with α = {TEXTBOOK.alpha:g}, σ = {TEXTBOOK.sigma:g}, "
                       f"λ = {TEXTBOOK.lam:g}.")
            err = st.session_state.pop("generate_error", None)
            if err:
                st.error(err)
            with st.form("generate_form", border=False):
                d = DEFAULT_MOG
                st.slider("Number of points N", sources.GEN_N_MIN, 1000, d["n_points"], key="gen_n", persist_state="session")
                st.slider("Dimension", 2, 64, d["dim"], key="gen_dim", persist_state="session",
                          help="2-D sets go to the 2-D models; any other dimension to the 16-D models "
                               "(zero-padded below 16, projected onto 16 principal axes above).")
                # Rows that wrap in a narrow window (equal columns squeezed the inputs to ~60 px there).
                row = st.container(horizontal=True)
                # No min/max on the inputs: the browser would only outline an out-of-range value in red and
                # Generate would do nothing; generate() names the allowed range instead.
                row.number_input("α (CRP)", value=d["alpha"], step=0.1, key="gen_alpha", persist_state="session",
                                 width=INPUT_PX,
                                 help="CRP concentration, 0.05 to 10: expected number of clusters grows like α log N.")
                row.number_input("σ (spread)", value=d["sigma"], step=0.1, key="gen_sigma", persist_state="session",
                                 width=INPUT_PX, help="Within-cluster standard deviation, 0.05 to 10.")
                row.number_input("λ (centres)", value=d["lam"], step=1.0, key="gen_lam", persist_state="session",
                                 width=INPUT_PX, help="Standard deviation of the cluster centres, 0 to 100.")
                row = st.container(horizontal=True, vertical_alignment="bottom")
                row.number_input("Seed", value=0, step=1, key="gen_seed", persist_state="session",
                                 width=SEED_PX, help="0 to 2147483647. The same parameters and seed always give the same set.")
                row.form_submit_button("New seed", icon=":material/refresh:", on_click=generate_new_seed,
                                       help="Draw a fresh random seed and generate.")
                st.form_submit_button("Generate", type="primary", icon=":material/casino:", on_click=generate,
                                      width="stretch")
        with right:
            show_current_view(current, "gen")


# -- Real data ---------------------------------------------------------------------------------


def draw_digits() -> None:
    s = st.session_state
    k_choice = s["dig_k"]
    n_classes = None if k_choice == sources.DIGIT_CLASS_CHOICES[0] else int(k_choice)
    split = next(k for k, label in sources.DIGIT_SPLITS.items() if label == s["dig_split"])
    seed = s["dig_seed"]
    if not (float(seed).is_integer() and 0 <= seed <= SEED_MAX):
        s["digits_error"] = f"Nothing was drawn: the seed must be a whole number from 0 to {SEED_MAX}; it is {seed:g}."
        return
    try:
        ds = sources.digits_dataset(dict(n_points=int(s["dig_n"]), n_classes=n_classes, split=split, seed=int(seed)))
    except ValueError as e:
        s["digits_error"] = f"Cannot draw this task: {e}"
        return
    commit(ds)


def draw_digits_new_seed() -> None:
    new_seed("dig_seed")
    draw_digits()


def load_real_set() -> None:
    commit(real_set(st.session_state["real_name"]))


def real_set_title(name: str) -> str:
    return real_summary(name)["title"]


if tab_real.open is not False:
    with tab_real:
        left, right = st.columns([1.2, 2], gap="large")
        with left:
            st.markdown("**Tables with known classes**")
            st.selectbox("Data set", REAL_SETS, format_func=real_set_title, key="real_name",
                         persist_state="session",
                         help="Bundled with the app: scikit-learn's iris, wine and breast cancer tables "
                              "and the Palmer penguins.")
            about = real_summary(st.session_state["real_name"])
            st.caption(f"{about['description']}  \nClasses: {about['classes']}.  \n"
                       f"Features: {about['features']}.")
            st.button("Load this data set", type="primary", icon=":material/table_view:", on_click=load_real_set,
                      key="real_load", width="stretch",
                      help="The general model pair serves it in its own units: it standardises each feature itself.")
            st.divider()
            st.markdown("**Handwritten digits (scikit-learn, 8x8 pixels = 64-D)**")
            st.caption("A clustering task: a few digit classes, each a cluster of distinct images. "
                       "The digits models were trained on the training split; held-out images test them fairly.")
            err = st.session_state.pop("digits_error", None)
            if err:
                st.error(err)
            with st.form("digits_form", border=False):
                st.selectbox("Number of classes", sources.DIGIT_CLASS_CHOICES,
                             key="dig_k", persist_state="session",
                             help=f"random (CRP): cluster sizes from a CRP({TEXTBOOK.alpha:g}) partition, "
                                  "at most 10 classes.")
                st.slider("Number of points N", 5, DIGITS_MAX_N, 100, key="dig_n", persist_state="session")
                st.radio("Images from", list(sources.DIGIT_SPLITS.values()),
                         key="dig_split", persist_state="session", horizontal=True)
                row = st.container(horizontal=True, vertical_alignment="bottom")
                row.number_input("Seed", value=0, step=1, key="dig_seed", persist_state="session",
                                 width=SEED_PX, help="0 to 2147483647. The same options and seed always give the same task.")
                row.form_submit_button("New seed", icon=":material/refresh:", on_click=draw_digits_new_seed,
                                       help="Draw a fresh random seed and a new task.")
                st.form_submit_button("Draw task", type="primary", icon=":material/casino:", on_click=draw_digits,
                                      width="stretch")
        with right:
            if current.source == "digits" and current.images is not None:
                st.plotly_chart(dv.digits_thumbnails(current.images, current.labels, per_cluster=8,
                                                     title="A few images of every true cluster"),
                                config=PLOT_CONFIG, key="thumbs")
                show_current_view(current, "real")
            elif current.source == "real":
                show_current_view(current, "real")
            else:
                st.info("The current set is neither a bundled table nor a digits task. Load a table or "
                        "press **Draw task** on the left to see it here.", icon=":material/image:")


# -- Upload ----------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(raw: bytes, filename: str) -> tables.Table:
    return tables.read_table(raw, filename)


@st.cache_data(show_spinner=False, max_entries=16)
def scale_estimate(key: str, _X: np.ndarray) -> float:
    return estimate_scale(_X)


def use_upload() -> None:
    candidate = st.session_state.get("upload_candidate")
    if candidate is not None:
        commit(candidate)


def listed(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


if tab_up.open is not False:
    with tab_up:
        left, right = st.columns([1, 1.35], gap="large")
        with left:
            st.markdown("**Your own points**")
            st.caption("One point per row, one coordinate per column. Text files (.csv, .tsv, .txt) may have a "
                       "header naming the columns; you pick the columns to use and the one holding known "
                       "labels, if any. Rows with a missing value (empty, NA, NaN) are left out. "
                       "NumPy files: a 2-D array (.npy) or arrays `X` and `labels` (.npz). "
                       f"At most {data.MAX_POINTS:,} points and {UPLOAD_LIMIT}.")
            upload = st.file_uploader(f"Point set file (CSV, TSV, TXT, NPY or NPZ; up to {UPLOAD_LIMIT})",
                                      key="upload_file")
        st.session_state.pop("upload_candidate", None)
        if upload is None:
            right.info("Upload a file to preview it here. Nothing changes until you press **Use this data**.",
                       icon=":material/upload_file:")
        elif upload.size > tables.MAX_UPLOAD_BYTES:
            left.error(f"**{upload.name}** is {tables.size_in_words(upload.size)}: files up to {UPLOAD_LIMIT} are "
                       f"accepted ({data.MAX_POINTS:,} points of 64 coordinates make a CSV of about 3 MB). Keep fewer "
                       "rows or columns, or save it as .npy.", icon=":material/error:")
            left.caption(f"The current data set is unchanged: {current.name}.")
        else:
            raw = upload.getvalue()
            try:
                table = read_upload(raw, upload.name)
            except (data.InputError, ValueError, MemoryError) as e:
                left.error(f"Could not use **{upload.name}**: {e}", icon=":material/error:")
                left.caption(f"The current data set is unchanged: {current.name}.")
            else:
                file_id = hashlib.sha1(raw).hexdigest()[:12]
                n_num = len(table.numeric_columns)
                with left:
                    st.markdown(f"Read **{upload.name}**: {table.n_rows} rows, {len(table.columns)} "
                                f"column{'s' * (len(table.columns) != 1)} ({n_num} numeric).")
                    if table.non_numeric:
                        st.caption(f"Not numeric, so left out of the coordinates: {listed(table.non_numeric)}. "
                                   "A column of names can still hold the known labels.")
                    names = table.columns
                    guess = table.label_guess
                    label_idx = st.selectbox(
                        "Known labels", list(range(-1, len(names))),
                        index=0 if guess is None else names.index(guess) + 1,
                        format_func=lambda j: "none" if j < 0 else names[j], key=f"upload_label_{file_id}",
                        help="The column holding each row's true class, if any: it colours the points and "
                             "scores the models, which never see it. Guessed from its name (label, cluster, "
                             "class, target, species).")
                    label = None if label_idx < 0 else names[label_idx]
                    offered = [c for c in table.numeric_columns if c != label]
                    features = st.multiselect(
                        "Columns to use as coordinates", offered, default=offered,
                        key=f"upload_cols_{file_id}_{label_idx}",
                        help="The general pair (the default for uploads) takes any number of columns.")
                    points = None
                    if not offered:
                        why = "its only numeric column holds the labels" if n_num else "it has no numeric column"
                        st.error(f"Could not use **{upload.name}**: {why}, so nothing is left for the "
                                 "coordinates.", icon=":material/error:")
                    elif not features:
                        st.warning("Choose at least one column.", icon=":material/warning:")
                    else:
                        try:
                            points = tables.select_points(table, features, label)
                        except data.InputError as e:
                            st.error(f"Could not use **{upload.name}**: {e}", icon=":material/error:")
                if points is not None:
                    X = points.X
                    sel_key = hashlib.sha1(f"{file_id}|{label}|{'|'.join(features)}".encode()).hexdigest()[:16]
                    with left:
                        n_classes = f", {len(points.class_names)} known classes" if points.labels is not None else ""
                        dropped = (f" {points.rows_dropped} row{'s' * (points.rows_dropped != 1)} with a missing "
                                   "value in these columns left out." if points.rows_dropped else "")
                        st.markdown(f"Using **{len(X)} points** x **{X.shape[1]}** "
                                    f"column{'s' * (X.shape[1] != 1)}{n_classes}.{dropped}")
                        scaled = st.checkbox(
                            "Scale for textbook pairs", value=False, key=f"upload_scale_on_{sel_key}",
                            help="Divides every coordinate by s, so that one cluster has standard deviation "
                                 "about 1, the units the textbook (Gaussian-mixture) pairs were trained in.")
                        st.caption("Not needed by default: uploads go to the general pair, which standardises "
                                   "each feature itself, so your units never matter to it. Scale only to try a "
                                   "textbook pair, chosen in the sidebar once the set is loaded.")
                        s = None
                        if scaled:
                            with st.spinner("Estimating the scale…"):
                                auto = scale_estimate(sel_key, X)
                            s = st.number_input(
                                "Divide every coordinate by s", min_value=1e-12, value=float(f"{auto:.4g}"),
                                step=float(f"{auto / 10:.1g}"), format="%.4g", key=f"upload_scale_{sel_key}",
                                help="Automatic default: the estimated within-cluster standard deviation.")
                            st.caption(f"Automatic estimate s = {auto:.4g}: the spread of one cluster in your "
                                       "file's units.")
                    candidate = upload_set(upload.name, points, s)
                    st.session_state["upload_candidate"] = candidate
                    left.button("Use this data", type="primary", icon=":material/check:", on_click=use_upload,
                                key="upload_use")
                    pca_note = " First two principal axes shown." if X.shape[1] > 2 else ""
                    std_note = " First two principal axes of the standardised features." if X.shape[1] > 2 else ""
                    with right:
                        if scaled:
                            st.plotly_chart(dv.scaling_preview(X, candidate.X, points.labels), config=PLOT_CONFIG,
                                            key="scale_prev")
                            st.caption("Dashed circle (right): radius 1, the within-cluster standard deviation the "
                                       "textbook models were trained with; scaled clusters should look about that "
                                       "wide." + pca_note)
                        else:
                            axes = tuple(points.features) if X.shape[1] == 2 else ("PC 1", "PC 2")
                            if X.shape[1] == 1:
                                axes = (points.features[0], "")
                            fig = dv.scatter_clusters(projection(sel_key, X, "pca", standardized=X.shape[1] > 2),
                                                      points.labels, title="Preview", axis_titles=axes,
                                                      cluster_names=points.class_names, show_legend=False,
                                                      height=400)
                            st.plotly_chart(fig, config=PLOT_CONFIG, key="upload_prev")
                            truth = (" Colours: the known labels (their names show on hover)."
                                     if points.labels is not None else "")
                            if (std_note + truth).strip():
                                st.caption((std_note + truth).strip())


# -- Export ------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "points"


if tab_exp.open is not False:
    with tab_exp:
        st.markdown(f"**Download the current data set** — {current.name} ({describe(current)})")
        label_note = " and a `label` column (the true clusters)" if current.labels is not None else ""
        st.caption(f"CSV with a header, columns x0 … x{current.dim - 1}{label_note}; the Upload tab reads it back.")
        csv_bytes = data.write_points_csv(current.X, current.labels)
        st.download_button("Download CSV", csv_bytes, file_name=f"{slug(current.name)}.csv", mime="text/csv",
                           icon=":material/download:", type="primary", key="export_csv")
        preview = {f"x{j}": current.X[:10, j] for j in range(min(current.dim, 8))}
        if current.labels is not None:
            preview["label"] = current.labels[:10]
        st.dataframe(preview, hide_index=True)
        if current.dim > 8:
            st.caption(f"First 10 rows and 8 of {current.dim} columns shown; the file holds them all.")
        else:
            st.caption("First 10 rows shown; the file holds them all.")
