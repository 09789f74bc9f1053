"""What an output path is decides how it is written (review finding 1), for every command and API
call that writes a file:

* a symlink: its target is replaced atomically and the link stays a link;
* a FIFO (and any existing file that is not a regular file: a device): written in place, the
  FIFO stays a FIFO and its reader gets the whole output;
* ``-``: standard output;
* a folder: refused.

No test here opens a real device node: the FIFOs and links live in ``tmp_path``, and "is a device"
is simulated by patching ``os.stat`` for one path.
"""

from __future__ import annotations

import gzip
import os
import select
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lmlab import _io
from lmlab._io import atomic_write, writes_in_place
from lmlab.cli.main import main
from lmlab.models.loading import load
from lmlab.models.ngram.model import NgramLM

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
TRAIN = ["the cat sat", "the dog sat", "a cat ran", "a dog"] * 3


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    NgramLM(2, "witten_bell").fit(TRAIN).to_arpa(d / "m.arpa")
    NgramLM(3, "additive").fit(TRAIN).to_arpa(d / "n.arpa")
    (d / "t.txt").write_text("\n".join(TRAIN) + "\n")
    return d


# every command that writes a file: argv with {OUT} for the output and what the output must be
COMMANDS = {
    "ngram": (["ngram", "-o", "2", "--smoothing", "witten_bell", "--quiet", "--text", "{D}/t.txt", "--arpa", "{OUT}"],
              "arpa"),
    "prune": (["prune", "{D}/m.arpa", "--threshold", "1e-9", "--quiet", "--arpa", "{OUT}"], "arpa"),
    "convert-arpa": (["convert", "--quiet", "{D}/m.arpa", "{OUT}"], "arpa"),
    "convert-lmbin": (["convert", "--quiet", "{D}/m.arpa", "{OUT}.lmbin"], "lmbin"),
    "convert-gz": (["convert", "--quiet", "{D}/m.arpa", "{OUT}.gz"], "gz"),
    "mix": (["mix", "{D}/m.arpa", "{D}/n.arpa", "--weights", "0.5", "0.5", "--save", "{OUT}.json"], "json"),
}


def _argv(cmd, models, out):
    argv, kind = COMMANDS[cmd]
    return [a.replace("{D}", str(models)).replace("{OUT}", str(out)) for a in argv], kind


def _suffix(kind):
    return {"arpa": "", "lmbin": ".lmbin", "gz": ".gz", "json": ".json"}[kind]


def _check_output(data: bytes, kind: str):
    if kind == "gz":
        data = gzip.decompress(data)
    if kind in ("arpa", "gz"):
        assert data.startswith(b"\\data\\") or b"\n\\data\\\n" in data, data[:200]
        assert data.rstrip().endswith(b"\\end\\")
    elif kind == "lmbin":
        assert data.startswith(b"LMLABNG1")
    else:
        assert b'"kind": "mixture"' in data


def _run_with_fifo_reader(argv, fifo: Path, timeout=60.0) -> tuple[int, bytes]:
    """Run ``lmlab argv`` with ``fifo`` open for reading by a thread (non-blocking, so a command
    that never opens the FIFO cannot hang the test); collect what arrives until the command ends."""
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got, done = bytearray(), threading.Event()

    def drain():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            select.select([rfd], [], [], 0.05)
            try:
                chunk = os.read(rfd, 1 << 16)
            except BlockingIOError:
                continue
            if chunk:
                got.extend(chunk)
            elif done.is_set():
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        code = main(argv)
    finally:
        done.set()
        reader.join(timeout)
        os.close(rfd)
    assert not reader.is_alive()
    return code, bytes(got)


def _lmlab(argv) -> int:
    return main(argv)


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_symlink_output_replaces_the_target_and_keeps_the_link(cmd, models, tmp_path):
    real, links = tmp_path / "real", tmp_path / "links"
    real.mkdir(), links.mkdir()
    argv, kind = _argv(cmd, models, links / "out")
    target = real / ("target" + _suffix(kind))
    target.write_bytes(b"old contents\n")
    link = links / ("out" + _suffix(kind))
    link.symlink_to(os.path.relpath(target, links))  # a relative link, resolved from its own folder
    assert _lmlab(argv) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    _check_output(target.read_bytes(), kind)
    assert _temp_files(real) == [] and _temp_files(links) == [] and sorted(os.listdir(links)) == [link.name]
    if kind in ("arpa", "gz", "lmbin"):
        assert len(load(link).vocab) == len(load(models / "m.arpa").vocab)


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_dangling_symlink_output_creates_the_target(cmd, models, tmp_path):
    argv, kind = _argv(cmd, models, tmp_path / "out")
    target = tmp_path / ("new" + _suffix(kind))
    link = tmp_path / ("out" + _suffix(kind))
    link.symlink_to(target.name)
    assert _lmlab(argv) == 0
    assert link.is_symlink() and target.is_file()
    _check_output(target.read_bytes(), kind)


@pytest.mark.parametrize("cmd", list(COMMANDS))
def test_fifo_output_is_written_in_place(cmd, models, tmp_path):
    argv, kind = _argv(cmd, models, tmp_path / "out")
    fifo = tmp_path / ("out" + _suffix(kind))
    os.mkfifo(fifo)
    code, got = _run_with_fifo_reader(argv, fifo)
    assert code == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a regular file
    _check_output(got, kind)
    assert _temp_files(tmp_path) == []


@pytest.mark.parametrize("cmd", ["ngram", "prune", "convert-arpa"])
def test_dash_writes_standard_output(cmd, models, tmp_path, monkeypatch, capsysbinary):
    monkeypatch.chdir(tmp_path)
    argv, kind = _argv(cmd, models, "-")
    assert _lmlab(argv) == 0
    _check_output(capsysbinary.readouterr().out, kind)
    assert os.listdir(tmp_path) == []  # no file named "-"


