"""The web page in a real browser: Debian's Chromium driven by Playwright (no browser download).

Types into the page and checks what it shows against the model itself: the completion list is
the model's top 5 (words and probabilities), a partial word is completed, the sentence the model
prefers is the one marked, the generated text is the seeded generation; and bad input (an empty
sentence, a negative seed, an out-of-range temperature) shows the server's message, with no
uncaught error in the page.  A screenshot goes to the test's artifacts (``LMLAB_ARTIFACTS`` or
the tmp dir).  Skipped where Chromium or Playwright is not installed (``.ci/run`` installs both).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from lmlab.eval.scoring import score_sentences  # noqa: E402
from lmlab.generate.complete import complete_text  # noqa: E402
from lmlab.generate.decode import generate  # noqa: E402
from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.server.app import create_app  # noqa: E402
from lmlab.server.run import make_server  # noqa: E402

TRAIN = ["the stock market fell", "the stock market rose", "the stock price fell", "new york stock exchange",
         "the apple and pear salad", "a pair of shoes"] * 3
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def served():
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    srv = make_server(create_app(lm, name="toy"), "127.0.0.1", 0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.url:
            break
        threading.Event().wait(0.05)
    assert srv.url, "the server did not start"
    yield srv.url, lm
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def page(served):
    url, _ = served
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page()
        pg.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        elsewhere: list[str] = []  # the page and /docs must work offline: nothing fetched but the server
        pg.on("request", lambda req: None if req.url.startswith(url + "/") else elsewhere.append(req.url))
        pg.goto(url + "/")
        pg.wait_for_function("document.getElementById('info').textContent.includes('toy')")
        yield pg
        assert errors == [], f"uncaught errors in the page: {errors}"
        assert elsewhere == [], f"requests outside the server: {elsewhere}"
        browser.close()


def _shown_completions(page) -> list[tuple[str, float]]:
    out = []
    for text in page.locator("#completions li").all_text_contents():
        word, prob = text.rsplit(" (", 1)
        out.append((word, float(prob.rstrip(")"))))
    return out


def _type(page, selector: str, text: str) -> None:
    page.fill(selector, "")
    page.type(selector, text, delay=10)


def test_typing_shows_the_models_completions(page, served):
    _, lm = served
    _type(page, "#prefix", "the stock ")
    want, _ = complete_text(lm, "the stock ", 5)
    page.wait_for_function(f"document.querySelectorAll('#completions li').length === {len(want)}")
    shown = _shown_completions(page)
    assert [w for w, _ in shown] == [w for w, _ in want] and shown[0][0] == "market"
    assert [p for _, p in shown] == pytest.approx([math.exp(lp) for _, lp in want], abs=5e-4)
    assert "</s>" not in page.locator("#completions").text_content()

    page.type("#prefix", "pr", delay=10)  # a partial word: complete it
    page.wait_for_function("document.querySelector('#completions li') && "
                           "document.querySelector('#completions li').textContent.startsWith('price')")
    assert [w for w, _ in _shown_completions(page)] == ["price"]
    assert page.locator("#latency").text_content().endswith(" ms")


def test_compare_marks_the_sentence_the_model_prefers(page, served):
    _, lm = served
    s1, s2 = "the stock price fell", "the stock exchange fell"
    _type(page, "#s1", s1)
    _type(page, "#s2", s2)
    page.click("#compare")
    page.wait_for_selector("#scores tr.winner")
    a, b = score_sentences(lm, [s1, s2])
    rows = page.locator("#scores tr")
    assert rows.count() == 2
    assert page.locator("#scores tr.winner td").first.text_content() == (s1 if a.total >= b.total else s2)
    shown = [float(rows.nth(i).locator("td").nth(1).text_content().split()[0]) for i in range(2)]
    assert shown == pytest.approx([a.total / math.log(10), b.total / math.log(10)], abs=5e-4)


def test_generate_shows_the_seeded_generation(page, served, tmp_path):
    _, lm = served
    _type(page, "#prompt", "new")
    _type(page, "#seed", "7")
    page.click("#generate")
    g = generate(lm, "new", max_tokens=40, temperature=1.0, seed=7)
    want = lm.vocab.tokenizer.detokenize(["new", *g.tokens])
    page.wait_for_function(f"document.getElementById('generated').textContent === {json.dumps(want)}")
    out = Path(os.environ.get("LMLAB_ARTIFACTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "page.png"), full_page=True)


@pytest.mark.parametrize(("fill", "button", "where", "message"), [
    ({"#s1": "   "}, "#compare", "#scores", "sentence 1: 422: text: the text is empty"),
    ({"#seed": "-1"}, "#generate", "#generated", "422: seed: Input should be greater than or equal to 0"),
    ({"#temperature": "50"}, "#generate", "#generated", "422: temperature: Input should be less than or equal to 10"),
])
def test_bad_input_shows_the_servers_message(page, fill, button, where, message):
    page.fill("#s1", "the stock market fell")
    page.fill("#seed", "1")
    page.fill("#temperature", "1.0")
    for sel, value in fill.items():
        page.fill(sel, value)
    page.click(button)
    page.wait_for_function(f"(document.querySelector('{where} .error') || {{}}).textContent === {json.dumps(message)}")
    assert page.locator(f"{where} .error").count() == 1


def test_docs_render_offline(page, served):
    url, _ = served
    page.goto(url + "/docs")
    titles = page.locator("h2").all_text_contents()
    assert {"POST /score", "POST /complete", "POST /generate", "POST /perplexity", "GET /health"} <= set(titles)
    seed_row = page.locator("section#post\\/generate tr", has_text="seed").text_content()
    assert ">= 0" in seed_row and "<= 4294967295" in seed_row
    page.goto(url + "/")  # back, for any test after this one
    page.wait_for_function("document.getElementById('info').textContent.includes('toy')")
