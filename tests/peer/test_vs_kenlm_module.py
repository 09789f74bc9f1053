"""KenLM's own Python module (``pip install kenlm``) reading lmlab's ARPA files.

The same per-sentence log10 scores (|diff| < 1e-4) and n-gram lengths as lmlab, for every
smoother lmlab can write as ARPA, on Tiny Shakespeare (word level).
"""

from __future__ import annotations

import pytest

kenlm = pytest.importorskip("kenlm")

from lmlab import kenlm as lk  # noqa: E402
from lmlab.models.ngram.model import NgramLM  # noqa: E402
from tests.conftest import read_lines  # noqa: E402

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def shakes(data_root):
    lines = read_lines(data_root / "tinyshakespeare" / "input.txt")
    return lines[:36000], lines[36000:38000]


@pytest.mark.parametrize(("order", "smoothing", "interpolate"), [
    (5, "modified_kneser_ney", True),
    (3, "modified_kneser_ney", False),
    (3, "witten_bell", True),
    (3, "good_turing", False),
    (3, "additive", False),
])
def test_kenlm_reads_lmlab_arpa(shakes, tmp_path, order, smoothing, interpolate):
    train, test = shakes
    lm = NgramLM(order, smoothing, interpolate=interpolate).fit(train)
    path = tmp_path / "m.arpa"
    lm.to_arpa(path)
    ref = kenlm.Model(str(path))
    ours = lk.Model(path)
    worst = 0.0
    for line in test:
        worst = max(worst, abs(ref.score(line, bos=True, eos=True) - ours.score(line)))
    assert worst < 1e-4
    for line in test[:200]:
        theirs = list(ref.full_scores(line))
        mine = list(ours.full_scores(line))
        assert [n for _, n, _ in mine] == [n for _, n, _ in theirs]
        assert [o for _, _, o in mine] == [o for _, _, o in theirs]


def test_lmlab_reads_kenlm_written_arpa_same_scores(shakes, kenlm_ref):
    _, test = shakes
    path = str(kenlm_ref / "shakes.o3.arpa.gz")
    ref, ours = kenlm.Model(path), lk.Model(path)
    for line in test[:500]:
        assert ours.score(line) == pytest.approx(ref.score(line), abs=1e-4)


# every separator str.split() knows, and a few it does not: KenLM splits on ASCII whitespace only
SEPARATORS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u00a0",
              "\u1680", "\u2000", "\u2009", "\u200b", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"]
EDGE_SENTENCES = ["", " ", "\t", " \t\n", "the", " the ", "the cat sat", "zzqq the", "the zzqq zzqq"]


@pytest.fixture(scope="module")
def toy_pair(tmp_path_factory):
    path = tmp_path_factory.mktemp("kapi") / "toy.arpa"
    NgramLM(3, "witten_bell").fit(["the cat sat", "a dog sat on the mat", "the dog ran"] * 3).to_arpa(path)
    return kenlm.Model(str(path)), lk.Model(path)


def _same(theirs_model, ours_model, sentence, bos, eos):
    theirs = list(theirs_model.full_scores(sentence, bos=bos, eos=eos))
    mine = list(ours_model.full_scores(sentence, bos=bos, eos=eos))
    assert [(n, o) for _, n, o in mine] == [(n, o) for _, n, o in theirs], repr(sentence)
    assert [p for p, _, _ in mine] == pytest.approx([p for p, _, _ in theirs], abs=1e-5), repr(sentence)
    assert ours_model.score(sentence, bos=bos, eos=eos) == \
        pytest.approx(theirs_model.score(sentence, bos=bos, eos=eos), abs=1e-5), repr(sentence)


@pytest.mark.parametrize("sep", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
def test_words_are_split_as_kenlm_splits_them(toy_pair, sep):
    """A no-break space, an ideographic space, U+001C-U+001F ... are part of a word for KenLM (it
    splits the UTF-8 bytes on ASCII whitespace); lmlab.kenlm does the same."""
    ref, ours = toy_pair
    for sentence in (f"the{sep}cat sat", f"{sep}the cat{sep}", f"the{sep}{sep}dog"):
        for bos in (True, False):
            _same(ref, ours, sentence, bos, True)
        assert ours.perplexity(sentence) == pytest.approx(ref.perplexity(sentence), rel=1e-5)


@pytest.mark.parametrize("sentence", EDGE_SENTENCES)
@pytest.mark.parametrize("bos", [True, False])
@pytest.mark.parametrize("eos", [True, False])
def test_edge_sentences_every_bos_eos(toy_pair, sentence, bos, eos):
    """Empty and blank sentences with every bos/eos: KenLM returns an empty list for nothing to score."""
    ref, ours = toy_pair
    _same(ref, ours, sentence, bos, eos)
