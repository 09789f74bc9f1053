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
