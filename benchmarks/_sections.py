"""Replace one generated section of BENCHMARKS.md, leaving the others alone."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def replace_section(name: str, lines: list[str]) -> None:
    """Write ``lines`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` (appended if absent)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = BENCHMARKS.read_text() if BENCHMARKS.is_file() else "# Benchmarks\n"
    block = "\n".join([begin, *lines, end])
    if begin in text:
        pre, rest = text.split(begin, 1)
        text = pre + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)
