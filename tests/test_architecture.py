"""Architecture: data flows one way, the n-gram path never imports torch, the model halves stay apart
(import-linter), and no dead imports or names (ruff's pyflakes rules)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_layers():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_contracts_catch_violations(tmp_path):
    """The contracts are checked: a copy of lmlab with one forbidden import per contract fails."""
    shutil.copytree(REPO / "lmlab", tmp_path / "lmlab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    plant = {
        "models/ngram/tables.py": "from ..neural import config as _planted",  # n-gram -> neural
        "models/base.py": "from .ngram import model as _planted",  # the interface -> a model
        "counts/ngram_counts.py": "from ..eval import perplexity as _planted",  # against the layers
        "text/tokenize.py": "import torch as _planted",  # the n-gram path -> torch
        "eval/metrics.py": "import matplotlib as _planted",  # matplotlib outside the plotting code
        "generate/sampling.py": "import pyspark as _planted",  # pyspark outside lmlab.spark
    }
    for rel, line in plant.items():
        f = tmp_path / "lmlab" / rel
        f.write_text(f.read_text() + f"\n{line}  # noqa\n")
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = subprocess.run([exe, "--no-cache", "--config", "pyproject.toml"], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode != 0
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith(" BROKEN")]
    assert len(broken) == 6 and "Contracts: 0 kept, 6 broken." in r.stdout, r.stdout


def _ruff() -> str:
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(exe).is_file():
        pytest.skip("ruff (a pinned test dependency: pip install -c constraints.txt -e '.[test]') is not installed")
    return exe


def test_no_dead_imports_or_names():
    """pyflakes' checks (ruff's F rules): unused imports and variables, redefinitions, undefined names."""
    ruff = _ruff()
    planted = subprocess.run([ruff, "check", "--no-cache", "--select", "F", "--stdin-filename", "x.py", "-"],
                             input="import os\n", capture_output=True, text=True)
    assert planted.returncode == 1 and "F401" in planted.stdout  # the check does see an unused import
    r = subprocess.run([ruff, "check", "--no-cache", "--select", "F", "lmlab", "tests", "benchmarks"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ngram_path_does_not_load_torch():
    code = (
        "import sys, lmlab\n"
        "from lmlab.models.ngram.model import NgramLM\n"
        "from lmlab.cli.main import build_parser\n"
        "build_parser()\n"
        "lm = NgramLM(2, 'witten_bell').fit(['a b c', 'b c a', 'c a b', 'a a b'] * 3)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
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
