"""Bad input gets a clear error, and nothing partial is written."""

from __future__ import annotations

import gzip

import pytest

from lmlab._io import atomic_write, read_lines
from lmlab.errors import (
    ArpaFormatError,
    ConfigError,
    CorpusError,
    DiscountError,
    InvalidUTF8Error,
)
from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM

GOOD_ARPA = """\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.5
-0.5\t</s>\t0
-0.7\ta\t-0.3

\\2-grams:
-0.2\t<s> a
-0.1\ta </s>

\\end\\
"""


def test_empty_corpus():
    with pytest.raises(CorpusError, match="empty corpus"):
        NgramLM(3).fit([])


def test_corpus_of_empty_lines_only():
    with pytest.raises(CorpusError, match="no words"):
        NgramLM(3, "witten_bell").fit(["", ""])


def test_one_short_line_mkn_discounts_undefined():
    with pytest.raises(DiscountError, match="adjusted count 2.*discount_fallback"):
        NgramLM(3).fit(["a b"])
    # With KenLM's fallback discounts it works and stays normalised.
    import numpy as np

    lm = NgramLM(3, discount_fallback=(0.5, 1.0, 1.5)).fit(["a b"])
    assert np.exp(lm.next_logprobs([lm.begin_state()])).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("order", [0, -1, 2.5, "3", True])
def test_bad_order(order):
    with pytest.raises(ConfigError, match="order must be a positive integer"):
        NgramLM(order)


def test_all_config_errors_at_once():
    with pytest.raises(ConfigError) as info:
        NgramLM(0, "nope", k=-1)
    assert len(info.value.problems) == 3


def test_invalid_utf8_names_file_line_and_byte(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"good line\nsecond \xff line\n")
    with pytest.raises(InvalidUTF8Error) as info:
        read_lines(p)
    assert info.value.line_no == 2
    assert info.value.byte_offset == 17
    assert "bad.txt: line 2: invalid UTF-8 at byte 17" in str(info.value)


def _arpa(tmp_path, text, name="m.arpa"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_arpa_reads(tmp_path):
    tables, vocab, _ = read_arpa(_arpa(tmp_path, GOOD_ARPA))
    assert tables.sizes() == [4, 2] and vocab.tokens == ("<unk>", "<s>", "</s>", "a")


@pytest.mark.parametrize(
    ("old", "new", "line_no", "expected"),
    [
        ("-0.7\ta\t-0.3", "-0.7\ta\t-0.3\textra", 9, "a 1-gram line"),
        ("-0.7\ta\t-0.3", "x\ta\t-0.3", 9, "a number for the log10 probability"),
        ("-0.2\t<s> a", "-0.2\t<s> a\t-0.4", 12, "no backoff weight on a highest-order"),
        ("-0.1\ta </s>", "-0.1\ta b", 13, "only words listed as unigrams"),
        ("-0.1\ta </s>", "-0.1\t<s> a", 13, "listed twice"),
        ("-0.7\ta\t-0.3", "0.7\ta\t-0.3", 9, "log10 probability <= 0"),
        ("\\2-grams:", "\\3-grams:", 11, "section header \\\\2-grams:"),
    ],
)
def test_malformed_arpa_line_is_named(tmp_path, old, new, line_no, expected):
    with pytest.raises(ArpaFormatError) as info:
        read_arpa(_arpa(tmp_path, GOOD_ARPA.replace(old, new)))
    assert info.value.line_no == line_no, str(info.value)
    assert f"line {line_no}:" in str(info.value)
    assert expected.replace("\\\\", "\\") in str(info.value)


def test_arpa_counts_header_disagrees_with_sections(tmp_path):
    with pytest.raises(ArpaFormatError, match="3 2-grams as the .data. header says, but the section has 2"):
        read_arpa(_arpa(tmp_path, GOOD_ARPA.replace("ngram 2=2", "ngram 2=3")))


def test_arpa_truncated(tmp_path):
    with pytest.raises(ArpaFormatError, match="file ended"):
        read_arpa(_arpa(tmp_path, GOOD_ARPA[:-30]))


def test_not_an_arpa_file(tmp_path):
    with pytest.raises(ArpaFormatError, match="line 1:.*data"):
        read_arpa(_arpa(tmp_path, "hello world\n"))


def test_compressed_arpa(tmp_path):
    p = tmp_path / "m.arpa.gz"
    p.write_bytes(gzip.compress(GOOD_ARPA.encode()))
    assert read_arpa(p)[0].sizes() == [4, 2]


def test_failed_write_leaves_previous_file(tmp_path):
    target = tmp_path / "model.arpa"
    target.write_text("previous")
    with pytest.raises(OSError), atomic_write(target) as fh:
        fh.write(b"partial")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.arpa"]


def test_full_disk_during_arpa_write(tmp_path, monkeypatch):
    lm = NgramLM(2, "witten_bell").fit(["a b c", "b c d"])
    target = tmp_path / "lm.arpa"
    lm.to_arpa(target)
    before = target.read_bytes()
    import os

    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        NgramLM(3, "witten_bell").fit(["x y z"]).to_arpa(target)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_unknown_words_are_unk_not_errors():
    lm = NgramLM(2, "witten_bell").fit(["a b", "b a"])
    assert lm.vocab.lookup("zebra") == lm.vocab.unk_id
    assert lm.logprob("zebra", ["a"]) == lm.logprob("<unk>", ["a"])


def test_literal_sentence_symbols_in_training_text_are_unk():
    """One policy for text everywhere (see tests/errors/test_sentence_symbols.py): a literal </s> in a
    training line is an unknown word, trained as <unk>, exactly like a word outside the vocabulary."""
    a = NgramLM(2, "witten_bell").fit(["a </s> b", "b a"])
    b = NgramLM(2, "witten_bell").fit(["a <unk> b", "b a"])
    assert a.vocab.tokens == b.vocab.tokens
    for ctx in (["a"], ["<unk>"], ["b"]):
        for w in ("a", "b", "<unk>", "</s>"):
            assert a.logprob(w, ctx) == pytest.approx(b.logprob(w, ctx), abs=1e-12)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_truncated_compressed_arpa(tmp_path, suffix):
    import bz2
    import lzma

    comp = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[suffix]
    p = tmp_path / f"m.arpa{suffix}"
    p.write_bytes(comp(GOOD_ARPA.encode())[:-12])
    from lmlab.errors import LmlabError

    with pytest.raises(LmlabError, match="truncated or corrupt compressed file|file ended"):
        read_arpa(p)
    p.write_bytes(comp(GOOD_ARPA.encode()))
    assert read_arpa(p)[0].sizes() == [4, 2]


def test_written_files_have_normal_permissions(tmp_path):
    import os
    import stat

    target = tmp_path / "f.txt"
    with atomic_write(target) as fh:
        fh.write(b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
