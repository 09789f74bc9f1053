"""lmlab's binary n-gram format: identical scores, instant load, clear errors on bad files."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import LmlabError, ModelFormatError, VocabMismatchError
from lmlab.models.loading import load
from lmlab.models.ngram.model import NgramLM

TRAIN = ["a b c a b", "a b d", "b c a", "", "c a b c", "a a b", "d c b a"] * 3
TEST = ["a b c", "d d", "", "a x b"]


@pytest.fixture(params=["modified_kneser_ney", "stupid_backoff", "witten_bell"])
def lm(request):
    return NgramLM(4, request.param, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)


def test_round_trip_identical(lm, tmp_path):
    path = tmp_path / "m.lmbin"
    lm.to_binary(path)
    back = load(path)
    assert back.vocab == lm.vocab and back.normalized == lm.normalized
    enc = [lm.vocab.encode(s.split()) for s in TEST]
    for a, b in zip(lm.corpus_token_logprobs(enc), back.corpus_token_logprobs(enc), strict=True):
        assert np.array_equal(a, b)
    for m in range(lm.order):  # the sorted tables are rebuilt exactly from the hashed ones
        assert np.array_equal(back.tables.keys[m], lm.tables.keys[m])
        assert np.array_equal(back.tables.logprob10[m], lm.tables.logprob10[m])
        assert np.array_equal(back.tables.backoff10[m], lm.tables.backoff10[m])
    np.testing.assert_array_equal(back.next_logprobs([back.begin_state()]), lm.next_logprobs([lm.begin_state()]))


def test_arpa_binary_arpa(tmp_path):
    lm = NgramLM(3, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    lm.to_arpa(tmp_path / "a.arpa")
    load(tmp_path / "a.arpa").to_binary(tmp_path / "b.lmbin")
    load(tmp_path / "b.lmbin").to_arpa(tmp_path / "c.arpa")
    body = lambda p: p.read_text().split("\\data\\", 1)[1]  # noqa: E731
    assert body(tmp_path / "a.arpa") == body(tmp_path / "c.arpa")


def test_truncated_binary(tmp_path):
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    path = tmp_path / "m.lmbin"
    lm.to_binary(path)
    data = path.read_bytes()
    (tmp_path / "cut.lmbin").write_bytes(data[: len(data) - 100])
    with pytest.raises(ModelFormatError, match="truncated"):
        load(tmp_path / "cut.lmbin")
    (tmp_path / "head.lmbin").write_bytes(data[:40])
    with pytest.raises(ModelFormatError, match="truncated"):
        load(tmp_path / "head.lmbin")


@pytest.mark.parametrize("junk", [b"\0", b"x" * 63, b"\0" * 64, b"LMLABNG1" + b"\0" * 200])
def test_trailing_bytes_are_refused(tmp_path, junk, capsys):
    """Bytes after the declared data (a second file appended, a bad copy) are refused naming the
    file, through the API and the CLI; the exact file still loads."""
    from lmlab.cli.main import main

    path = tmp_path / "m.lmbin"
    NgramLM(3, "witten_bell").fit(TRAIN).to_binary(path)
    load(path)
    bad = tmp_path / "junk.lmbin"
    bad.write_bytes(path.read_bytes() + junk)
    with pytest.raises(ModelFormatError, match=rf"junk\.lmbin: {len(junk)} bytes after the end of the data"):
        load(bad)
    assert main(["convert", str(bad), str(tmp_path / "out.arpa"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: {len(junk)} bytes after the end" in err
    assert not (tmp_path / "out.arpa").exists()


def test_corrupt_binary_fails_its_checksum_when_verified(tmp_path, capsys):
    """Opening maps the file without reading it; the checksum is checked on request, and by
    ``lmlab convert`` (so a copy does not spread the corruption)."""
    from lmlab.cli.main import main
    from lmlab.models.ngram.model_files import load_binary

    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    path = tmp_path / "m.lmbin"
    lm.to_binary(path)
    load_binary(path, verify=True)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    bad = tmp_path / "bad.lmbin"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="checksum"):
        load_binary(bad, verify=True)
    assert main(["convert", str(bad), str(tmp_path / "out.arpa"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: the tables fail their checksum" in err
    assert not (tmp_path / "out.arpa").exists()


def test_a_binary_of_an_older_version_is_refused_naming_convert(tmp_path, capsys):
    """Files written by an older lmlab (format v2: the tables without the engine's layout) are
    refused in one line that says how to write them again."""
    from lmlab.cli.main import main
    from lmlab.models.ngram.binary import TRIE_VERSION, VERSION

    path = tmp_path / "old.lmbin"
    NgramLM(2, "witten_bell").fit(TRAIN).to_binary(path)
    data = path.read_bytes()
    key = f'"version": {VERSION}'.encode()
    assert data.count(key) == 1
    path.write_bytes(data.replace(key, b'"version": 2'))
    with pytest.raises(ModelFormatError, match=rf"old\.lmbin: lmlab binary format v2, .*this one reads v{VERSION} and v{TRIE_VERSION}: "
                                               r"write it again with 'lmlab convert MODEL\.arpa"):
        load(path)
    assert main(["query", str(path), "--text", "a b"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lmlab convert" in err and "Traceback" not in err


def test_opening_maps_the_file_and_queries_build_nothing(tmp_path, monkeypatch):
    """The engine's tables are the file's bytes, memory-mapped: opening reads and copies nothing,
    and the first queries (next_logprobs included) build nothing: no sorted tables, no second
    copy; the scores are those of the model that was written."""
    import lmlab.models.ngram.fastbuild as fb
    import lmlab.models.ngram.fastquery as fq
    from lmlab.models.ngram.model_files import load_binary

    lm = NgramLM(4, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    path = tmp_path / "m.lmbin"
    lm.to_binary(path)
    built = []
    monkeypatch.setattr(fb, "tables_from_fast", lambda fast: built.append(fast))
    monkeypatch.setattr(fq.FastTables, "__init__", lambda *a, **k: built.append(a))
    back = load_binary(path)
    fast = back.fast
    assert isinstance(fast.buf, np.memmap) and str(fast.buf.filename) == str(path.resolve())
    assert not fast.buf.flags.writeable and fast.nbytes() > 0.5 * path.stat().st_size
    for arr in (fast.slots_i, fast.prob1, fast.cslot):  # views into the map, no copies
        assert np.shares_memory(arr, fast.buf)
    states = [back.begin_state(), back.advance(back.begin_state(), back.vocab.lookup("a"))]
    np.testing.assert_array_equal(back.next_logprobs(states), lm.next_logprobs(states))
    enc = [lm.vocab.encode(s.split()) for s in TEST]
    for e in enc:
        np.testing.assert_array_equal(back.token_logprobs(e), lm.token_logprobs(e))
    assert back.advance_many(states, [3, 4]) == lm.advance_many(states, [3, 4])
    assert back._tables is None and built == []


@pytest.mark.parametrize("field,reason", [("format", "not an lmlab vocabulary"), ("fingerprint", "fingerprint")])
def test_a_tampered_vocabulary_names_the_file(tmp_path, field, reason):
    """The header's vocabulary edited in place (same length, so the file still parses)."""
    lm = NgramLM(2, "witten_bell").fit(TRAIN)
    lm.to_binary(tmp_path / "m.lmbin")
    data = bytearray((tmp_path / "m.lmbin").read_bytes())
    key = f'"{field}": "'.encode()
    at = data.index(key, data.index(b'"vocab"')) + len(key)
    data[at] = ord("X")  # the value's first character: no fingerprint or format starts with X
    bad = tmp_path / "bad.lmbin"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=reason) as info:
        load(bad)
    assert str(info.value).startswith(f"{bad}: the vocabulary: ")


