"""The compact trie layout of ``.lmbin`` (KenLM's ``build_binary trie [-q 8 -b 8]``).

Exact scores are checked on every query path in tests/unit/test_query_engine.py (the ``trie``
source); here: the round trip, the size, quantisation within its bin error, the command line and
refused files.
"""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import LmlabError, ModelFormatError
from lmlab.models.loading import load
from lmlab.models.ngram.fastbuild import quantize
from lmlab.models.ngram.model import NgramLM
from tests.cli_run import cli, cli_error

TRAIN = ["a b c a b", "a b d", "b c a", "", "c a b c", "a a b", "d c b a"] * 3
TEST = ["a b c", "d d", "", "a x b"]


@pytest.fixture(scope="module")
def ptb_lm(ptb):
    return NgramLM(4, discount_fallback=(0.5, 1, 1.5)).fit(ptb["train"][:3000])


@pytest.mark.parametrize("smoothing", ["modified_kneser_ney", "stupid_backoff", "witten_bell"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_round_trip_is_exact(tmp_path, smoothing, order):
    """Written as a trie and read back: the same sorted tables bit for bit, the same scores and
    distributions (states differ: a trie's are record positions), the same ARPA file."""
    lm = NgramLM(order, smoothing, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    lm.to_binary(tmp_path / "t.lmbin", trie=True)
    back = load(tmp_path / "t.lmbin")
    assert back.fast.trie and back.vocab == lm.vocab
    for m in range(order):
        for a, b in ((back.tables.keys, lm.tables.keys), (back.tables.logprob10, lm.tables.logprob10),
                     (back.tables.backoff10, lm.tables.backoff10)):
            assert a[m].dtype == b[m].dtype and np.array_equal(a[m], b[m])
            assert np.array_equal(np.signbit(a[m]), np.signbit(b[m])) if a[m].dtype.kind == "f" else True
    enc = [lm.vocab.encode(s.split()) for s in TEST]
    for a, b in zip(lm.corpus_token_logprobs(enc), back.corpus_token_logprobs(enc), strict=True):
        assert np.array_equal(a, b)
    for x in (lm, back):
        s = x.begin_state()
        x.__dict__["_states"] = [s, x.advance(s, 3), x.advance(x.advance(s, 3), 4)]
    np.testing.assert_array_equal(back.next_logprobs(back._states), lm.next_logprobs(lm._states))
    if smoothing != "stupid_backoff":  # (which ARPA cannot hold)
        lm.to_arpa(tmp_path / "a.arpa")
        back.to_arpa(tmp_path / "b.arpa")
        body = lambda p: p.read_text().split("\\data\\", 1)[1]  # noqa: E731
        assert body(tmp_path / "a.arpa") == body(tmp_path / "b.arpa")
    back.to_binary(tmp_path / "p.lmbin")  # back to hash tables from a trie
    assert not load(tmp_path / "p.lmbin").fast.trie


def test_trie_is_compact_and_quantised_within_the_bin_error(ptb_lm, ptb, tmp_path):
    """PTB-trained 4-gram: the trie is well under half the hash tables' size, -q 8 -b 8 smaller
    still; each quantised token score is within the bins' error of the exact one (a probability's
    and up to N - 1 backoffs' errors), equal to the quantised hash tables' (same bins), and the
    perplexity moves by well under 1%."""
    lm = ptb_lm
    paths = {k: tmp_path / f"{k}.lmbin" for k in ("hash", "trie", "q", "hash_q")}
    lm.to_binary(paths["hash"])
    lm.to_binary(paths["trie"], trie=True)
    lm.to_binary(paths["q"], trie=True, quant_bits=8, backoff_bits=8)
    lm.to_binary(paths["hash_q"], quant_bits=8)
    size = {k: p.stat().st_size for k, p in paths.items()}
    n = sum(lm.tables.sizes())
    assert size["trie"] < 0.45 * size["hash"] and size["q"] < 0.7 * size["trie"]
    # word ids 14 bits, pointers <= 22 bits, 31-bit probabilities, 32-bit backoffs: <= 13 B an n-gram
    assert size["trie"] / n < 13 and size["q"] / n < 8
    err_p = err_b = 0.0
    for m in range(2, lm.order + 1):
        for vals, bits, is_p in ((lm.tables.logprob10[m - 1], 8, True), (lm.tables.backoff10[m - 1], 8, False)):
            if len(vals):
                codes, centers = quantize(vals, bits, backoff=not is_p)
                e = float(np.abs(centers[codes].astype(np.float64) - vals).max())
                err_p, err_b = (max(err_p, e), err_b) if is_p else (err_p, max(err_b, e))
    bound = err_p + (lm.order - 1) * err_b + 1e-6
    test = ptb["test"][:200]
    enc = [lm.vocab.encode(s.split()) for s in test]
    exact = np.concatenate(load(paths["trie"]).corpus_token_logprobs(enc))
    q = load(paths["q"])
    got = np.concatenate(q.corpus_token_logprobs(enc))
    assert np.array_equal(exact, np.concatenate(lm.corpus_token_logprobs(enc)))
    diff = np.abs(got - exact) / np.log(10)
    assert diff.max() <= bound and diff.max() > 0
    np.testing.assert_allclose(got, np.concatenate(load(paths["hash_q"]).corpus_token_logprobs(enc)), rtol=0,
                               atol=1e-9)
    change = q.perplexity(test) / lm.perplexity(test) - 1
    assert 0 < abs(change) < 0.01
    assert q.tables.sizes() == lm.tables.sizes()


def test_backoff_bits_need_probability_bits(tmp_path):
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    with pytest.raises(LmlabError, match="needs probability quantisation"):
        lm.to_binary(tmp_path / "x.lmbin", trie=True, backoff_bits=8)
    with pytest.raises(LmlabError, match="1 to 8 bits"):
        lm.to_binary(tmp_path / "x.lmbin", trie=True, quant_bits=8, backoff_bits=9)
    lm.to_binary(tmp_path / "q.lmbin", trie=True, quant_bits=8, backoff_bits=2)  # -b alone narrows the backoffs
    widths = load(tmp_path / "q.lmbin").fast.meta[-5 * (lm.order + 1):].reshape(5, -1)
    assert widths[2, 2:].tolist() == [8, 8] and widths[3, 2:].tolist() == [2, 0]


@pytest.mark.parametrize("argv", [["--trie", "{a}", "{o}"], ["trie", "{a}", "{o}"], ["{a}", "{o}", "--trie"],
                                  ["trie", "-q", "8", "-b", "8", "{a}", "{o}"], ["-q", "8", "--trie", "{a}", "{o}"]])
def test_convert_cli_writes_a_trie(tmp_path, capsys, argv):
    """``lmlab convert --trie`` and build_binary's spelling ``lmlab convert trie [-q 8 -b 8] IN OUT``."""
    lm = NgramLM(3, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    lm.to_arpa(tmp_path / "m.arpa")
    out = tmp_path / "m.lmbin"
    args = [x.format(a=tmp_path / "m.arpa", o=out) for x in argv]
    code, _, _ = cli(capsys, "convert", *args, "--quiet")
    assert code == 0
    back = load(out)
    assert back.fast.trie and back.fast.quant == ("-q" in argv)
    ppl = back.perplexity(TEST)
    assert ppl == pytest.approx(lm.perplexity(TEST), rel=1e-12 if "-q" not in argv else 0.05)


@pytest.mark.parametrize("argv,reason", [
    (["trie", "{a}", "{d}/x.arpa"], "applies only to a binary output"),
    (["{a}", "{d}/x.arpa", "--trie"], "applies only to a binary output"),
    (["bogus", "{a}", "{d}/x.lmbin"], "convert takes INPUT OUTPUT, or a data structure"),
    (["probing", "--trie", "{a}", "{d}/x.lmbin"], "two data structures"),
    (["trie", "-b", "8", "{a}", "{d}/x.lmbin"], "-b/--backoff-bits: applies only with -q"),
    (["trie", "{a}", "{d}/no/x.lmbin"], "does not exist"),
])
def test_convert_cli_refuses_bad_structure_words(tmp_path, capsys, argv, reason):
    NgramLM(2, "witten_bell").fit(TRAIN).to_arpa(tmp_path / "m.arpa")
    err = cli_error(capsys, "convert", *[x.format(a=tmp_path / "m.arpa", d=tmp_path) for x in argv])
    assert reason in err
    assert not list(tmp_path.glob("x.*"))


def test_probing_word_writes_hash_tables(tmp_path, capsys):
    NgramLM(2, "witten_bell").fit(TRAIN).to_arpa(tmp_path / "m.arpa")
    assert cli(capsys, "convert", "probing", tmp_path / "m.arpa", tmp_path / "p.lmbin", "--quiet")[0] == 0
    assert not load(tmp_path / "p.lmbin").fast.trie


def test_truncated_or_corrupt_trie_is_refused_in_one_line(tmp_path, capsys):
    lm = NgramLM(4, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    path = tmp_path / "t.lmbin"
    lm.to_binary(path, trie=True)
    data = path.read_bytes()
    (tmp_path / "cut.lmbin").write_bytes(data[:-64])
    with pytest.raises(ModelFormatError, match="truncated"):
        load(tmp_path / "cut.lmbin")
    bad = bytearray(data)
    bad[-70] ^= 0xFF
    (tmp_path / "bad.lmbin").write_bytes(bytes(bad))
    err = cli_error(capsys, "convert", tmp_path / "bad.lmbin", tmp_path / "out.arpa")
    assert "the tables fail their checksum" in err and err.count("\n") <= 1
    (tmp_path / "t.txt").write_text("a b\n")
    err = cli_error(capsys, "query", tmp_path / "cut.lmbin", "--text", tmp_path / "t.txt")
    assert "truncated" in err


@pytest.mark.parametrize("edit", ["width", "record", "kind", "version"])
def test_a_trie_layout_outside_the_data_is_refused(tmp_path, edit):
    """The kernels read bits without bounds checks: a header whose field widths or record counts
    would read outside the packed section, or that names the other layout, is refused on opening."""
    from tests.unit.test_binary_format import _rewrite_header

    path = tmp_path / "m.lmbin"
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    lm.to_binary(path, trie=True)
    N = lm.order
    h = 16 + 4 * (N + 1)

    def change(header):
        eng = header["engine"]
        if edit == "width":  # order 2's pointers one bit wider: the records no longer fit
            eng[h + 3 + 4 * (N + 1) + 2] += 40
            eng[h + 3 + 2] += 40
        elif edit == "record":  # more bigrams than the section holds
            eng[16 + 3 * (N + 1) + 2] = eng[16 + (N + 1) + 2] = 10**6
        elif edit == "kind":
            eng[h] = 0
        else:
            header["version"] = 3

    _rewrite_header(path, tmp_path / "same.lmbin", lambda h: None)
    assert load(tmp_path / "same.lmbin").perplexity(TEST) == load(path).perplexity(TEST)
    _rewrite_header(path, tmp_path / "bad.lmbin", change)
    with pytest.raises(ModelFormatError, match=r"bad\.lmbin: corrupt header"):
        load(tmp_path / "bad.lmbin")


def test_opening_a_trie_maps_it_and_queries_build_nothing(tmp_path, monkeypatch):
    """As the hash tables: the trie is the file's bytes, memory-mapped; no query builds tables."""
    import lmlab.models.ngram.fastbuild as fb
    import lmlab.models.ngram.fastquery as fq
    from lmlab.models.ngram.model_files import load_binary

    lm = NgramLM(4, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    path = tmp_path / "t.lmbin"
    lm.to_binary(path, trie=True)
    enc = [lm.vocab.encode(s.split()) for s in TEST]
    want = [lm.token_logprobs(e) for e in enc]
    built = []
    monkeypatch.setattr(fb, "tables_from_fast", lambda fast: built.append(fast))
    monkeypatch.setattr(fq.FastTables, "__init__", lambda *a, **k: built.append(a))
    back = load_binary(path)
    fast = back.fast
    assert isinstance(fast.buf, np.memmap) and not fast.buf.flags.writeable and fast.trie
    assert np.shares_memory(fast.slots_i, fast.buf)
    for e, w in zip(enc, want, strict=True):
        np.testing.assert_array_equal(back.token_logprobs(e), w)
    assert back.next_logprobs([back.begin_state()]).shape == (1, len(lm.vocab))
    assert back._tables is None and built == []
