"""``lmlab report``: one self-contained, valid HTML page with every section for the models passed;
every image is an embedded PNG that decodes; models a section does not apply to are named, not
dropped; the clipping and loss-curve sections come from the runs' own steps.jsonl (a run the NaN
guard stopped before it saved a model among them)."""

from __future__ import annotations

import base64
import io
import json
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
    # a real divergence: no clipping, an absurd step; the NaN guard stops it before its first checkpoint
    assert main(["train", "--train", str(text), "--valid", str(text), "--save", str(d / "diverged"), "--model",
                 "rnn_relu", "--init", "identity", "--lr", "1e30", "--clip", "0", "--epochs", "1",
                 *[a for a in TINY if a != "--dry-run"]]) == 2
    assert sorted(p.name for p in (d / "diverged").iterdir()) == ["steps.jsonl"]
    NgramLM(3, "witten_bell").fit(LINES).to_arpa(d / "kn.arpa")
    (d / "tb.conllu").write_text(conllu())
    return d


def decoded(img):
    """The pixels of an <img>'s data: URI (a whole PNG that decodes, not only its signature)."""
    import matplotlib.image

    src = img["src"]
    assert src.startswith("data:image/png;base64,") and img["alt"]
    data = base64.b64decode(src.split(",", 1)[1], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    return pixels


def checked(page: str) -> Checker:
    assert page.startswith("<!DOCTYPE html>")
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and checker.stack == []
    for img in checker.images:
        decoded(img)
    return checker


def test_every_section_valid_html_and_every_image_a_png(models, capsys, tmp_path):
    d = models
    out = tmp_path / "report.html"
    code, _, err = cli(capsys, "report", d / "kn.arpa", d / "rnn_tanh", d / "lstm", d / "diverged", "--text",
                       d / "t.txt", "--max-distance", "5", "--positions", "20", "--warmup", "2", "--lengths", "1", "3",
                       "30", "--conllu", d / "tb.conllu", "--smooth", "3", "--out", out, "--quiet")
    assert code == 0, err
    page = out.read_text()
    checker = checked(page)
    assert checker.headings == ["Gradient flow back through time", "Exploding gradients and clipping",
                                "Training-loss curves", "Gate activity", "Perplexity against the context length",
                                "Subject-verb number agreement", "Cloze templates"]
    # gradients (1 figure), clipping, curves, gates (the LSTM's heat map), context, agreement
    assert [img["alt"] for img in checker.images] == ["gradients", "clipping", "curves", "gates lstm", "context",
                                                      "agreement"]
    assert f"{d / 'kn.arpa'}: not a recurrent LM" in page and f"{d / 'rnn_tanh'}: no gates" in page
    assert re.search(r"<td>kn\.arpa</td><td class=\"n\">2</td>", page)  # the n-gram's window in the context table
    assert f"lmlab diagnose context {d / 'kn.arpa'} {d / 'rnn_tanh'} {d / 'lstm'} --text {d / 't.txt'}" in page
    assert "writer of the books" in page and "lmlab-report-" not in page
    # clipping and curves: the three runs' traces, the n-gram named; the diverged run only there
    assert f"{d / 'kn.arpa'}: no training trace (steps.jsonl)" in page
    assert f"lmlab diagnose clipping {d / 'rnn_tanh'} {d / 'lstm'} {d / 'diverged'}" in page
    assert f"lmlab diagnose curves {d / 'rnn_tanh'} {d / 'lstm'} {d / 'diverged'} --smooth 3" in page
    assert f"lmlab diagnose context {d / 'kn.arpa'} {d / 'rnn_tanh'} {d / 'lstm'} --text" in page
    assert page.count(f"{d / 'diverged'}: a training run that stopped before it saved a model") == 5
    steps = [json.loads(x) for x in (d / "rnn_tanh" / "steps.jsonl").read_text().splitlines()]
    norms = sorted(r["grad_norm"] for r in steps)
    row = re.search(r"<tr><td>rnn_tanh</td><td>rnn_tanh 2x5</td><td>clip 0.25</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == str(len(steps)) and cells[2] == f"{norms[-1]:.4g}"
    assert cells[3] == f"{sum(n > 0.25 for n in norms) / len(norms):.1%}"
    assert "<td>diverged</td><td class=\"n\">-</td><td>no clipping</td><td class=\"n\">1</td>" in page
    assert "diverged at step 2 (loss became nan)" in page


def test_clipping_and_curves_alone_need_no_text_and_name_what_has_no_trace(models, capsys, tmp_path):
    d = models
    out = tmp_path / "r.html"
    code, _, err = cli(capsys, "report", d / "kn.arpa", d / "diverged", "--sections", "curves", "clipping",
                       "--out", out, "--quiet")
    assert code == 0, err
    page = out.read_text()
    checker = checked(page)
    assert checker.headings == ["Training-loss curves", "Exploding gradients and clipping"]
    assert [img["alt"] for img in checker.images] == ["curves", "clipping"]
    assert f"{d / 'kn.arpa'}: no training trace" in page


def test_a_missing_dataset_is_refused_before_any_work(models, capsys, tmp_path):
    err = cli_error(capsys, "report", models / "lstm", "--data", "no-such-data", "--sections", "gates",
                    "--out", tmp_path / "r.html")
    assert "no-such-data" in err and not (tmp_path / "r.html").exists()
