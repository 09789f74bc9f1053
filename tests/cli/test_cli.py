"""The command line: exit codes, stdout formats, one-line errors."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from lmlab.cli.main import main
from tests.conftest import read_lines


def run_cli(argv, stdin_text=None, monkeypatch=None, capsys=None):
    if stdin_text is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin_text.encode())))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ngram_then_query_reproduces_kenlm_toy(kenlm_ref, tmp_path, capsys, monkeypatch):
    arpa = tmp_path / "toy.arpa"
    code, _, err = run_cli(["ngram", "-o", "3", "--discount_fallback", "--text", str(kenlm_ref / "toy.txt"),
                            "--arpa", str(arpa)], capsys=capsys)
    assert code == 0 and "D1=0.375" in err
    code, out, _ = run_cli(["query", str(arpa), "--text", str(kenlm_ref / "toytest.txt")], capsys=capsys)
    assert code == 0
    expected = read_lines(kenlm_ref / "toy.query.txt")
    got = out.rstrip("\n").split("\n")
    assert len(got) == len(expected)
    for g, e in zip(got[:3], expected[:3], strict=True):
        gf, ef = g.split("\t"), e.split("\t")
        assert [f.rsplit(" ", 1)[0] for f in gf[:-1]] == [f.rsplit(" ", 1)[0] for f in ef[:-1]]
        for a, b in zip(gf[:-1], ef[:-1], strict=True):
            assert float(a.rsplit(" ", 1)[1]) == pytest.approx(float(b.rsplit(" ", 1)[1]), abs=1e-6)
    assert got[3].startswith("Perplexity including OOVs:\t4.49627")
    assert got[4].startswith("Perplexity excluding OOVs:\t3.46698")
    assert got[5:] == ["OOVs:\t1", "Tokens:\t12"]


def test_ngram_stdin_to_stdout(capsys, monkeypatch):
    code, out, _ = run_cli(["ngram", "-o", "2", "--smoothing", "witten_bell", "--quiet"],
                           stdin_text="a b c\nb c a\n", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert out.splitlines()[2:5] == ["\\data\\", "ngram 1=6", "ngram 2=7"]


def test_query_summary_only(kenlm_ref, capsys):
    code, out, _ = run_cli(["query", "-v", "summary", str(kenlm_ref / "toy.o3.arpa"),
                            "--text", str(kenlm_ref / "toytest.txt")], capsys=capsys)
    assert code == 0 and out.count("\n") == 4 and out.startswith("Perplexity including OOVs:\t4.4962")


def test_error_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1\t<unk>\textra\tfields\n\n\\end\\\n")
    code, out, err = run_cli(["query", str(bad), "--text", str(bad)], capsys=capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "line 5:" in err and "Traceback" not in err


def test_missing_file_exit_2(capsys):
    code, _, err = run_cli(["query", "/nonexistent/model.arpa"], capsys=capsys)
    assert code == 2 and "no such file" in err


def test_discount_error_from_cli(tmp_path, capsys):
    t = tmp_path / "t.txt"
    t.write_text("a b\n")
    code, _, err = run_cli(["ngram", "-o", "3", "--text", str(t), "--arpa", str(tmp_path / "x.arpa")],
                           capsys=capsys)
    assert code == 2 and "--discount_fallback" in err
    assert not (tmp_path / "x.arpa").exists()


def test_invalid_utf8_from_cli(tmp_path, capsys):
    t = tmp_path / "t.txt"
    t.write_bytes(b"ok\n\xc3\x28\n")
    code, _, err = run_cli(["ngram", "-o", "2", "--text", str(t)], capsys=capsys)
    assert code == 2 and "line 2" in err and "byte 3" in err


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "lmlab", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("lmlab ")


def test_help_ends_with_examples(capsys):
    assert main(["ngram", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "lmlab ngram -o 5 < train.txt > lm.arpa" in out


def test_complete_and_perplexity(kenlm_ref, capsys):
    code, out, _ = run_cli(["complete", str(kenlm_ref / "toy.o3.arpa"), "the cat", "-k", "2"], capsys=capsys)
    assert code == 0 and out.split("\n")[0].split("\t")[0] in {"sat", "saw"}
    code, out, _ = run_cli(["perplexity", str(kenlm_ref / "toy.o3.arpa"), "--text",
                            str(kenlm_ref / "toytest.txt"), "--json"], capsys=capsys)
    import json

    rep = json.loads(out)
    assert rep["tokens"] == 12 and rep["oovs"] == 1
    assert rep["perplexity"] == pytest.approx(4.496275899691412, rel=1e-6)


def test_generate_cli_seeded(kenlm_ref, capsys):
    args = ["generate", str(kenlm_ref / "toy.o3.arpa"), "--prompt", "the", "--seed", "4", "-n", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first and len(first.splitlines()) == 3
    from lmlab.generate.decode import generate
    from lmlab.models.loading import load

    lm = load(kenlm_ref / "toy.o3.arpa")  # sample i is the API's generation with seed 4 + i
    assert first.splitlines() == [" ".join(["the", *generate(lm, "the", seed=4 + i).tokens]) for i in range(3)]


def test_compare_with_mixture(tmp_path, capsys):
    from lmlab.models.ngram.model import NgramLM

    train = ["a b c a b", "b c a", "c a b c", "a a b"] * 5
    NgramLM(3, "witten_bell").fit(train).to_arpa(tmp_path / "wb.arpa")
    NgramLM(2, "additive").fit(train).to_arpa(tmp_path / "add.arpa")
    test = tmp_path / "t.txt"
    test.write_text("a b c\nb a\n")
    code = main(["compare", str(tmp_path / "wb.arpa"), str(tmp_path / "add.arpa"), "--text", str(test),
                 "--mix", "--heldout", str(test), "--json"])
    import json

    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and len(rows) == 3 and rows[2]["model"].startswith("mixture(")
    # EM approaches the best mixture (here nearly all weight on one model) from the uniform start
    assert rows[2]["perplexity"] <= min(rows[0]["perplexity"], rows[1]["perplexity"]) * 1.05
    # word models: per-word perplexity is their perplexity; bits/char uses the same total log-prob
    assert rows[0]["per_word_perplexity"] == pytest.approx(rows[0]["perplexity"])
    import math as _m

    assert rows[0]["bits_per_char"] == pytest.approx(-rows[0]["logprob"] / (6 + 4) / _m.log(2))


def test_compare_static_weights(tmp_path, capsys):
    import json

    from lmlab.models.ngram.model import NgramLM

    train = ["a b c a b", "b c a"] * 4
    NgramLM(2, "witten_bell").fit(train).to_arpa(tmp_path / "a.arpa")
    test = tmp_path / "t.txt"
    test.write_text("a b c\n")
    assert main(["compare", str(tmp_path / "a.arpa"), str(tmp_path / "a.arpa"), "--text", str(test), "--mix",
                 "--weights", "0.3", "0.7", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[2]["model"] == "mixture(0.300, 0.700)"
    assert rows[2]["perplexity"] == pytest.approx(rows[0]["perplexity"])  # a model mixed with itself
    assert main(["compare", str(tmp_path / "a.arpa"), str(tmp_path / "a.arpa"), "--text", str(test), "--mix",
                 "--weights", "0.3", "0.3"]) == 2


def test_one_command_loads_only_its_module():
    """`lmlab ngram` starts without importing the other commands (start-up time counts in lmplz
    comparisons); `lmlab --help` still lists every command."""
    import subprocess
    import sys

    code = ("import sys\nfrom lmlab.cli.main import main\ntry:\n    main(['ngram', '--help'])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in sys.modules if m.startswith('lmlab.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "lmlab.cli.ngram" in loaded and "lmlab.cli.train" not in loaded and "lmlab.cli.serve" not in loaded
    out = subprocess.run([sys.executable, "-m", "lmlab.cli.main", "--help"], capture_output=True, text=True).stdout
    assert all(c in out for c in ("ngram", "train", "classify", "mix", "serve", "diagnose"))
    # matplotlib is for the figures only: neither --help, an n-gram command nor diagnose's or report's help loads it
    for argv in (["--help"], ["ngram", "--help"], ["query", "--help"], ["diagnose", "--help"], ["report", "--help"]):
        code = (f"import sys\nfrom lmlab.cli.main import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n"
                "    pass\nprint('matplotlib' in sys.modules, 'torch' in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "False False", argv
