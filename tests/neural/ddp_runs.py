"""Run under ``torchrun --nproc_per_node 2`` by test_data_parallel.py: the CLI's data-parallel runs
(``lmlab train`` in-process, one process group for them all).  ``ddp_runs.py FOLDER RUNS.json``:
RUNS.json maps a name to ``lmlab`` arguments; each run's exit code, stdout and stderr go to
``FOLDER/NAME.rank<R>.json``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

from lmlab.cli.main import main


def main_() -> None:
    folder, runs = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
    for name, argv in runs.items():
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        record = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
        (folder / f"{name}.rank{os.environ['RANK']}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main_()
