"""What the resumable benchmark scripts share: train a run (or resume it where it stopped) with
``lmlab train``, and keep results in a JSON file written atomically, one entry per finished cell."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def train_or_resume(name: str, save: Path, argv: list[str], dry_run: bool = False) -> None:
    """``lmlab ARGV`` (a new run into ``save``), or ``lmlab train --resume`` of the run already there."""
    from lmlab.cli.main import main as lmlab

    if (save / "trainer_state.json").is_file():
        argv = ["train", "--resume", "--save", str(save), "--quiet"] + (["--dry-run"] if dry_run else [])
        print(f"resuming {name}", file=sys.stderr)
    if lmlab(argv) != 0:
        raise SystemExit(f"{name}: lmlab {' '.join(argv)} failed")


def read_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def record(path: Path, name: str, row: dict) -> None:
    """Set entry ``name`` of the results file ``path`` to ``row`` (atomically)."""
    from lmlab._io import write_text_atomic

    done = read_results(path)
    done[name] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(done, indent=2))
