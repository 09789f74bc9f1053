"""Input and output at the CLI boundary: empty input (item 8), OSError of any kind (item 9), SIGTERM
during a write (item 14), query answering line by line, OOV marks, numbers in messages (item 23)."""

from __future__ import annotations

import errno
import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmlab._io import atomic_write
from lmlab.cli import main as cli_main
from lmlab.cli.main import main
from lmlab.errors import LmlabError
from lmlab.models.ngram.model import NgramLM

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
    p = tmp_path_factory.mktemp("io") / "m.arpa"
    NgramLM(2, "witten_bell").fit(["the cat sat", "the dog sat", "a cat"] * 3).to_arpa(p)
    return p


def lmlab(*args, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("env", ENV)
    return subprocess.run([sys.executable, "-m", "lmlab", *map(str, args)], stderr=subprocess.PIPE, **kw)


def one_line_error(err: bytes | str, command: str) -> str:
    err = err.decode() if isinstance(err, bytes) else err
    assert err.count("\n") == 1 and err.startswith(f"lmlab {command}: error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("cmd", ["perplexity", "compare", "query", "score"])
def test_empty_input_is_a_clear_error(cmd, arpa, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    models = [arpa, arpa] if cmd == "compare" else [arpa]
    assert main([cmd, *map(str, models), "--text", str(empty)]) == 2
    assert f"{empty}: the input is empty" in one_line_error(capsys.readouterr().err, cmd)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))  # < /dev/null
    assert main([cmd, *map(str, models)]) == 2
    assert "<stdin>: the input is empty" in one_line_error(capsys.readouterr().err, cmd)


def test_empty_input_subprocess_dev_null(arpa):
    with open(os.devnull, "rb") as null:
        r = lmlab("perplexity", arpa, stdin=null)
    assert r.returncode == 2 and b"<stdin>: the input is empty" in r.stderr and r.stdout == b""


def test_empty_line_is_still_a_sentence(arpa, tmp_path, capsys):
    t = tmp_path / "t.txt"
    t.write_text("\n")
    assert main(["perplexity", str(arpa), "--text", str(t)]) == 0
    assert "sentences 1  tokens 1" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["ngram", "-o", "2", "--smoothing", "witten_bell", "--quiet", "--text", "{T}"],
                                  ["query", "{M}", "--text", "{T}"], ["score", "{M}", "--text", "{T}"],
                                  ["perplexity", "{M}", "--text", "{T}", "--json"]])
@pytest.mark.parametrize("buffered", [True, False])
def test_full_disk_on_stdout(argv, buffered, arpa, tmp_path):
    """`> /dev/full`: one line naming standard output, exit 2, also when the data is still buffered
    at exit (score and perplexity print a few hundred bytes: the failure shows at the final flush)."""
    t = tmp_path / "t.txt"
    t.write_text("the cat sat\n" * 20)
    argv = [a.replace("{T}", str(t)).replace("{M}", str(arpa)) for a in argv]
    env = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"} if buffered else {**ENV, "PYTHONUNBUFFERED": "1"}
    with open("/dev/full", "wb") as full:
        r = lmlab(*argv, stdout=full, env=env)
    err = one_line_error(r.stderr, argv[0])
    assert r.returncode == 2 and "standard output: No space left on device" in err


