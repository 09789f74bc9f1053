"""``lmlab serve`` through the CLI: it prints its URL once it answers, and a taken port is exit 2
with one line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from lmlab.models.ngram.model import NgramLM  # noqa: E402
from tests.server._helpers import TRAIN  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "toy.arpa"
    NgramLM(3, "witten_bell").fit(TRAIN).to_arpa(path)
    return path


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


def test_serve_prints_its_url_when_it_answers(model):
    proc = subprocess.Popen([sys.executable, "-m", "lmlab", "serve", str(model), "--port", "0"], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=60)
        assert lines, "lmlab serve printed nothing within 60 s"
        m = re.fullmatch(r"lmlab serve: listening on (http://127\.0\.0\.1:(\d+)) \(.*\)\n", lines[0])
        assert m and int(m.group(2)) > 0, lines[0]
        health = json.loads(urllib.request.urlopen(m.group(1) + "/health", timeout=5).read())
        assert health["status"] == "ready" and health["name"] == str(model) and health["order"] == 3
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err


def test_a_taken_port_is_exit_2_and_one_line(model):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "lmlab", "serve", str(model), "--port", str(port)], cwd=REPO,
                           env=_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and f"cannot listen on 127.0.0.1:{port}" in r.stderr


@pytest.mark.parametrize(("args", "names"), [
    (["--timeout", "0"], "--timeout"), (["--body_timeout", "-1"], "--body_timeout"),
    (["--long_queue", "-1"], "--long_queue"), (["--long_workers", "0"], "--long_workers"),
    (["--max_body", "1.5"], "--max_body"), (["--port", "70000"], "--port"),
])
def test_bad_options_are_exit_2_naming_the_option(model, capsys, args, names):
    from lmlab.cli.main import main

    try:
        code = main(["serve", str(model), *args])
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and names in err.strip().splitlines()[-1] and "Traceback" not in err