def test_other_vocabulary_ids_are_refused():
    small = NgramLM(2, "witten_bell").fit(["a b"])
    big = NgramLM(2, "witten_bell").fit(TRAIN + ["e f g h i j"])
    ids = [big.vocab.encode("i j".split())]
    with pytest.raises(VocabMismatchError, match="another vocabulary"):
        small.corpus_token_logprobs(ids)


def test_convert_cli(tmp_path):
    from lmlab.cli.main import main

    lm = NgramLM(3, discount_fallback=(0.5, 1, 1.5)).fit(TRAIN)
    lm.to_arpa(tmp_path / "m.arpa")
    assert main(["convert", str(tmp_path / "m.arpa"), str(tmp_path / "m.lmbin"), "--quiet"]) == 0
    assert load(tmp_path / "m.lmbin").perplexity(TEST) == pytest.approx(lm.perplexity(TEST), rel=1e-12)


def test_quantised_binary(tmp_path, data_root):
    from lmlab.models.ngram.fastbuild import quantize
    from tests.conftest import read_lines

    codes, centers = quantize(np.array([-3.0, -1.0, -2.0, -4.0]), 1)  # 2 bins of 2 values
    assert codes.tolist() == [0, 1, 1, 0] and centers[:2].tolist() == [-3.5, -1.5]
    lines = read_lines(data_root / "tinyshakespeare" / "input.txt")
    lm = NgramLM(3).fit(lines[:8000])
    test = lines[39000:39500]
    lm.to_binary(tmp_path / "f.lmbin")
    lm.to_binary(tmp_path / "q.lmbin", quant_bits=8)
    full, q8 = load(tmp_path / "f.lmbin"), load(tmp_path / "q.lmbin")
    # 12 bytes a slot instead of 24, plus 4 bytes an n-gram (continuations) and the unigrams in both
    assert (tmp_path / "q.lmbin").stat().st_size < 0.65 * (tmp_path / "f.lmbin").stat().st_size
    assert q8.perplexity(test) == pytest.approx(full.perplexity(test), rel=0.01)
    assert q8.tables.sizes() == full.tables.sizes()  # same n-grams, quantised values
    with pytest.raises(LmlabError, match="1 to 8 bits"):
        lm.to_binary(tmp_path / "bad.lmbin", quant_bits=12)


