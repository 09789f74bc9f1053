"""The HTTP API: answers for every endpoint, and 4xx (never 500) for bad requests."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.server.app import create_app  # noqa: E402

TRAIN = ["the stock market fell", "the stock market rose", "the stock price fell", "new york stock exchange"] * 3


@pytest.fixture(scope="module")
def client():
    lm = NgramLM(3, "witten_bell").fit(TRAIN)
    return TestClient(create_app(lm, name="toy", max_body_bytes=4096)), lm


def test_score_complete_generate_perplexity(client):
    c, lm = client
    r = c.post("/score", json={"text": "the stock market fell"})
    assert r.status_code == 200
    body = r.json()
    assert body["tokens"][-1] == "</s>" and body["total"] == pytest.approx(lm.sentence_logprob("the stock market fell"))
    r = c.post("/complete", json={"prefix": "the stock", "k": 2}).json()
    assert [x["token"] for x in r["completions"]][0] == "market" and r["ms"] >= 0
    r = c.post("/complete", json={"prefix": "the stock mar", "k": 3, "partial": True}).json()
    assert r["partial"] == "mar" and [x["token"] for x in r["completions"]] == ["market"]
    g1 = c.post("/generate", json={"prompt": "the", "seed": 3, "max_tokens": 5}).json()
    assert g1 == c.post("/generate", json={"prompt": "the", "seed": 3, "max_tokens": 5}).json()
    assert g1["text"].startswith("the")
    p = c.post("/perplexity", json={"text": "the stock market fell\nnew york"}).json()
    assert p["sentences"] == 2 and p["tokens"] == 8 and p["perplexity"] > 1
    info = c.get("/info").json()
    assert info["vocab_size"] == len(lm.vocab) and info["name"] == "toy"
    page = c.get("/")
    assert page.status_code == 200 and 'id="prefix"' in page.text


@pytest.mark.parametrize(("path", "payload", "status", "message"), [
    ("/score", {"text": ""}, 422, "the text is empty"),
    ("/score", {"text": "  "}, 422, "the text is empty"),
    ("/score", {"txt": "a"}, 422, "txt"),
    ("/score", {"text": "a", "colour": "red"}, 422, "colour"),
    ("/complete", {"prefix": "a", "k": 0}, 422, "k"),
    ("/generate", {"top_p": 1.5}, 422, "top_p"),
    ("/generate", {"temperature": "hot"}, 422, "temperature"),
])
def test_bad_requests_are_4xx(client, path, payload, status, message):
    c, _ = client
    r = c.post(path, json=payload)
    assert r.status_code == status and message in r.json()["detail"]


def test_malformed_json_and_oversized_body(client):
    c, _ = client
    r = c.post("/score", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]
    r = c.post("/score", json={"text": "a " * 5000})
    assert r.status_code == 413 and "over 4096 bytes" in r.json()["detail"]
    r = c.post("/score", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 422
