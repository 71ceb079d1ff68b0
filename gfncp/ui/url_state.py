"""Views as links: the URL's query string holds the data set and the page's settings.

    /step_through?data=generated&n=60&dim=2&alpha=0.7&sigma=1&lam=10&seed=1234&step=10

The path names the page (Streamlit's navigation); the query holds `data=<source>` with that
source's parameters (gfncp/ui/sources.py) and the settings of the page (PAGE_PARAMS: widget
keys in st.session_state). Every run writes the current view into st.query_params
(`publish`), so the address bar is always a link to the view; the first run of a browser
session (a link opened, a reload) reads it back (`restore`) before the sidebar and the page
are drawn. Values that cannot be used (a typo, a range the app does not allow, an upload the
server no longer has) fall back to their defaults, and one line says what was ignored: never an
exception.

The pure part (Param, decode_*, encode_*) needs no Streamlit and is tested directly; the
Streamlit part is `restore`, `publish` and `share_link`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..orders import ORDER_KINDS

INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """One value in a link. kind: "int", "float", "bool", "choice" (URL token -> value) or "text"
    (matching `pattern`). `key`: where the value lives (a Dataset.params key, or a session-state key)."""

    url: str
    key: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: dict = field(default_factory=dict)
    pattern: str = ""
    what: str = ""

    def allowed(self) -> str:
        """What the link may hold, in words."""
        if self.kind == "int":
            return f"a whole number from {int(self.lo)} to {int(self.hi)}"
        if self.kind == "float":
            return f"a number from {self.lo:g} to {self.hi:g}"
        if self.kind == "bool":
            return "1 or 0"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return self.what or f"text matching {self.pattern}"

    def decode(self, raw: str):
        """The value of a URL string; ValueError if it is not allowed."""
        raw = str(raw).strip()
        if self.kind in ("int", "float"):
            try:
                v = float(raw)
            except ValueError:
                raise ValueError(self.allowed()) from None
            if not math.isfinite(v) or (self.kind == "int" and v != int(v)):
                raise ValueError(self.allowed())
            if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
                raise ValueError(self.allowed())
            return int(v) if self.kind == "int" else v
        if self.kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(self.allowed())
        if self.kind == "choice":
            if raw in self.choices:
                return self.choices[raw]
            raise ValueError(self.allowed())
        if re.fullmatch(self.pattern, raw):
            return raw
        raise ValueError(self.allowed())

    def encode(self, value) -> str:
        if self.kind == "int":
            return str(int(value))
        if self.kind == "float":
            return f"{float(value):g}"
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "choice":
            for token, v in self.choices.items():
                if v == value:
                    return token
            raise ValueError(f"{value!r} is not a choice of {self.url}")
        return str(value)

    def valid(self, value) -> bool:
        try:
            return self.decode(self.encode(value)) == value
        except (ValueError, TypeError):
            return False


# -- page settings ----------------------------------------------------------------------------------

PAGE_PARAMS: dict[str, tuple] = {
    "data": (),
    "step_through": (
        Param("step", "st_step", "int", 1, lo=1, hi=100_000),
        Param("order", "st_order_kind", "choice", "data", choices={k: k for k in ORDER_KINDS}),
        Param("oseed", "st_order_seed", "int", 1, lo=0, hi=INT_MAX),
        Param("typed", "st_order_text", "text", "", pattern=r"[0-9 ,]{0,60}", what="point numbers separated by commas"),
        Param("mode", "st_mode", "choice", "Greedy", choices={"greedy": "Greedy", "sampled": "Sampled"}),
        Param("sseed", "st_seed", "int", 0, lo=0, hi=INT_MAX),
        Param("compare", "st_compare", "bool", False),
        Param("path", "st_path", "choice", "GFNCP's choices", choices={"gfncp": "GFNCP's choices", "ncp": "NCP's choices"}),
        Param("view", "st_projection", "choice", "PCA", choices={"pca": "PCA", "umap": "UMAP"}),
        Param("speed", "st_speed", "choice", 4, choices={str(s): s for s in (1, 2, 4, 8, 15)}),
    ),
    "order_invariance": (
        Param("R", "inv_n_orders", "int", 50, lo=5, hi=200),
        Param("iseed", "inv_seed", "int", 0, lo=0, hi=INT_MAX),
        Param("scored", "inv_scored", "choice", "truth", choices={"truth": "truth", "gfncp": "GFNCP", "ncp": "NCP"}),
        Param("orders", "inv_hand_orders", "text", "", pattern=r"[a-z0-9.:,]{0,200}",
              what="orders like data,reversed,pca,clusters,random:3,typed:2.0.1"),
    ),
    "uncertainty": (
        Param("S", "unc_S", "choice", 100, choices={str(s): s for s in (10, 20, 50, 100, 200, 500)}),
        Param("useed", "unc_seed", "int", 0, lo=0, hi=INT_MAX),
        Param("ncp", "unc_ncp", "bool", False),
        Param("uview", "unc_proj", "choice", "PCA", choices={"pca": "PCA", "umap": "UMAP"}),
    ),
    "state_graph": (
        Param("gmodel", "sg_model", "choice", "GFNCP", choices={"gfncp": "GFNCP", "ncp": "NCP"}),
        Param("gorder", "sg_order_kind", "choice", "data", choices={k: k for k in ORDER_KINDS}),
        Param("gseed", "sg_order_seed", "int", 0, lo=0, hi=INT_MAX),
        Param("gtyped", "sg_order_text", "text", "", pattern=r"[0-9 ,]{0,60}", what="point numbers separated by commas"),
        Param("gstep", "sg_step", "int", 5, lo=0, hi=5),
    ),
    "about": (),
}


def _check_names() -> None:
    """A URL name means one thing: data parameters and page settings must not collide."""
    from .sources import SOURCES
    data_names = {"data"} | {p.url for s in SOURCES.values() for p in s.params}
    for page, params in PAGE_PARAMS.items():
        names = [p.url for p in params]
        clash = (set(names) & data_names) or {n for n in names if names.count(n) > 1}
        if clash:
            raise RuntimeError(f"URL parameter(s) {sorted(clash)} of page {page} collide")


# -- encode / decode (pure) ---------------------------------------------------------------------------

def encode_dataset(ds) -> dict[str, str]:
    """The query that rebuilds a Dataset (see gfncp/ui/sources.py); an upload is kept on the server."""
    from .sources import SOURCES, keep_upload
    source = SOURCES.get(ds.source)
    if source is None:
        return {}
    if ds.source == "upload":
        keep_upload(ds)
        values = {"key": ds.key}
    else:
        values = ds.params
    out = {"data": source.name}
    for p in source.params:
        v = values.get(p.key, p.default)
        if p.valid(v):
            out[p.url] = p.encode(v)
    return out


def decode_dataset(query: dict) -> tuple[Any, list[str]]:
    """(Dataset or None, notices) from a query. None when the query names no data set, or when it
    cannot be rebuilt (the notices say why, and the caller keeps its default set)."""
    from .sources import SOURCES
    name = query.get("data")
    if name is None:
        return None, []
    source = SOURCES.get(name)
    if source is None:
        return None, [f"data={name} is not a data source (one of {', '.join(SOURCES)}): showing the default set"]
    params, notices = {}, []
    for p in source.params:
        if p.url not in query:
            params[p.key] = p.default
            continue
        try:
            params[p.key] = p.decode(query[p.url])
        except ValueError as err:
            params[p.key] = p.default
            shown = f"; using {p.encode(p.default)}" if p.valid(p.default) and p.kind != "text" else ""
            notices.append(f"{p.url}={query[p.url]} (allowed: {err}){shown}")
    if source.name in ("real", "upload") and notices:
        return None, [f"the link's {source.title} could not be read ({'; '.join(notices)}): showing the default set"]
    try:
        ds = source.build(params)
    except ValueError as err:
        return None, notices + [f"the link's {source.title} could not be rebuilt: {err}; showing the default set"]
    return ds, notices


def encode_page(page: str, state: dict) -> dict[str, str]:
    """The page's settings that differ from their defaults."""
    out = {}
    for p in PAGE_PARAMS.get(page, ()):
        if p.key in state and state[p.key] != p.default and p.valid(state[p.key]):
            out[p.url] = p.encode(state[p.key])
    return out


