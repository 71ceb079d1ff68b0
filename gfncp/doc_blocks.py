"""Measured numbers in the docs, written by the commands that measure them.

A document marks each generated block with a pair of HTML comments, invisible when rendered:

    <!-- BEGIN page-targets -->
    ...replaced wholesale by the script that owns the block...
    <!-- END page-targets -->

`replace_block` rewrites what lies between the markers and nothing else, so a script can
update its own table in docs/performance.md without touching the prose around it, and a
table is never edited by hand.
"""
from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
PERFORMANCE = DOCS / "performance.md"


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table; cells are written with str()."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(command: str, note: str = "") -> str:
    """One line saying what wrote a block, when, and on how many CPU cores (plus `note`)."""
    cores = f"{os.cpu_count()} CPU cores" + (f", {note}" if note else "")
    return f"Written by `{command}` on {datetime.date.today().isoformat()} ({platform.machine()}, {cores})."


def replace_block(name: str, body: str, path: Path = PERFORMANCE) -> None:
    """Replace the text between `<!-- BEGIN name -->` and `<!-- END name -->` in `path`.

    Raises ValueError when the document lacks the markers (add them where the block belongs).
    """
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- BEGIN {re.escape(name)} -->\n).*?(<!-- END {re.escape(name)} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no block '{name}': add <!-- BEGIN {name} --> and "
                         f"<!-- END {name} --> where it belongs.")
    new = pattern.sub(lambda m: m.group(1) + body.strip("\n") + "\n" + m.group(2), text, count=1)
    path.write_text(new, encoding="utf-8")
