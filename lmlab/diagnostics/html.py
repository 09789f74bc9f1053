"""One self-contained HTML page: sections of text, tables and PNG figures embedded as ``data:``
URIs (no file beside it, no script, no network), for ``lmlab report``."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;height:auto}
p.note{color:#555;font-size:.92em}"""


def png_uri(data: bytes) -> str:
    """A ``data:image/png;base64,...`` URI of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _cell(value, fmt: Callable | None) -> str:
    if value is None:
        return '<td class="n">-</td>'
    if fmt is not None:
        return f'<td class="n">{html.escape(fmt(value))}</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int | float):
        return f'<td class="n">{value:.4g}</td>' if isinstance(value, float) else f'<td class="n">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def table(rows: Sequence[dict], columns: Sequence[tuple]) -> str:
    """An HTML table of ``rows``; ``columns``: ``(key, header)`` or ``(key, header, format)``."""
    head = "".join(f"<th>{html.escape(c[1])}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c[0]), c[2] if len(c) > 2 else None) for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)  # paragraphs (plain text, escaped)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (alt text, PNG bytes)
    tables: list[str] = field(default_factory=list)  # from :func:`table`
    notes: list[str] = field(default_factory=list)  # smaller paragraphs after the figures

    def html(self) -> str:
        parts = [f"<h2>{html.escape(self.title)}</h2>"]
        parts += [f"<p>{html.escape(t)}</p>" for t in self.text]
        parts += [f'<p><img src="{png_uri(data)}" alt="{html.escape(alt, quote=True)}"></p>' for alt, data in self.figures]
        parts += self.tables
        parts += [f'<p class="note">{html.escape(n)}</p>' for n in self.notes]
        return "\n".join(parts)


def page(title: str, intro: Sequence[str], sections: Sequence[Section]) -> str:
    """The whole page (UTF-8, valid HTML5)."""
    body = "\n".join(s.html() for s in sections)
    paras = "\n".join(f"<p>{html.escape(t)}</p>" for t in intro)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{paras}\n{body}\n</body>\n</html>\n")
