"""``lmlab ngram --engine spark``: the same ARPA as the native engine through the CLI; bad input
(missing corpus, bad --spark_conf, unreachable master, pyspark or Java missing) exits 2 with one
line; the native path never imports pyspark."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from lmlab.errors import ConfigError
from tests.cli_run import cli, cli_error
from tests.spark.conftest import MASTER
from tests.spark.test_spark_ngram import assert_same_arpa

CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the mat and the log",
          "", "a dog sat", "the cat ran", "on the mat the cat sat"] * 6


def test_cli_engine_spark_same_arpa_as_native(spark, capsys, tmp_path):
    text = tmp_path / "train.txt"
    text.write_text("\n".join(CORPUS) + "\n")
    native, out = tmp_path / "native.arpa", tmp_path / "spark.arpa.gz"
    args = ["ngram", "-o", "3", "--discount_fallback", "--text", text]
    assert cli(capsys, *args, "--arpa", native)[0] == 0
    code, _, err = cli(capsys, *args, "--engine", "spark", "--master", MASTER, "--partitions", "2",
                       "--spark_conf", "spark.sql.shuffle.partitions=3", "-T", tmp_path / "sparktmp", "--arpa", out)
    assert code == 0, err
    assert "n-grams per order" in err and "jobs" in err
    assert_same_arpa(native, out)  # compressed by suffix, as the native engine's


def test_cli_engine_spark_stdin_and_binary(spark, capsys, tmp_path, monkeypatch):
    from lmlab.models.ngram.model import NgramLM
    from lmlab.models.ngram.model_files import load_binary

    lmbin = tmp_path / "sb.lmbin"
    code, _, err = cli(capsys, "ngram", "-o", "2", "--smoothing", "stupid_backoff", "--engine", "spark", "--master",
                       MASTER, "--binary", lmbin, stdin="\n".join(CORPUS) + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    got = load_binary(lmbin)
    ref = NgramLM(2, "stupid_backoff").fit(CORPUS)
    assert list(got.vocab.tokens) == list(ref.vocab.tokens)
    for w, ctx in (("cat", ["the"]), ("sat", ["dog"]), ("zebra", ["the"]), ("the", [])):
        assert got.logprob(w, ctx) == pytest.approx(ref.logprob(w, ctx), abs=1e-5)
    err = cli_error(capsys, "ngram", "-o", "2", "--smoothing", "stupid_backoff", "--engine", "spark", "--text",
                    tmp_path / "x.txt")
    assert "--binary" in err


def test_cli_spark_bad_input(capsys, tmp_path):
    assert "no such file" in cli_error(capsys, "ngram", "-o", "3", "--engine", "spark", "--text", tmp_path / "nope.txt")
    assert "KEY=VALUE" in cli_error(capsys, "ngram", "-o", "3", "--engine", "spark", "--spark_conf", "spark.x",
                                    "--text", tmp_path / "nope.txt")
    assert "not --smoothing witten_bell" in cli_error(capsys, "ngram", "-o", "3", "--engine", "spark", "--smoothing",
                                                      "witten_bell", "--text", tmp_path / "nope.txt")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A TCP server on 127.0.0.1 that accepts and either says nothing (a proxy holding a closed
    port) or answers a request frame as Spark's RPC server does (an RpcFailure)."""

    def __init__(self, reply: bool):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import struct

        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            data = conn.recv(64)
            if self.reply and len(data) >= 9:
                msg = b"not an RPC message"
                body = struct.pack(">qi", 0x6C6D6C6162, len(msg)) + msg
                conn.sendall(struct.pack(">qb", 9 + len(body), 5) + body)
            time.sleep(3)

    def close(self):
        self.sock.close()


def test_master_probe():
    from lmlab.spark.session import probe_master

    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="cannot connect"):
        probe_master(f"spark://127.0.0.1:{_closed_port()}")
    silent = _Server(reply=False)
    try:
        with pytest.raises(ConfigError, match="no Spark master answers"):
            probe_master(f"spark://127.0.0.1:{silent.port}", timeout=1.5)
    finally:
        silent.close()
    assert time.perf_counter() - t0 < 10
    spark_like = _Server(reply=True)
    try:
        probe_master(f"spark://127.0.0.1:{spark_like.port}", timeout=3)  # answers as a master: no error
    finally:
        spark_like.close()
    probe_master("local[2]")  # nothing to probe
    with pytest.raises(ConfigError, match="spark://HOST:PORT"):
        probe_master("spark://nohostport")


def test_cli_unreachable_master_one_line_within_10s(capsys, tmp_path):
    pytest.importorskip("pyspark")
    text = tmp_path / "t.txt"
    text.write_text("a b\n")
    t0 = time.perf_counter()
    err = cli_error(capsys, "ngram", "-o", "2", "--engine", "spark", "--master", f"spark://127.0.0.1:{_closed_port()}",
                    "--text", text)
    assert "--master spark://127.0.0.1" in err and time.perf_counter() - t0 < 10


def test_pyspark_or_java_missing(monkeypatch):
    from lmlab.spark import session

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ConfigError, match=r"pip install 'lmlab\[spark\]'"):
        session.require_pyspark()
    monkeypatch.delitem(sys.modules, "pyspark")
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", "/nonexistent/jdk")
    with pytest.raises(ConfigError, match="Java 17"):
        session.require_pyspark()


def test_native_ngram_path_never_imports_pyspark(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("a b c\nb c a\n")
    code = (
        "import sys\n"
        "from lmlab.cli.main import main\n"
        f"rc = main(['ngram', '-o', '2', '--discount_fallback', '--text', {str(text)!r}, '--arpa', "
        f"{str(tmp_path / 'o.arpa')!r}, '--quiet'])\n"
        "assert rc == 0, rc\n"
        "assert 'pyspark' not in sys.modules and 'py4j' not in sys.modules, 'pyspark was imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
