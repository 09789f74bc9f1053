"""The README's Python code runs as written (item 24): every ```python block, in order, in one
namespace, in a scratch folder (it writes model files).  The default run gives the blocks the
first 3,000 lines of each PTB split (the code is the README's, only the data is smaller, so the
suite stays fast); the slow run uses the whole corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)


def run_blocks(tmp_path, monkeypatch) -> dict:
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "readme"}
    for i, block in enumerate(python_blocks()):
        exec(compile(block, f"README.md python block {i + 1}", "exec"), ns)  # noqa: S102 - the README's code
    return ns


def test_readme_has_python_code():
    blocks = python_blocks()
    assert blocks and "test_lines" in blocks[0]


def test_readme_python_runs(data_root, tmp_path, monkeypatch):
    from lmlab.data import readers

    full = readers.lm_lines
    monkeypatch.setattr(readers, "lm_lines", lambda name, split: full(name, split)[:3000])
    ns = run_blocks(tmp_path, monkeypatch)
    lm = ns["lm"]
    assert lm.order == 5 and 0 < lm.score("market", ["the", "stock"]) < 1
    assert (tmp_path / "lm.arpa.gz").is_file() and (tmp_path / "lm.lmbin").is_file()
    # the task models' examples (tiny in-memory data, trained in the blocks): what their comments say
    assert ns["tagger"].predict(["the dog sat", ["a", "big", "cat", "ran"]]) == \
        [["DET", "NOUN", "VERB"], ["DET", "ADJ", "NOUN", "VERB"]]
    assert ns["tagger"].evaluate(ns["train"])["accuracy"] == 1.0 and (tmp_path / "runs/toy-tagger/config.json").is_file()
    assert ns["clf"].predict(["good plot", "dull acting"]) == ["pos", "neg"]
    assert ns["mt"].predict(["a b c d", "c d e a"], beam=3) == ["d c b a", "a e d c"]
    gen, ppl = ns["gen"], {k: v["perplexity"] for k, v in ns["ppl"].items()}
    assert all("good" in x for x in gen.generate(label="pos", n=4, seed=1)) and gen.generate(label="neg", beam=3) \
        in (["dull acting"], ["a dull film"])
    assert ppl["true"] < ppl["unconditional"] < ppl["flipped"]


@pytest.mark.slow
def test_readme_python_runs_on_all_of_ptb(data_root, tmp_path, monkeypatch):
    ns = run_blocks(tmp_path, monkeypatch)
    assert ns["evaluate"](ns["lm"], ns["test_lines"]).perplexity == pytest.approx(141.19, abs=0.01)
