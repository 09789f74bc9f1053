"""Item 6: a UTF-8 byte-order mark at the start of a text is dropped by every reader (files,
compressed files, stdin, line-by-line stdin), so it never becomes part of the first word."""

from __future__ import annotations

import gzip
import io
import sys

import pytest

from lmlab._io import BOM, read_lines, read_stream_batches, read_stream_lines, read_text
from lmlab.cli.main import main
from lmlab.errors import InvalidUTF8Error
from lmlab.models.ngram.model import NgramLM

LINES = ["the cat sat", "a dog"]


def test_file_readers_drop_bom(tmp_path):
    plain = tmp_path / "t.txt"
    plain.write_bytes(BOM + "\n".join(LINES).encode() + b"\n")
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for p in (plain, gz):
        assert read_lines(p) == LINES
        assert read_text(p).startswith("the")
    assert read_stream_lines(io.BytesIO(plain.read_bytes())) == LINES
    assert read_stream_lines(io.StringIO("\ufeff" + "\n".join(LINES))) == LINES
    assert [ln for b in read_stream_batches(io.BytesIO(plain.read_bytes()), chunk=2) for ln in b] == LINES
    # only at the start: a BOM inside the text is kept (it is a character there)
    mid = tmp_path / "m.txt"
    mid.write_bytes(b"a\n" + BOM + b"b\n")
    assert read_lines(mid) == ["a", "\ufeffb"]


def test_bad_utf8_after_bom_names_the_right_byte(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(BOM + b"ok\n\xc3\x28\n")
    with pytest.raises(InvalidUTF8Error, match="line 2: invalid UTF-8 at byte 6 "):
        read_lines(p)
    with pytest.raises(InvalidUTF8Error, match="line 2: invalid UTF-8 at byte 6 "):
        list(read_stream_batches(io.BytesIO(p.read_bytes()), chunk=1))


def test_bom_does_not_change_scores(tmp_path, capsys, monkeypatch):
    lm = NgramLM(2, "witten_bell").fit(["the cat sat", "the dog"] * 3)
    arpa = tmp_path / "m.arpa"
    lm.to_arpa(arpa)
    plain, bom = tmp_path / "p.txt", tmp_path / "b.txt"
    plain.write_text("the cat\n")
    bom.write_bytes(BOM + b"the cat\n")
    outs = []
    for f in (plain, bom):
        assert main(["perplexity", str(arpa), "--text", str(f)]) == 0
        outs.append(capsys.readouterr().out)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f.read_bytes())))
        assert main(["query", str(arpa)]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[2] and outs[1] == outs[3] and "OOVs 0" in outs[0]


class _Trickle(io.RawIOBase):
    """A stream that hands out ``step`` bytes per read (a pipe that delivers slowly)."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step = data, step

    def readable(self):
        return True

    def readinto(self, b):
        n = min(self.step, len(b), len(self.data))
        b[:n], self.data = self.data[:n], self.data[n:]
        return n


def _all_stdin_readers(data: bytes, step: int):
    yield "read_stream_lines", read_stream_lines(io.BufferedReader(_Trickle(data, step)))
    yield "read_stream_batches", [ln for b in read_stream_batches(io.BufferedReader(_Trickle(data, step)), chunk=step)
                                  for ln in b]


@pytest.mark.parametrize("step", [1, 2, 3, 64])
@pytest.mark.parametrize(("data", "lines"), [(BOM, []), (b"", []), (BOM + b"\n", [""]), (BOM + b"a", ["a"]),
                                             (BOM + b"\r\n", [""]), (BOM + BOM, ["\ufeff"])])
def test_stdin_readers_agree_with_the_file_reader(tmp_path, data, lines, step):
    """A BOM alone is an empty input for every reader (files and both stdin readers, whatever the
    reads deliver); the line-by-line reader used to yield one empty line for it."""
    p = tmp_path / "t.txt"
    p.write_bytes(data)
    assert read_lines(p) == lines
    for name, got in _all_stdin_readers(data, step):
        assert got == lines, name


@pytest.mark.parametrize("cmd", ["query", "perplexity", "score"])
def test_stdin_holding_only_a_bom_is_refused_as_empty(cmd, tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.arpa"
    NgramLM(2, "witten_bell").fit(LINES * 3).to_arpa(model)
    bom = tmp_path / "bom.txt"
    bom.write_bytes(BOM)
    assert main([cmd, str(model), "--text", str(bom)]) == 2
    assert capsys.readouterr().err == f"lmlab {cmd}: error: {bom}: the input is empty (no lines)\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_Trickle(BOM, 1))))
    assert main([cmd, str(model)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"lmlab {cmd}: error: <stdin>: the input is empty (no lines)\n" and captured.out == ""
