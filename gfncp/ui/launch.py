"""Start the app: `python -m gfncp.ui.launch [streamlit run options]` is `streamlit run app.py`
without the old-style page list a fresh server would flash first (`make run` uses it).

Why: Streamlit decides once per server process, when the first browser session starts and
before any script has run, whether the app is an old-style `pages/` folder app; it is as soon
as a folder named `pages` sits beside the entry point. Until app.py's st.navigation has run, that
first session's sidebar then lists the folder's file names ("data", "step through", ...) over a
blank page for a second or two. Setting the decision here, before the server starts, is the
state st.navigation would reach anyway. `streamlit run app.py` still works: the page-side fix-up
(gfncp/ui/state.py, leave_pages_folder_mode) then undoes the fallback after the first run.
"""
from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def main(argv: list[str] | None = None) -> None:
    try:                         # a private flag: see gfncp/ui/state.py, leave_pages_folder_mode
        from streamlit.runtime.pages_manager import PagesManager
        PagesManager.uses_pages_directory = False
    except ImportError:          # a Streamlit without it: the page-side fix-up still applies
        pass
    from streamlit.web import cli
    cli.main(args=["run", str(APP), *(sys.argv[1:] if argv is None else argv)], prog_name="streamlit")


if __name__ == "__main__":
    main()
