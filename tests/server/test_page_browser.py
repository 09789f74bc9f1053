"""The web page in a real browser: Debian's Chromium driven by Playwright (no browser download).

Types a prefix into the page and reads the completions it shows, compares two sentences, and
generates text; a screenshot goes to the test's artifacts (``LMLAB_ARTIFACTS`` or the tmp dir).
Skipped where Chromium or Playwright is not installed (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.server.app import create_app  # noqa: E402

TRAIN = ["the stock market fell", "the stock market rose", "the stock price fell", "new york stock exchange",
         "the apple and pear salad", "a pair of shoes"] * 3
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    app = create_app(NgramLM(3, "witten_bell").fit(TRAIN), name="toy")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=5)


def test_page_completes_compares_generates(server, tmp_path):
    out = Path(os.environ.get("LMLAB_ARTIFACTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(server + "/")
        page.wait_for_function("document.getElementById('info').textContent.includes('toy')")
        page.fill("#prefix", "")
        page.type("#prefix", "the stock ", delay=20)
        page.wait_for_function("document.querySelectorAll('#completions li').length > 0")
        first = page.locator("#completions li").first.text_content()
        assert first.startswith("market")
        page.type("#prefix", "pr", delay=20)  # a partial word: complete it
        page.wait_for_function("document.querySelector('#completions li') && "
                               "document.querySelector('#completions li').textContent.startsWith('price')")
        page.click("#compare")
        page.wait_for_selector("#scores tr.winner")
        assert page.locator("#scores tr.winner td").first.text_content() == "the apple and pear salad"
        page.fill("#prompt", "new")
        page.click("#generate")
        page.wait_for_function("document.getElementById('generated').textContent.startsWith('new')")
        page.screenshot(path=str(out / "page.png"), full_page=True)
        browser.close()
    assert (out / "page.png").stat().st_size > 1000