def _rewrite_header(path, out, edit) -> None:
    """``path`` with its JSON header changed by ``edit(header)`` (and the data realigned)."""
    import json
    import struct

    data = path.read_bytes()
    (hlen,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16 : 16 + hlen])
    body = data[-(-(16 + hlen) // 64) * 64 :]
    edit(header)
    blob = json.dumps(header).encode()
    start = -(-(16 + len(blob)) // 64) * 64
    out.write_bytes(data[:8] + struct.pack("<Q", len(blob)) + blob + b"\0" * (start - 16 - len(blob)) + body)


@pytest.mark.parametrize("field,value", [(5, 10**9), (7, -8), (1, 0), (16 + 2 * 5 + 2, 10**7)])
def test_a_layout_outside_the_data_is_refused(tmp_path, field, value):
    """The kernels read the tables without bounds checks, so a header whose layout points outside
    the file's data (sections, an order's slots) is refused when the file is opened."""
    path = tmp_path / "m.lmbin"
    NgramLM(4, "witten_bell").fit(TRAIN).to_binary(path)
    _rewrite_header(path, tmp_path / "same.lmbin", lambda h: None)
    assert load(tmp_path / "same.lmbin").perplexity(TEST) == load(path).perplexity(TEST)
    bad = tmp_path / "bad.lmbin"
    _rewrite_header(path, bad, lambda h: h["engine"].__setitem__(field, value))
    with pytest.raises(ModelFormatError, match=r"bad\.lmbin: corrupt header \(its layout"):
        load(bad)
