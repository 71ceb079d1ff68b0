"""The three-point state graph as a small static SVG (the first-visit introduction's picture).

The same story as gfncp.figures.data_views.state_tree_diagram, drawn as plain SVG markup so that
the introduction costs no chart (no plotly drawing on a first visit). Pure: -> str.
"""
from __future__ import annotations

from html import escape

NODES = {  # name: (column, row, label, kind)
    "root": (0, 0.0, "∅", "root"),
    "a": (1, 1.5, "{a}", "partial"), "c": (1, -1.5, "{c}", "partial"),
    "ab": (2, 2.25, "{a b}", "partial"), "a|b": (2, 0.75, "{a}{b}", "partial"),
    "c|b": (2, -0.75, "{b}{c}", "partial"), "cb": (2, -2.25, "{b c}", "partial"),
    "abc": (3, 2.25, "{a b c}", "terminal"), "ab|c": (3, 0.0, "{a b}{c}", "target"),
    "a|b|c": (3, -2.25, "{a}{b}{c}", "terminal"),
}
ORDER_1 = [("root", "a"), ("a", "ab"), ("ab", "ab|c")]
ORDER_2 = [("root", "c"), ("c", "c|b"), ("c|b", "ab|c")]
OTHERS = [("a", "a|b"), ("c", "cb"), ("ab", "abc"), ("cb", "abc"), ("a|b", "a|b|c"), ("c|b", "a|b|c")]
COLORS = ("#1f77b4", "#d62728")


def three_point_svg(width: int = 420, height: int = 250) -> str:
    """SVG markup: root -> partial clusterings -> finished clusterings; two orders (blue: a, b, c;
    red: c, b, a) reach the same clustering {a b}{c}."""
    def pos(name):
        col, row, _, _ = NODES[name]
        return 40 + col * (width - 95) / 3, height / 2 - 16 - row * (height - 70) / 5.2

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">']
    for edges, colour, w, dash in ((OTHERS, "#aaa", 1.5, "3,3"), (ORDER_1, COLORS[0], 3.5, ""),
                                   (ORDER_2, COLORS[1], 3.5, "")):
        for u, v in edges:
            (x1, y1), (x2, y2) = pos(u), pos(v)
            parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{colour}" '
                         f'stroke-width="{w}"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    fills = {"root": "#fff", "partial": "#fff", "terminal": "#f4f4f4", "target": "#fff3c4"}
    for name, (_, _, label, kind) in NODES.items():
        x, y = pos(name)
        w = 14 + 8 * len(label)
        parts.append(f'<rect x="{x - w / 2:.0f}" y="{y - 11:.0f}" width="{w}" height="22" rx="4" fill="{fills[kind]}" '
                     f'stroke="{"#333" if kind in ("root", "target") else "#999"}"/>')
        parts.append(f'<text x="{x:.0f}" y="{y + 4.5:.0f}" text-anchor="middle">{escape(label)}</text>')
    y = height - 12
    parts.append(f'<text x="10" y="{y}" fill="{COLORS[0]}">— order a, b, c</text>')
    parts.append(f'<text x="150" y="{y}" fill="{COLORS[1]}">— order c, b, a</text>')
    parts.append(f'<text x="290" y="{y}" fill="#777">··· other moves</text>')
    parts.append("</svg>")
    return "".join(parts)