def test_any_oserror_at_the_boundary_is_one_line(monkeypatch, capsys):
    def boom(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/some/where/lm.arpa")

    import lmlab.cli.data as data_cmd

    monkeypatch.setattr(data_cmd, "run", boom)
    assert main(["data", "list"]) == 2
    assert one_line_error(capsys.readouterr().err, "data") == \
        "lmlab data: error: /some/where/lm.arpa: Permission denied\n"


def test_atomic_write_names_the_target_not_the_temp_file(tmp_path, monkeypatch):
    from lmlab import _io

    real = os.open

    def denied(name, *a, **k):
        if str(name).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real(name, *a, **k)

    monkeypatch.setattr(_io.os, "open", denied)
    with pytest.raises(LmlabError, match=r"x\.arpa: cannot write: Permission denied"), atomic_write(tmp_path / "x.arpa"):
        pass
    monkeypatch.undo()
    with pytest.raises(LmlabError, match="is a directory"), atomic_write(tmp_path):
        pass


def test_write_error_without_a_file_name_names_the_target(tmp_path):
    with pytest.raises(OSError) as info, atomic_write(tmp_path / "x.arpa") as fh:
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.filename == str(tmp_path / "x.arpa") and info.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []  # the temp file is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder(arpa, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["convert", str(arpa), str(ro / "x.lmbin")]) == 2
        assert "not writable" in one_line_error(capsys.readouterr().err, "convert")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_write_removes_the_temp_file(sig, code, data_root, tmp_path):
    """SIGTERM (what `timeout` sends) is handled as Ctrl-C: the temp file is removed, the old file
    is untouched, exit 143 (130 for SIGINT)."""
    out = tmp_path / "lm.arpa.gz"  # compressing makes the write last seconds: the signal lands inside it
    out.write_bytes(b"the old model\n")
    proc = subprocess.Popen([sys.executable, "-m", "lmlab", "ngram", "-o", "4", "--data", "ptb", "--quiet",
                             "--arpa", str(out)], env={**ENV, "LMLAB_DATA": str(data_root)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):  # the writer has started
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.decode().count("\n") == 1 and "Traceback" not in err.decode()
    assert out.read_bytes() == b"the old model\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm.arpa.gz"]


def test_sigterm_handler_restored_after_main(arpa, tmp_path, capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["query", str(arpa), "--text", str(arpa)]) == 0
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before


def test_terminated_is_keyboard_interrupt():
    """Every `except KeyboardInterrupt` (e.g. a trainer saving its checkpoint) treats SIGTERM alike."""
    assert issubclass(cli_main.Terminated, KeyboardInterrupt)


def test_query_answers_each_line_as_it_is_read(arpa):
    with subprocess.Popen([sys.executable, "-m", "lmlab", "query", "-v", "sentence", str(arpa)], env=ENV,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        try:
            for line in (b"the cat sat\n", b"a zebra\n"):
                proc.stdin.write(line)
                proc.stdin.flush()
                answer = proc.stdout.readline()  # before stdin is closed
                assert answer.startswith(b"Total: -") and (b"OOV: 1" in answer) == (line == b"a zebra\n")
            proc.stdin.close()
            rest = proc.stdout.read().decode()
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
    assert "Perplexity including OOVs:" in rest and "Tokens:\t7" in rest


def test_query_stdin_equals_file(arpa, tmp_path, capsys, monkeypatch):
    t = tmp_path / "t.txt"
    t.write_bytes(b"the cat sat\n\na zebra dog\r\nthe")  # empty line, CRLF, no final newline
    assert main(["query", str(arpa), "--text", str(t)]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(t.read_bytes())))
    assert main(["query", str(arpa)]) == 0
    assert capsys.readouterr().out == from_file and from_file.count("Total:") == 4


def test_score_per_token_marks_oovs(arpa, tmp_path, capsys):
    t = tmp_path / "t.txt"
    t.write_text("the zebra sat\n")
    assert main(["score", str(arpa), "--text", str(t), "--per-token"]) == 0
    total, words, per_token = capsys.readouterr().out.rstrip("\n").split("\t")
    marks = [tok.split("=")[0] for tok in per_token.split()]
    assert marks == ["the", "zebra[OOV]", "sat", "</s>"] and words == "the zebra sat"
    assert float(total) == pytest.approx(sum(float(tok.rsplit("=", 1)[1]) for tok in per_token.split()), abs=3e-4)


def test_numbers_in_messages_are_plain(arpa, tmp_path, capsys):
    assert main(["mix", str(arpa), str(arpa), "--weights", "0.5", "0.6", "--save", str(tmp_path / "m.json")]) == 2
    err = one_line_error(capsys.readouterr().err, "mix")
    assert "np." not in err and "[0.5, 0.6]" in err
    assert cli_main._fail("x", "got [np.float64(0.5), np.int64(3), np.float32(-1e-05)]") == 2
    assert capsys.readouterr().err == "lmlab x: error: got [0.5, 3, -1e-05]\n"


class _FullDisk(io.RawIOBase):
    """Standard output on a full disk (what `> /dev/full` gives), without opening a device."""

    def writable(self):
        return True

    def write(self, b):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("argv", [["--help"], ["--version"]] + [[c, "--help"] for c in cli_main.COMMANDS])
@pytest.mark.parametrize("write_through", [True, False], ids=["unbuffered", "buffered"])
def test_help_and_version_to_a_full_stdout(argv, write_through, monkeypatch, capsys):
    """argparse swallows a failed write of --help/--version (exit 0, nothing said); lmlab reports it."""
    full = io.TextIOWrapper(io.BufferedWriter(_FullDisk(), buffer_size=256), encoding="utf-8",
                            write_through=write_through)
    monkeypatch.setattr(sys, "stdout", full)
    code = main(argv)
    monkeypatch.undo()
    try:  # what is still buffered cannot be written either: close it here, not in a finaliser
        full.close()
    except OSError:
        pass
    err = capsys.readouterr().err
    command = argv[0] if argv[0] in cli_main.COMMANDS else None
    prefix = f"lmlab {command}: error: " if command else "lmlab: error: "
    assert code == 2 and err == f"{prefix}standard output: No space left on device\n", err


@pytest.mark.parametrize("sig, exc", [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, KeyboardInterrupt)])
def test_a_signal_just_as_the_temp_file_is_made_leaves_nothing(sig, exc, tmp_path, monkeypatch):
    """The signal lands the instant the temp file exists, before its descriptor is returned (the
    window a loaded machine hit in the SIGTERM test above, when the name came from mkstemp only
    after the file was made): the writer already holds the name, and removes the file."""
    from lmlab import _io

    real = os.open

    def open_then_signal(name, *a, **kw):
        fd = real(name, *a, **kw)
        if str(name).endswith(".tmp"):
            os.kill(os.getpid(), sig)
            time.sleep(0.05)  # the handler runs here: the file exists, its descriptor not yet returned
        return fd

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(sig, raise_interrupt)
    monkeypatch.setattr(_io.os, "open", open_then_signal)
    out = tmp_path / "model.arpa"
    out.write_bytes(b"the old model\n")
    try:
        with pytest.raises(exc):
            with _io.atomic_write(out) as fh:
                fh.write(b"new")
    finally:
        signal.signal(sig, old)
    assert out.read_bytes() == b"the old model\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.arpa"]


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_written_files_get_the_usual_permissions(tmp_path, mask):
    old = os.umask(mask)
    try:
        with atomic_write(tmp_path / "x.arpa") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "x.arpa").st_mode) == 0o666 & ~mask