def decode_page(page: str, query: dict) -> tuple[dict, list[str]]:
    """({session-state key: value}, notices) for the settings the query holds."""
    values, notices = {}, []
    for p in PAGE_PARAMS.get(page, ()):
        if p.url not in query:
            continue
        try:
            values[p.key] = p.decode(query[p.url])
        except ValueError as err:
            notices.append(f"{p.url}={query[p.url]} (allowed: {err})")
    return values, notices


def notice_line(notices: list[str]) -> str:
    """One line for everything a link held that could not be used."""
    if not notices:
        return ""
    return "Part of this link could not be used, so defaults apply: " + "; ".join(notices) + "."


# -- Streamlit -------------------------------------------------------------------------------------------

NOTICE_KEY = "url_notice"
APPLIED_KEY = "url_restored"


PUBLISHED_KEY = "url_published"


def _query_now() -> dict:
    import streamlit as st
    return {k: st.query_params.get(k) for k in st.query_params.keys()}


def restore(page: str) -> bool:
    """Rebuild the view the URL describes when it is not the one this session wrote itself (a
    link opened, a reload, a preset link): the data set (gfncp.ui.state.set_dataset) and the
    page's settings (session state, before its widgets are drawn). Anything unusable leaves a
    one-line notice (show_notice). Returns whether it rebuilt a view."""
    import streamlit as st

    from .state import get_dataset, set_dataset

    query = _query_now()
    if not query or query == st.session_state.get(PUBLISHED_KEY) or query == st.session_state.get(APPLIED_KEY):
        return False
    st.session_state[APPLIED_KEY] = query
    ds, notices = decode_dataset(query)
    if ds is not None and ds.key != get_dataset().key:
        set_dataset(ds)
    if ds is not None:                 # the Data page's forms show the link's own settings
        from .sources import form_state
        st.session_state.update(form_state(ds))
    values, more = decode_page(page, query)
    st.session_state.update(values)
    st.session_state["url_restored_values"] = values
    if notices or more:
        st.session_state[NOTICE_KEY] = notice_line(notices + more)
    return True


