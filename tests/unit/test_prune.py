"""Count pruning (lmplz --prune) and relative-entropy pruning (Stolcke 1998)."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import ConfigError
from lmlab.eval.perplexity import evaluate
from lmlab.models.ngram.model import NgramLM

TRAIN = ["a b c a b", "a b d", "b c a", "c a b c", "a a b", "d c b a", "a b c d"] * 2 + ["a d", "b b"]


def _history(lm, *ids):
    """The state after the token ids ``ids`` from no history."""
    state = lm.null_state()
    for i in ids:
        state = lm.advance(state, i)
    return state


@pytest.mark.parametrize("smoothing", ["modified_kneser_ney", "kneser_ney", "witten_bell", "good_turing",
                                       "absolute_discounting"])
def test_count_pruning_drops_rare_ngrams_and_stays_normalised(smoothing):
    full = NgramLM(3, smoothing, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    lm = NgramLM(3, smoothing, discount_fallback=(0.5, 1, 1.5), prune=[0, 1, 2]).fit(TRAIN)
    c = full.ngram_counts
    assert lm.tables.sizes()[0] == full.tables.sizes()[0]
    assert lm.tables.sizes()[1] == int((c.count[1] > 1).sum())
    assert lm.tables.sizes()[2] == int((c.count[2] > 2).sum())
    states = [lm.begin_state(), lm.null_state()] + [_history(lm, i, j) for i in range(1, 7) for j in range(3, 7)]
    np.testing.assert_allclose(np.exp(lm.next_logprobs(states)).sum(axis=1), 1.0, atol=1e-6)


def test_count_pruning_ptb_matches_kenlm(ptb):
    # KenLM: lmplz -o 5 --prune 0 1 1 on PTB: 246k n-grams, test perplexity 158.5
    lm = NgramLM(5, prune=[0, 1, 1]).fit(ptb["train"])
    assert sum(lm.tables.sizes()) == 245881
    assert evaluate(lm, ptb["test"]).perplexity == pytest.approx(158.5, abs=0.1)


@pytest.mark.parametrize("bad", [[1, 1], [0, 2, 1], [0, -1], [0, 1, 1, 1]])
def test_bad_thresholds(bad):
    with pytest.raises(ConfigError, match="prune"):
        NgramLM(3, prune=bad)


def test_count_pruning_refused_for_direct_methods():
    with pytest.raises(ConfigError, match="count pruning and limit_vocab are not defined"):
        NgramLM(2, "additive", prune=[0, 1]).fit(TRAIN)


def test_entropy_pruning_monotone_and_normalised():
    lm = NgramLM(3, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    sizes = [sum(lm.tables.sizes())]
    for th in (1e-4, 1e-2, 1e-1):
        p = lm.prune_entropy(th)
        sizes.append(sum(p.tables.sizes()))
        states = [p.begin_state(), p.null_state()] + [_history(p, i, j) for i in range(1, 7) for j in range(3, 7)]
        np.testing.assert_allclose(np.exp(p.next_logprobs(states)).sum(axis=1), 1.0, atol=1e-6)
        # every kept n-gram keeps its probability; a higher-order n-gram's prefix is kept
        for m in range(2, 4):
            assert np.isin(p.tables.keys[m - 1] // len(p.vocab), np.arange(len(p.tables.keys[m - 2]))).all()
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[0]


def test_entropy_pruning_ptb_costs_little_perplexity(ptb):
    lm = NgramLM(3).fit(ptb["train"])
    base = evaluate(lm, ptb["test"]).perplexity
    pruned = lm.prune_entropy(1e-8)
    assert sum(pruned.tables.sizes()) < sum(lm.tables.sizes()) - 30000
    assert base < evaluate(pruned, ptb["test"]).perplexity < base * 1.01
    with pytest.raises(ConfigError):
        lm.prune_entropy(0)


def test_prune_cli(tmp_path, capsys):
    from lmlab.cli.main import main

    text = tmp_path / "t.txt"
    text.write_text("\n".join(TRAIN) + "\n")
    arpa, out = tmp_path / "m.arpa", tmp_path / "p.arpa"
    assert main(["ngram", "-o", "3", "--discount_fallback", "--text", str(text), "--arpa", str(arpa), "--quiet"]) == 0
    assert main(["prune", str(arpa), "--threshold", "0.05", "--arpa", str(out), "--quiet"]) == 0
    full, pruned = NgramLM.from_arpa(arpa), NgramLM.from_arpa(out)
    assert sum(pruned.tables.sizes()) < sum(full.tables.sizes())
    want = full.prune_entropy(0.05).tables  # the command writes what the API computes
    assert pruned.tables.sizes() == want.sizes()
    for m in range(3):
        np.testing.assert_array_equal(pruned.tables.keys[m], want.keys[m])
        np.testing.assert_array_equal(pruned.tables.logprob10[m], want.logprob10[m])
        np.testing.assert_array_equal(pruned.tables.backoff10[m], want.backoff10[m])


@pytest.mark.parametrize("smoothing", ["modified_kneser_ney", "witten_bell"])
def test_limit_vocab(smoothing, tmp_path):
    lm = NgramLM(3, smoothing, discount_fallback=(0.5, 1, 1.5), limit_vocab={"a", "b", "c"}).fit(TRAIN)
    assert lm.vocab.tokens == ("<unk>", "<s>", "</s>", "a", "b", "c")
    assert lm.vocab.lookup("d") == lm.vocab.unk_id
    for m in range(2, 4):
        words = lm.tables.ngram_words(m, np.arange(len(lm.tables.keys[m - 1])))
        assert not np.isin(words, [0]).any()  # no n-gram holds a dropped word (nor <unk>)
    states = [lm.begin_state(), lm.null_state(), _history(lm, 3), _history(lm, 3, 4), _history(lm, 4, 5)]
    np.testing.assert_allclose(np.exp(lm.next_logprobs(states)).sum(axis=1), 1.0, atol=1e-6)
    assert lm.logprob("d", ["a"]) == lm.logprob("<unk>", ["a"])
    vocab_file = tmp_path / "v.txt"
    vocab_file.write_text("a b\nc\n")
    from lmlab.cli.main import main

    text = tmp_path / "t.txt"
    text.write_text("\n".join(TRAIN) + "\n")
    out = tmp_path / "m.arpa"
    fallback = ["--discount_fallback"] if smoothing == "modified_kneser_ney" else []  # refused where it does nothing
    assert main(["ngram", "-o", "3", "--smoothing", smoothing, *fallback, "--text", str(text),
                 "--limit_vocab_file", str(vocab_file), "--arpa", str(out), "--quiet"]) == 0
    assert NgramLM.from_arpa(out).vocab.tokens == lm.vocab.tokens
