"""The dataset registry: local files, sha256 verification, downloads from a loopback server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading

import pytest

from lmlab.data import registry
from lmlab.data.readers import lm_lines, tinyshakespeare_text
from lmlab.errors import ChecksumError, ConfigError, DataUnavailableError


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_caches(server, tmp_path):
    root, url = server
    body = b"hello corpus\n"
    (root / "c.txt").write_bytes(body)
    df = registry.DataFile("x/c.txt", f"{url}/c.txt", hashlib.sha256(body).hexdigest())
    dest = tmp_path / "cache" / df.path
    registry.download(df, dest)
    assert dest.read_bytes() == body


def test_download_gzipped(server, tmp_path):
    root, url = server
    body = b"a b c\n" * 10
    (root / "c.txt.gz").write_bytes(gzip.compress(body))
    df = registry.DataFile("c.txt", f"{url}/c.txt.gz", hashlib.sha256(body).hexdigest(), gzipped=True)
    assert registry.download(df, tmp_path / "c.txt").read_bytes() == body


def test_checksum_mismatch_is_rejected_and_nothing_kept(server, tmp_path):
    root, url = server
    (root / "c.txt").write_bytes(b"tampered\n")
    df = registry.DataFile("c.txt", f"{url}/c.txt", "0" * 64)
    with pytest.raises(ChecksumError, match="does not match"):
        registry.download(df, tmp_path / "c.txt")
    assert not list(tmp_path.glob("c.txt*"))


def test_offline_error_names_url_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LMLAB_DATA", str(tmp_path))
    monkeypatch.setenv("LMLAB_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as info:
        registry.resolve("ptb", "test")
    msg = str(info.value)
    assert registry.DATASETS["ptb"].splits["test"].url in msg
    assert str(tmp_path / "ptb" / "ptb.test.txt") in msg


def test_unreachable_server_error(tmp_path):
    df = registry.DataFile("c.txt", "http://127.0.0.1:9/none.txt", "0" * 64)
    with pytest.raises(DataUnavailableError, match="download failed"):
        registry.download(df, tmp_path / "c.txt", timeout=2)


def test_unknown_names():
    with pytest.raises(ConfigError, match="unknown dataset"):
        registry.get_dataset("penn")
    with pytest.raises(ConfigError, match="has no split"):
        registry.get_file("ptb", "dev")


def test_shared_data_verifies(data_root):
    for name in registry.DATASETS:
        assert all(status == "ok" for _, status in registry.verify(name, root=data_root)), name


def test_lm_lines_and_tinyshakespeare_split(data_root, monkeypatch):
    monkeypatch.setenv("LMLAB_DATA", str(data_root))
    assert len(lm_lines("ptb", "test")) == 3761
    train, valid = tinyshakespeare_text("train"), tinyshakespeare_text("valid")
    assert len(train) == int(1115394 * 0.9) and train + valid == tinyshakespeare_text("all")


def test_data_root_order(tmp_path, monkeypatch):
    """LMLAB_DATA, else shared/data beside the repository, else the user's cache folder."""
    repo = tmp_path / "repo"
    fake = repo / "lmlab" / "data" / "registry.py"  # where registry.py would sit in that checkout
    monkeypatch.setattr(registry, "__file__", str(fake))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LMLAB_DATA", raising=False)
    assert registry.data_root() == tmp_path / "cache" / "lmlab" / "data"  # no shared/ beside the repo
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert registry.data_root() == tmp_path / "shared" / "data"
    monkeypatch.setenv("LMLAB_DATA", str(tmp_path / "mine"))
    assert registry.data_root() == tmp_path / "mine"
    monkeypatch.delenv("LMLAB_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    (tmp_path / "shared" / "data").rmdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert registry.data_root() == tmp_path / "home" / ".cache" / "lmlab" / "data"
