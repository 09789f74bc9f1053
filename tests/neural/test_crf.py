"""The linear-chain CRF against brute-force enumeration of every label sequence (float64, tiny)."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")

from lmlab.errors import ConfigError  # noqa: E402
from lmlab.models.neural.crf import LinearChainCRF  # noqa: E402
from lmlab.models.neural.masking import length_mask  # noqa: E402


def random_crf(L: int, seed: int) -> LinearChainCRF:
    g = torch.Generator().manual_seed(seed)
    crf = LinearChainCRF(L).double()
    with torch.no_grad():
        for p in (crf.transitions, crf.start, crf.end):
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    return crf


def hand_score(crf, em, y):
    """s(y) for one sequence, written out term by term."""
    tr, st, en = (p.detach() for p in (crf.transitions, crf.start, crf.end))
    s = float(st[y[0]]) + float(em[0, y[0]]) + float(en[y[-1]])
    for t in range(1, len(y)):
        s += float(tr[y[t - 1], y[t]]) + float(em[t, y[t]])
    return s


def brute(crf, em):
    """Every label sequence's score: (log Z, best sequence, best score)."""
    scores = {y: hand_score(crf, em, y) for y in itertools.product(range(crf.num_labels), repeat=em.shape[0])}
    m = max(scores.values())
    logz = m + math.log(sum(math.exp(s - m) for s in scores.values()))
    best = max(scores, key=scores.get)
    return logz, list(best), scores[best]


CASES = [(L, n, seed) for L in (2, 3) for n in (1, 2, 3, 4) for seed in (0, 1)]


@pytest.mark.parametrize("L,n,seed", CASES)
@torch.no_grad()
def test_forward_nll_and_viterbi_equal_brute_force(L, n, seed):
    crf = random_crf(L, seed)
    g = torch.Generator().manual_seed(100 + seed)
    em = torch.randn(1, n, L, generator=g, dtype=torch.float64)
    gold = torch.randint(0, L, (1, n), generator=g)
    logz, best, best_score = brute(crf, em[0])
    assert float(crf.log_partition(em)) == pytest.approx(logz, abs=1e-12)
    assert float(crf.score(em, gold)) == pytest.approx(hand_score(crf, em[0], gold[0].tolist()), abs=1e-12)
    assert float(crf.nll(em, gold)) == pytest.approx(logz - hand_score(crf, em[0], gold[0].tolist()), abs=1e-12)
    paths, scores = crf.viterbi(em)
    assert paths == [best] and float(scores[0]) == pytest.approx(best_score, abs=1e-12)
    # probabilities of all sequences sum to one
    total = sum(math.exp(-float(crf.nll(em, torch.tensor([y])))) for y in itertools.product(range(L), repeat=n))
    assert total == pytest.approx(1.0, abs=1e-12)


@torch.no_grad()
def test_a_padded_batch_equals_each_sequence_alone():
    crf = random_crf(3, 7)
    g = torch.Generator().manual_seed(8)
    lengths = torch.tensor([4, 1, 3, 2])
    em = torch.randn(4, 4, 3, generator=g, dtype=torch.float64)
    gold = torch.randint(0, 3, (4, 4), generator=g)
    mask = length_mask(lengths, 4)
    # garbage in the padding: huge emissions and out-of-range labels must not leak
    em = em.masked_fill(~mask[:, :, None], 1e6)
    gold = gold.masked_fill(~mask, -100)
    nll = crf.nll(em, gold, mask)
    paths = crf.decode(em, mask)
    for b, n in enumerate(lengths.tolist()):
        alone = em[b : b + 1, :n]
        assert float(nll[b]) == pytest.approx(float(crf.nll(alone, gold[b : b + 1, :n])), abs=1e-12)
        assert paths[b] == crf.decode(alone)[0] == brute(crf, alone[0])[1]
        assert len(paths[b]) == n
    assert float(crf(em, gold, mask)) == pytest.approx(float(nll.sum()), abs=1e-9)


def test_gradients_are_finite_and_pass_gradcheck():
    crf = random_crf(3, 3)
    g = torch.Generator().manual_seed(4)
    em = torch.randn(2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    gold = torch.tensor([[0, 2, 1], [1, 1, 0]])
    mask = length_mask(torch.tensor([3, 2]), 3)
    loss = crf(em, gold, mask)
    loss.backward()
    for p in (em, crf.transitions, crf.start, crf.end):
        assert torch.isfinite(p.grad).all()
    assert float(em.grad[1, 2].abs().sum()) == 0.0  # padding gets no gradient

    params = tuple(p.detach().clone().requires_grad_(True) for p in (em, crf.transitions, crf.start, crf.end))

    def nll_of(e, tr, st, en):
        c = LinearChainCRF(3).double()
        del c.transitions, c.start, c.end
        c.transitions, c.start, c.end = tr, st, en
        return c.nll(e, gold, mask)

    assert torch.autograd.gradcheck(nll_of, params)
    # the gradient of log Z with respect to the emissions is the marginal probability of each label
    e = em.detach()[:1, :2].clone().requires_grad_(True)
    crf.log_partition(e).sum().backward()
    marg = torch.zeros(2, 3, dtype=torch.float64)
    logz = float(crf.log_partition(e).detach())
    for y in itertools.product(range(3), repeat=2):
        p = math.exp(hand_score(crf, e.detach()[0], y) - logz)
        for t, lab in enumerate(y):
            marg[t, lab] += p
    torch.testing.assert_close(e.grad[0], marg)


def test_bad_shapes_are_refused():
    crf = LinearChainCRF(3)
    with pytest.raises(ConfigError, match="emissions"):
        crf.log_partition(torch.zeros(1, 2, 4))
    with pytest.raises(ConfigError, match="prefix"):
        crf.log_partition(torch.zeros(1, 3, 3), torch.tensor([[True, False, True]]))
    with pytest.raises(ConfigError, match="1..3"):
        crf.log_partition(torch.zeros(1, 3, 3), torch.tensor([[False, False, False]]))
