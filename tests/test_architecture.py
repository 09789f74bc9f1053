"""Data flows one way (import-linter layers) and the n-gram path never imports torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_layers():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ngram_path_does_not_load_torch():
    code = (
        "import sys, lmlab\n"
        "from lmlab.models.ngram.model import NgramLM\n"
        "from lmlab.cli.main import build_parser\n"
        "build_parser()\n"
        "lm = NgramLM(2, 'witten_bell').fit(['a b c', 'b c a', 'c a b', 'a a b'] * 3)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_torch_pins_agree():
    import re

    cons = (REPO / "constraints.txt").read_text()
    text = (REPO / "pyproject.toml").read_text()
    deps = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    pins = set(re.findall(r'"torch([^"]*)"', deps))
    assert "torch==2.13.0" in cons and pins == {"==2.13.0"}
