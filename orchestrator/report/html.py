"""The page's HTML: one stylesheet inline, tables from rows, everything escaped. No script,
no font or stylesheet from the network: the page must open offline, from a laptop's disk or
a cluster's shared drive."""

from __future__ import annotations

import math
from html import escape

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1200px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
p.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.8em; }
p.explain { color: #444; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
code.genotype { display: block; white-space: pre-wrap; word-break: break-all;
                background: #f6f8fa; padding: 0.6em; border-radius: 4px; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def heading(level: int, text: str, anchor: str | None = None) -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(text)}</h{level}>\n"


def paragraph(text: str, kind: str = "explain") -> str:
    """`text` is plain text; it is escaped."""
    return f'<p class="{kind}">{escape(text)}</p>\n'


def image(src: str, alt: str, caption: str) -> str:
    return (f'<figure><img src="{escape(src)}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>\n")


def summary(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="summary">{rows}</dl>\n'


def table(headers: list[str], rows: list[list], ident: str | None = None) -> str:
    """Numbers are right-aligned and formatted; None and NaN show as '-'."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>\n" for row in rows)
    ident_attr = f' id="{escape(ident)}"' if ident else ""
    return f"<table{ident_attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def mean_std(mean, std) -> str:
    """"0.9512 ± 0.0031", or the mean alone where there is no spread (one seed)."""
    text = number(mean)
    if not (std is None or type(std).__name__ == "NAType" or (isinstance(std, float) and math.isnan(std))):
        text += f" ± {number(std)}"
    return text


def number(value, digits: int = 4) -> str:
    if value is None or type(value).__name__ == "NAType" or (
            isinstance(value, float) and math.isnan(value)):
        return "-"
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


def _cell(value) -> str:
    if isinstance(value, Raw):
        return f"<td>{value.html}</td>"
    text = number(value)
    numeric = text != "-" and not isinstance(value, str)
    return f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


class Raw:
    """A table cell that is already HTML (built here from escaped parts)."""

    def __init__(self, html: str):
        self.html = html
