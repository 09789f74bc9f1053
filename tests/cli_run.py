"""Running ``lmlab`` in-process in tests: exit code, stdout and stderr, and the one-line-error check."""

from __future__ import annotations

import io
import sys

from lmlab.cli.main import main


def cli(capsys, *argv, stdin: str | bytes | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """``lmlab ARGV`` (each argument passed through ``str``), with ``stdin`` as standard input."""
    if stdin is not None:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cli_error(capsys, *argv, **kw) -> str:
    """The CLI must exit 2 with one line on stderr and no traceback; returns that line."""
    code, out, err = cli(capsys, *argv, **kw)
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def state(folder) -> dict:
    """A run's trainer_state.json."""
    import json
    from pathlib import Path

    return json.loads((Path(folder) / "trainer_state.json").read_text())


def assert_resume_repeats_the_run(capsys, full, part, epochs: int) -> None:
    """``part`` (a shorter run of the same settings as ``full``) resumed to ``epochs`` ends with the
    same weights and the same per-step log as ``full`` ran uninterrupted."""
    import torch

    from lmlab.models.neural.checkpoint import read_tensors

    code, _, err = cli(capsys, "train", "--resume", "--save", part, "--epochs", epochs, "--quiet")
    assert code == 0, err
    a, _ = read_tensors(full / "last.safetensors")
    b, _ = read_tensors(part / "last.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (full / "steps.jsonl").read_text() == (part / "steps.jsonl").read_text()