def show_notice() -> None:
    """The notice `restore` left, once, as one line at the top of the page."""
    import streamlit as st

    text = st.session_state.pop(NOTICE_KEY, None)
    if text:
        st.warning(text, icon=":material/link_off:")


def current_query(page: str) -> dict[str, str]:
    import streamlit as st

    from .state import get_dataset
    return {**encode_dataset(get_dataset()), **encode_page(page, st.session_state)}


def publish(page: str) -> None:
    """Write the current view into the URL (only when it changed: no message otherwise)."""
    import streamlit as st

    want = current_query(page)
    st.session_state[PUBLISHED_KEY] = want
    if _query_now() != want:
        st.query_params.from_dict(want)


def share_link(page_path: str, query: dict) -> str:
    """The full link to a view: this server's address (as the browser sees it), the page's path
    and the query."""
    import streamlit as st

    try:
        parts = urlsplit(str(st.context.url or ""))
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    except (AttributeError, RuntimeError, ValueError):
        origin = ""
    base = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(s for s in (base.rstrip("/"), page_path.strip("/")) if s) or "/"
    if not path.startswith("/"):
        path = "/" + path
    return origin + path + ("?" + urlencode(query) if query else "")


SHARE_HTML = """
<div style="display:flex;gap:6px;align-items:center">
  <input class="gfncp-link" data-testid="gfncp-share-link" readonly value="{link}"
         style="flex:1;min-width:0;font-size:12px;padding:4px 6px;border:1px solid #ccd;border-radius:4px;background:#fafbfd">
  <button type="button" class="gfncp-copy" style="font-size:12px;padding:4px 8px;border:1px solid #99a;border-radius:4px;background:#fff;cursor:pointer">Copy</button>
</div>
<script>
  // The address bar always holds the current view (url_state.publish, also on every step of Step
  // through): the box shows it and Copy copies it, between full runs too. Installed once per page.
  if (!window.__gfncpShare) {{
    const sync = () => document.querySelectorAll('input.gfncp-link').forEach(i => {{
      if (document.activeElement !== i) i.value = window.location.href; }});
    window.__gfncpShare = setInterval(sync, 300);
    document.addEventListener('click', (event) => {{
      const button = event.target.closest && event.target.closest('button.gfncp-copy');
      if (!button) return;
      const input = button.parentNode.querySelector('input.gfncp-link');
      input.value = window.location.href;
      input.select();
      let copied = false;
      const done = () => {{ copied = true; button.textContent = 'Copied'; }};
      const fallback = () => {{ if (!copied) {{ input.select(); document.execCommand('copy'); done(); }} }};
      if (navigator.clipboard && window.isSecureContext) {{
        // A browser may leave the promise pending (no permission asked): fall back after a moment.
        navigator.clipboard.writeText(input.value).then(done, fallback);
        setTimeout(fallback, 800);
      }} else {{ fallback(); }}
    }}, true);
  }}
</script>
"""


def share_box(page: str, page_path: str) -> None:
    """'Copy link' in the sidebar: the link to the current view (the address bar, kept current in
    the box by a small script; its button copies it), and what an upload's link can and cannot do."""
    import html

    import streamlit as st

    from .state import get_dataset

    link = share_link(page_path, current_query(page))
    sb = st.sidebar
    sb.markdown("#### Share this view")
    with sb.popover("Copy link", icon=":material/link:", width="stretch"):
        st.caption("This link opens this page with this data set and these settings:")
        st.html(SHARE_HTML.format(link=html.escape(link, quote=True)), unsafe_allow_javascript=True)
        if get_dataset().source == "upload":
            st.caption("Your uploaded set is kept on this server under its content hash: the link works for "
                       "reloads and for others using this server, until the server restarts.")
