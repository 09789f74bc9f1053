"""A diagnostic's results on disk: one list of flat records as ``NAME.json`` and ``NAME.csv``
(the same rows and columns), both written atomically."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from .._io import write_text_atomic


def _plain(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_records(folder: str | os.PathLike, name: str, records: Sequence[dict]) -> list[Path]:
    """``folder/name.json`` (a JSON list; NaN as null) and ``folder/name.csv`` (a header of every
    key in first-seen order; null as an empty field); returns the two paths."""
    rows = [{k: _plain(v) for k, v in r.items()} for r in records]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folder = Path(folder)
    paths = [folder / f"{name}.json", folder / f"{name}.csv"]
    write_text_atomic(paths[0], json.dumps(rows, indent=1) + "\n")
    write_text_atomic(paths[1], buf.getvalue())
    return paths