def test_dash_is_the_real_standard_output(models, tmp_path):
    argv, kind = _argv("convert-arpa", models, "-")
    r = subprocess.run([sys.executable, "-m", "lmlab", *argv], env=ENV, capture_output=True, cwd=tmp_path, check=False)
    assert r.returncode == 0, r.stderr
    _check_output(r.stdout, kind)
    assert os.listdir(tmp_path) == []


def test_api_writers_follow_links_and_write_fifos_in_place(models, tmp_path):
    """The library writers (to_arpa, to_binary, the mixture file, the neural files all go through
    atomic_write): a link's target replaced, a FIFO written in place."""
    lm = load(models / "m.arpa")
    target = tmp_path / "t.arpa"
    target.write_text("old\n")
    (tmp_path / "l.arpa").symlink_to("t.arpa")
    lm.to_arpa(tmp_path / "l.arpa")
    assert (tmp_path / "l.arpa").is_symlink() and load(target).vocab == lm.vocab
    (tmp_path / "l.lmbin").symlink_to("t.lmbin")
    lm.to_binary(tmp_path / "l.lmbin")
    assert (tmp_path / "l.lmbin").is_symlink() and load(tmp_path / "t.lmbin").vocab == lm.vocab
    assert _temp_files(tmp_path) == []


def test_writes_in_place_predicate(tmp_path):
    regular, fifo, folder = tmp_path / "r", tmp_path / "f", tmp_path / "d"
    regular.write_bytes(b"x")
    os.mkfifo(fifo)
    folder.mkdir()
    (tmp_path / "to_fifo").symlink_to("f")
    (tmp_path / "to_regular").symlink_to("r")
    (tmp_path / "dangling").symlink_to("nowhere")
    assert writes_in_place("-") and writes_in_place(fifo) and writes_in_place(tmp_path / "to_fifo")
    assert not writes_in_place(regular) and not writes_in_place(tmp_path / "to_regular")
    assert not writes_in_place(tmp_path / "new") and not writes_in_place(tmp_path / "dangling")
    assert not writes_in_place(folder)  # refused by atomic_write instead
    # an alias of a file descriptor (what /dev/stdout is) is written through, even to a regular file
    fd = os.open(regular, os.O_RDONLY)
    try:
        (tmp_path / "fd_alias").symlink_to(f"/proc/self/fd/{fd}")
        if os.path.exists("/proc/self/fd"):
            assert writes_in_place(tmp_path / "fd_alias")
    finally:
        os.close(fd)


def test_a_device_is_written_in_place(tmp_path, monkeypatch):
    """A character device (/dev/null, /dev/full) is simulated: ``os.stat`` reports S_IFCHR for one
    regular file in tmp_path. atomic_write must write into that same inode, not rename over it."""
    dev = tmp_path / "fake_device"
    dev.write_bytes(b"")
    inode = os.stat(dev).st_ino
    real_stat = os.stat

    def fake_stat(p, *a, **k):
        st = real_stat(p, *a, **k)
        if os.fspath(p) == str(dev):
            return os.stat_result((stat.S_IFCHR | 0o666, *tuple(st)[1:]))
        return st

    monkeypatch.setattr(_io.os, "stat", fake_stat)
    assert writes_in_place(dev)
    with atomic_write(dev) as fh:
        fh.write(b"through the device\n")
    monkeypatch.undo()
    assert os.stat(dev).st_ino == inode and dev.read_bytes() == b"through the device\n"
    assert _temp_files(tmp_path) == []


def test_fifo_write_interrupted_leaves_no_temp_file_and_keeps_the_fifo(tmp_path):
    fifo = tmp_path / "f.arpa"
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(KeyboardInterrupt), atomic_write(fifo) as fh:  # Ctrl-C / SIGTERM in the CLI
            fh.write(b"part")
            raise KeyboardInterrupt
        assert os.read(rfd, 100) == b"part"
    finally:
        os.close(rfd)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _temp_files(tmp_path) == []


def test_symlink_to_a_folder_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "l.arpa").symlink_to("d")
    with pytest.raises(Exception, match="is a directory"), atomic_write(tmp_path / "l.arpa"):
        pass
    assert (tmp_path / "l.arpa").is_symlink() and os.listdir(tmp_path / "d") == []


def test_option_check_looks_at_what_is_written(tmp_path, monkeypatch):
    """The check made before any work (cli._common.output_file) follows the policy: a FIFO or a
    device is written in place, so its folder (/dev for /dev/null) need not be writable; a symlink
    replaces its target, so the target's folder is the one checked."""
    import argparse

    from lmlab.cli._common import output_file

    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir(), rw.mkdir()
    os.mkfifo(ro / "fifo")
    (ro / "link.arpa").symlink_to(rw / "t.arpa")
    (rw / "to_ro.arpa").symlink_to(ro / "t.arpa")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: os.fspath(p) != str(ro) and real_access(p, mode, **k))
    assert output_file(str(ro / "fifo")) == str(ro / "fifo")
    assert output_file("-") == "-"
    assert output_file(str(ro / "link.arpa")) == str(ro / "link.arpa")  # the target's folder is writable
    with pytest.raises(argparse.ArgumentTypeError, match="is not writable"):
        output_file(str(rw / "to_ro.arpa"))
    with pytest.raises(argparse.ArgumentTypeError, match="is not writable"):
        output_file(str(ro / "new.arpa"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory"):
        output_file(str(rw))
