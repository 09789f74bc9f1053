"""``lmlab report``: one self-contained, valid HTML page with every section for the models passed;
every image is an embedded PNG; models a section does not apply to are named, not dropped."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from tests.cli_run import cli, cli_error  # noqa: E402
from tests.unit.test_agreement import conllu  # noqa: E402

LINES = ["the cat sat on the mat", "a dog saw the cat", "the dog sat", "a cat ran", "the dogs are here"] * 8
TINY = ["--emsize", "6", "--nhid", "5", "--batch_size", "4", "--threads", "1", "--quiet", "--dry-run", "--bptt", "5"]
VOID = {"meta", "img", "br", "hr", "link", "input"}


class Checker(HTMLParser):
    """Tags balanced (void elements aside), and every <img>'s src and alt collected."""

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.headings, self.errors, self._in_h2 = [], [], [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag not in VOID:
            self.stack.append(tag)
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")
        self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    text = d / "t.txt"
    text.write_text("\n".join(LINES) + "\n")
    from lmlab.cli.main import main
    from lmlab.models.ngram.model import NgramLM

    for model in ("lstm", "rnn_tanh"):
        assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(d / model), "--model", model,
                     *TINY]) == 0
    NgramLM(3, "witten_bell").fit(LINES).to_arpa(d / "kn.arpa")
    (d / "tb.conllu").write_text(conllu())
    return d


def test_every_section_valid_html_and_every_image_a_png(models, capsys, tmp_path):
    d = models
    out = tmp_path / "report.html"
    code, _, err = cli(capsys, "report", d / "kn.arpa", d / "rnn_tanh", d / "lstm", "--text", d / "t.txt",
                       "--max-distance", "5", "--positions", "20", "--warmup", "2", "--lengths", "1", "3", "30",
                       "--conllu", d / "tb.conllu", "--out", out, "--quiet")
    assert code == 0, err
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and checker.stack == []
    assert checker.headings == ["Gradient flow back through time", "Gate activity",
                                "Perplexity against the context length", "Subject-verb number agreement",
                                "Cloze templates"]
    # gradients (1 figure), gates (the LSTM's heat map), context, agreement
    assert len(checker.images) == 4
    for img in checker.images:
        src = img["src"]
        assert src.startswith("data:image/png;base64,") and img["alt"]
        assert base64.b64decode(src.split(",", 1)[1], validate=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{d / 'kn.arpa'}: not a recurrent LM" in page and f"{d / 'rnn_tanh'}: no gates" in page
    assert re.search(r"<td>kn\.arpa</td><td class=\"n\">2</td>", page)  # the n-gram's window in the context table
    assert f"lmlab diagnose context {d / 'kn.arpa'} {d / 'rnn_tanh'} {d / 'lstm'} --text {d / 't.txt'}" in page
    assert "writer of the books" in page and "lmlab-report-" not in page


def test_a_missing_dataset_is_refused_before_any_work(models, capsys, tmp_path):
    err = cli_error(capsys, "report", models / "lstm", "--data", "no-such-data", "--sections", "gates",
                    "--out", tmp_path / "r.html")
    assert "no-such-data" in err and not (tmp_path / "r.html").exists()
