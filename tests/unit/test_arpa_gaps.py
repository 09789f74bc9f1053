"""ARPA files with n-grams whose prefix or suffix is missing (SRILM's pruning leaves them).

lmlab adds the missing ones as blank entries; every query path must then score the file as the
textbook backoff rule does on the file's own lines:  log10 p(w | h) = p(h w) if listed, else
bo(h) + log10 p(w | h minus its first word), with bo = 0 where not listed.  The scorer here reads
the ARPA text itself and shares no code with lmlab.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmlab import kenlm as lk
from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM
from lmlab.text.vocab import encode_corpus
from tests.arpa_mutations import fix_counts, sections
from tests.ngram_reference import reference_log10, word_log10

# "a b </s>" is listed but its suffix "b </s>" is not; "b b a b" lacks its prefixes "b b a" and "b b"
GAPS = ("\\data\\\nngram 1=5\nngram 2=4\nngram 3=3\nngram 4=1\n\n\\1-grams:\n-1.2\t<unk>\n-99\t<s>\t-0.4\n"
        "-0.6\t</s>\n-0.5\ta\t-0.2\n-0.8\tb\t-0.1\n\n\\2-grams:\n-0.3\t<s> a\t-0.05\n-0.4\ta b\t-0.07\n"
        "-0.2\t<s> </s>\n-0.5\tb a\t-0.3\n\n\\3-grams:\n-0.1\t<s> a b\t-0.02\n-0.15\ta b </s>\n-0.5\tb a b\t-0.1\n\n"
        "\\4-grams:\n-0.2\tb b a b\n\n\\end\\\n")


def textbook(text: str):
    """(order, probabilities, backoffs) read straight from ARPA text."""
    prob, bo = {}, {}
    lines = text.split("\n")
    for i, m in sections(lines):
        f = lines[i].split()
        prob[tuple(f[1 : m + 1])] = float(f[0])
        if len(f) == m + 2:
            bo[tuple(f[1 : m + 1])] = float(f[m + 1])
    order = sum(1 for line in lines if line.startswith("ngram "))  # as the data header declares
    return order, prob, bo


def textbook_log10(model, context: tuple, w: str) -> float:
    order, prob, bo = model
    ctx = context[max(0, len(context) - order + 1) :]
    for k in range(len(ctx), -1, -1):
        h = ctx[len(ctx) - k :]
        if h + (w,) in prob:
            return prob[h + (w,)] + sum(bo.get(ctx[len(ctx) - j :], 0.0) for j in range(k + 1, len(ctx) + 1))
    raise AssertionError(f"{w!r} is not a unigram")


def textbook_sentence(model, words: list[str]) -> list[float]:
    unigrams = {k[0] for k in model[1] if len(k) == 1}
    toks = [w if w in unigrams else "<unk>" for w in words] + ["</s>"]
    out, ctx = [], ("<s>",)
    for w in toks:
        out.append(textbook_log10(model, ctx, w))
        ctx = ctx + (w,)
    return out


def _check_every_path(text: str, sentences: list[list[str]], tmp_path) -> None:
    path = tmp_path / "gaps.arpa"
    path.write_text(text, encoding="utf-8")
    ref = textbook(text)
    lm = NgramLM.from_arpa(path)
    tables, vocab = lm.tables, lm.vocab
    fast = lk.Model(path)
    enc = [vocab.encode(s) for s in sentences]
    ids, starts = encode_corpus(vocab, sentences)
    flat, _ = tables.score_flat(ids, starts)  # log10, 0 at each <s>
    flat_np, _ = reference_log10(tables, ids, starts)
    for i, (s, e) in enumerate(zip(sentences, enc, strict=True)):
        want = textbook_sentence(ref, s)
        got_fast = [x[0] for x in fast.full_scores(" ".join(s))]
        np.testing.assert_allclose(got_fast, want, atol=1e-5, err_msg=f"lmlab.kenlm on {s}")
        ctx, state = [vocab.bos_id], lm.begin_state()
        for w, t in zip(list(e) + [vocab.eos_id], want, strict=True):
            assert word_log10(tables, ctx, int(w))[0] == pytest.approx(t, abs=1e-5), (s, ctx, w)
            row = lm.next_logprobs([state])[0]  # the engine's distribution and its step agree
            lp, state = lm.step(state, int(w))
            assert lp / math.log(10) == pytest.approx(t, abs=1e-5) and row[int(w)] == lp, (s, ctx, w)
            ctx.append(int(w))
        span = slice(starts[i] + 1, starts[i + 1])
        np.testing.assert_allclose(flat[span], want, atol=1e-5, err_msg=f"score_flat on {s}")
        np.testing.assert_allclose(flat_np[span], want, atol=1e-5, err_msg=f"the reference scorer on {s}")
        np.testing.assert_allclose(lm.token_logprobs(e) / math.log(10), want, atol=1e-5, err_msg=f"{s}")


def test_missing_suffix_and_prefixes_score_as_the_textbook_rule(tmp_path):
    words = ["a", "b", "zzz"]
    sentences = [[x, y, z, u] for x in words for y in words for z in words for u in words[:2]]
    _check_every_path(GAPS, sentences + [["a", "b"], ["b", "b", "a", "b"], []], tmp_path)
    tables = read_arpa(tmp_path / "gaps.arpa")[0]
    assert tables.sizes() == [5, 6, 4, 1]  # blanks: "b </s>", "b b"; "b b a"


def _drop_lines(text: str, rng: random.Random, share: float) -> str:
    """Delete a share of the n-gram lines of orders 2 .. order - 1 (and fix the counts)."""
    lines = text.split("\n")
    order = max(m for _, m in sections(lines))
    drop = {i for i, m in sections(lines) if 1 < m < order and rng.random() < share}
    return fix_counts([x for i, x in enumerate(lines) if i not in drop])


WORDS = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=st.lists(st.lists(WORDS, min_size=1, max_size=7), min_size=2, max_size=10),
       order=st.integers(3, 5), seed=st.integers(0, 10**6), share=st.sampled_from([0.2, 0.5, 0.9]),
       header=st.booleans())
def test_files_with_gaps_score_as_the_textbook_rule(tmp_path, corpus, order, seed, share, header):
    """A model with random lower-order lines deleted (as pruning elsewhere may leave it): every
    query path agrees with the textbook rule on the damaged file, with or without lmlab's header."""
    lm = NgramLM(order, "witten_bell").fit(corpus)
    buf = io.BytesIO()
    lm.to_arpa(buf)
    text = buf.getvalue().decode()
    if not header:
        text = "\n".join(x for x in text.split("\n") if not x.startswith("# lmlab:"))
    rng = random.Random(seed)
    damaged = _drop_lines(text, rng, share)
    sentences = [[rng.choice("abcde") for _ in range(rng.randint(0, 6))] for _ in range(12)] + corpus[:4]
    _check_every_path(damaged, sentences, tmp_path)  # lmlab's header earns no trust: the file may be edited
