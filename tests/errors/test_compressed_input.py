"""A truncated or corrupt compressed file (review finding 2) is refused with one message naming the
file, whatever reads it: every compressed kind x every way of damaging it x every entry point
(lmlab.load, read_arpa, convert, query, a text reader).  Small files matter most: the damage is then
inside the first bytes that the format sniffing reads, which used to be outside the guarded read."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys

import pytest

import lmlab
from lmlab._io import read_lines
from lmlab.cli.main import main
from lmlab.errors import LmlabError
from lmlab.models.ngram.arpa import read_arpa
from lmlab.models.ngram.model import NgramLM

COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def _damage(blob: bytes, how: str, kind: str) -> bytes:
    if how.startswith("cut"):
        cut = {"cut_head": 10, "cut_half": len(blob) // 2, "cut_end10": len(blob) - 10, "cut_end1": len(blob) - 1}[how]
        return blob[:cut]
    b = bytearray(blob)
    if how == "bad_checksum":  # gz: the CRC32 trailer; bz2: the block CRC; xz: the check of the block
        pos = {"gz": len(b) - 8, "bz2": 10, "xz": len(b) - 40}[kind]
        b[pos] ^= 0xFF
    elif how == "garbage_body":
        mid = len(b) // 2
        b[mid - 8 : mid + 8] = b"\xff" * 16
    elif how == "bad_method":  # gz: compression method 7 ("Unknown compression method"); others: bad header
        if kind == "bz2":
            b[3] = ord("Z")  # block size must be '1'..'9'
        else:
            b[{"gz": 2, "xz": 7}[kind]] ^= 0x0F
    return bytes(b)


HOW = ["cut_head", "cut_half", "cut_end10", "cut_end1", "bad_checksum", "garbage_body", "bad_method"]


@pytest.fixture(scope="module", params=["small", "large"])
def arpa_bytes(request, tmp_path_factory):
    """A small ARPA (all of it within the first 4 KB that the loader sniffs) and a larger one."""
    p = tmp_path_factory.mktemp("c") / "m.arpa"
    lines = ["the cat sat", "a dog ran"] if request.param == "small" else \
        [f"w{i} w{i * 7 % 301} w{i * 13 % 157} the end" for i in range(600)]
    NgramLM(2, "witten_bell").fit(lines).to_arpa(p)
    data = p.read_bytes()
    assert (len(data) < 4096) == (request.param == "small")
    return data


def _one_line(err: str, command: str, path) -> None:
    assert err.count("\n") == 1 and err.startswith(f"lmlab {command}: error: {path}: ") and "Traceback" not in err, err


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", list(COMPRESS))
def test_damaged_compressed_arpa_is_refused_naming_the_file(kind, how, arpa_bytes, tmp_path, capsys, monkeypatch):
    bad = tmp_path / f"t.arpa.{kind}"
    bad.write_bytes(_damage(COMPRESS[kind](arpa_bytes), how, kind))
    for read in (lmlab.load, read_arpa, lambda p: read_arpa(p, strict=True)):
        with pytest.raises(LmlabError, match=rf"^{bad}: "):
            read(bad)
    assert main(["convert", "--quiet", str(bad), str(tmp_path / "out.lmbin")]) == 2
    _one_line(capsys.readouterr().err, "convert", bad)
    assert not (tmp_path / "out.lmbin").exists()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"the cat\n")))
    assert main(["query", str(bad)]) == 2
    captured = capsys.readouterr()
    _one_line(captured.err, "query", bad)
    assert captured.out == ""


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", list(COMPRESS))
def test_damaged_compressed_text_is_refused_naming_the_file(kind, how, tmp_path, capsys):
    good = tmp_path / "m.arpa"
    NgramLM(2, "witten_bell").fit(["the cat sat", "a dog ran"]).to_arpa(good)
    bad = tmp_path / f"t.txt.{kind}"
    bad.write_bytes(_damage(COMPRESS[kind](b"the cat sat\na dog ran\n" * 20), how, kind))
    with pytest.raises(LmlabError, match=rf"^{bad}: "):
        read_lines(bad)
    assert main(["perplexity", str(good), "--text", str(bad)]) == 2
    _one_line(capsys.readouterr().err, "perplexity", bad)


@pytest.mark.parametrize("kind", list(COMPRESS))
def test_intact_compressed_files_still_read(kind, arpa_bytes, tmp_path):
    p = tmp_path / f"m.arpa.{kind}"
    p.write_bytes(COMPRESS[kind](arpa_bytes))
    assert lmlab.load(p).vocab == read_arpa(p, strict=True)[1]
