"""The HTTP API: answers for every endpoint checked against the library, and 4xx (never 500) for
every field out of its range on every endpoint."""

from __future__ import annotations

import http.client
import json
import math

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from lmlab.eval.perplexity import evaluate  # noqa: E402
from lmlab.generate.complete import complete_text  # noqa: E402
from lmlab.generate.decode import generate  # noqa: E402
from lmlab.models.ngram.model import NgramLM  # noqa: E402
from lmlab.server.app import create_app  # noqa: E402
from lmlab.server.schemas import REQUESTS  # noqa: E402
from lmlab.text.specials import SPECIALS  # noqa: E402

from tests.server._helpers import TRAIN, running  # noqa: E402


@pytest.fixture(scope="module")
def lm():
    return NgramLM(3, "witten_bell").fit(TRAIN)


@pytest.fixture(scope="module")
def client(lm):
    return TestClient(create_app(lm, name="toy", max_body_bytes=4096))


def test_score_complete_generate_perplexity(client, lm):
    r = client.post("/score", json={"text": "the stock market fell"})
    assert r.status_code == 200
    body = r.json()
    assert body["tokens"] == ["the", "stock", "market", "fell", "</s>"]
    assert body["total"] == pytest.approx(lm.sentence_logprob("the stock market fell"))
    assert math.fsum(body["logprobs"]) == pytest.approx(body["total"])
    assert body["total_log10"] == pytest.approx(body["total"] / math.log(10)) and body["oovs"] == 0

    r = client.post("/complete", json={"prefix": "the stock", "k": 2}).json()
    want, _ = complete_text(lm, "the stock", 2)
    assert [(c["token"], c["prob"]) for c in r["completions"]] == [(w, pytest.approx(math.exp(p))) for w, p in want]
    assert r["completions"][0]["token"] == "market" and r["partial"] == ""
    assert r["completions"][0]["prob"] == pytest.approx(lm.score("market", ["the", "stock"]))
    assert isinstance(r["ms"], float) and math.isfinite(r["ms"])
    r = client.post("/complete", json={"prefix": "the stock mar", "k": 3, "partial": True}).json()
    assert r["partial"] == "mar" and [x["token"] for x in r["completions"]] == ["market"]

    g1 = client.post("/generate", json={"prompt": "the", "seed": 3, "max_tokens": 5}).json()
    assert g1 == client.post("/generate", json={"prompt": "the", "seed": 3, "max_tokens": 5}).json()
    g = generate(lm, "the", max_tokens=5, seed=3)
    assert g1["tokens"] == g.tokens and g1["text"] == " ".join(["the", *g.tokens])
    assert g1["logprob"] == pytest.approx(sum(g.logprobs)) and g1["stopped"] == g.stopped

    p = client.post("/perplexity", json={"text": "the stock market fell\nnew york"}).json()
    assert p == pytest.approx(evaluate(lm, ["the stock market fell", "new york"]).to_dict())
    assert p["sentences"] == 2 and p["tokens"] == 8
    # lines are cut as lmlab cuts a file's: a final newline ends the last line, \r\n is one ending
    for text, lines in [("the stock\n", ["the stock"]), ("\n\nthe\r\n", ["", "", "the"])]:
        p = client.post("/perplexity", json={"text": text}).json()
        assert p == pytest.approx(evaluate(lm, lines).to_dict()), text

    info = client.get("/info").json()
    assert info["vocab_size"] == len(lm.vocab) and info["name"] == "toy" and info["order"] == 3
    page = client.get("/")
    assert page.status_code == 200 and 'id="prefix"' in page.text


def test_health_says_ready_with_the_model(client, lm):
    r = client.get("/health")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ready" and h["name"] == "toy" and h["kind"] == "NgramLM"
    assert h["vocab_size"] == len(lm.vocab) and h["prepared_s"] >= 0
    assert set(h["lanes"]) == {"quick", "long"} and h["lanes"]["long"]["admitted"] == 0


def test_specials_are_never_offered(client):
    for body in ({"prefix": "the stock market fell", "k": 100}, {"prefix": "", "k": 100},
                 {"prefix": "the <", "k": 100, "partial": True}, {"prefix": "new york stock exchange", "k": 100}):
        words = {c["token"] for c in client.post("/complete", json=body).json()["completions"]}
        assert not words & set(SPECIALS), body
    r = client.post("/complete", json={"prefix": "the </", "k": 5, "partial": True}).json()
    assert r["completions"] == []


def test_docs_work_offline(client):
    """/docs is one page with no script or stylesheet from elsewhere, and lists every endpoint."""
    schema = client.get("/openapi.json").json()
    docs = client.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "<script" not in docs.text and "cdn" not in docs.text.lower() and "<link" not in docs.text
    for path, ops in schema["paths"].items():
        for method in ops:
            assert f"{method.upper()} {path}" in docs.text
    assert {"/score", "/complete", "/generate", "/perplexity", "/info", "/health"} <= set(schema["paths"])
    assert "<code>seed</code>" in docs.text and "&gt;= 0" in docs.text  # fields with their bounds
    assert client.get("/redoc").status_code == 404


# -- validation: every field of every endpoint, out of its range -------------------------------------
def _out_of_range(schema: dict) -> list[tuple[str, object]]:
    """(field, value) pairs each outside the field's declared type or bounds."""
    out = []
    for name, prop in schema["properties"].items():
        variants = prop.get("anyOf", [prop])
        types = {v.get("type") for v in variants}
        if "null" not in types:
            out.append((name, None))
        for v in variants:
            t = v.get("type")
            if t in ("integer", "number"):
                out += [(name, "5"), (name, [1]), (name, True)]
                if t == "integer":
                    out.append((name, 2.5))
                for key, delta in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1), ("exclusiveMaximum", 0)):
                    if key in v:
                        out.append((name, v[key] + delta if t == "integer" or delta == 0 else v[key] + delta * 1e-3))
            elif t == "string":
                out += [(name, 5), (name, ["a"])]
                if "maxLength" in v:
                    out.append((name, "a" * (v["maxLength"] + 1)))
            elif t == "boolean":
                out += [(name, "yes"), (name, 1)]
    return out


CASES = [(path, field, value) for path, model in REQUESTS.items()
         for field, value in _out_of_range(model.model_json_schema())]


def test_every_number_has_both_bounds():
    """So the range test below covers every number: a field without bounds fails here."""
    for path, model in REQUESTS.items():
        for name, prop in model.model_json_schema()["properties"].items():
            for v in prop.get("anyOf", [prop]):
                if v.get("type") in ("integer", "number"):
                    assert {"minimum", "exclusiveMinimum"} & set(v) and {"maximum", "exclusiveMaximum"} & set(v), \
                        (path, name)
                if v.get("type") == "string":
                    assert "maxLength" in v, (path, name)


def test_every_post_endpoint_has_a_request_model(client):
    posts = {r.path for r in client.app.routes if "POST" in getattr(r, "methods", ())}
    assert posts == set(REQUESTS)


VALID = {"/score": {"text": "the stock"}, "/perplexity": {"text": "the stock"}, "/complete": {}, "/generate": {}}


@pytest.mark.parametrize(("path", "field", "value"), CASES, ids=[f"{p}-{f}-{v!r:.20}" for p, f, v in CASES])
def test_out_of_range_is_a_422_naming_the_field(client, path, field, value):
    body = {**VALID[path], field: value}
    r = client.post(path, json=body)
    if r.status_code == 413:  # a string over the limit can be over the (small) body limit too
        assert len(json.dumps(body)) > 4096
        return
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize(("path", "payload", "message"), [
    ("/score", {"text": ""}, "text: the text is empty"),
    ("/score", {"text": "  \n"}, "text: the text is empty"),
    ("/perplexity", {"text": "\n"}, "text: the text is empty"),
    ("/score", {"txt": "a"}, "txt"),
    ("/score", {"text": "a", "colour": "red"}, "colour"),
    ("/complete", {"prefix": "a", "k": 0}, "k: Input should be greater than or equal to 1"),
    ("/generate", {"seed": -1}, "seed: Input should be greater than or equal to 0"),
    ("/generate", {"seed": 2**32}, "seed: Input should be less than or equal to 4294967295"),
    ("/generate", {"top_p": 1.5}, "top_p"),
    ("/generate", {"top_p": 0}, "top_p: Input should be greater than 0"),
    ("/generate", {"temperature": "hot"}, "temperature"),
    ("/generate", {"max_tokens": 0}, "max_tokens"),
    ("/generate", {"max_tokens": 501}, "max_tokens"),
])
def test_bad_requests_are_422_with_a_message(client, path, payload, message):
    r = client.post(path, json=payload)
    assert r.status_code == 422 and message in r.json()["detail"]


def test_nan_and_infinity_are_refused(client):
    for raw in (b'{"temperature": NaN}', b'{"temperature": Infinity}', b'{"top_p": -Infinity}'):
        r = client.post("/generate", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"], raw


def test_malformed_json_and_oversized_body(client):
    r = client.post("/score", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]
    r = client.post("/score", json={"text": "a " * 5000})
    assert r.status_code == 413 and "over 4096 bytes" in r.json()["detail"]
    r = client.post("/score", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_errors_keep_the_connection_and_are_json(lm):
    """On one keep-alive connection: bad requests (422), an internal error (JSON 500), then a good
    request on the same socket."""
    app = create_app(lm, name="toy")

    @app.get("/boom")
    async def boom():
        raise RuntimeError("a defect")

    with running(app) as url:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
        sock_ids = set()
        for path, body, status in [("/generate", {"seed": -1}, 422), ("/generate", {"temperature": 99}, 422),
                                   ("/boom", None, 500), ("/generate", {"prompt": "the", "seed": 1}, 200)]:
            if body is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read())
            sock_ids.add(id(conn.sock))
            assert resp.status == status, data
            assert resp.getheader("connection") != "close"
            if status == 500:
                assert data["detail"] == "internal error: RuntimeError: a defect"
        assert len(sock_ids) == 1  # never reconnected
        conn.close()


def _kinds():
    from lmlab.models.mixture import MixtureLM
    from lmlab.text.tokenize import Tokenizer

    word = NgramLM(3, "witten_bell").fit(TRAIN)
    yield "ngram", word
    yield "char-ngram", NgramLM(4, "witten_bell", tokenizer=Tokenizer(kind="character")).fit(TRAIN)
    yield "stupid-backoff", NgramLM(3, "stupid_backoff").fit(TRAIN)
    yield "mixture", MixtureLM([word, NgramLM(2, "absolute_discounting", discount=0.5).fit(TRAIN, vocab=word.vocab)], [0.5, 0.5])
    try:
        import torch

        from lmlab.models.neural.adapter import TorchLM
        from lmlab.models.neural.build import build_model
        from lmlab.models.neural.config import RNNLMConfig
    except ImportError:
        return
    torch.manual_seed(1)
    cfg = RNNLMConfig(vocab_size=len(word.vocab), emsize=6, nhid=6, nlayers=1, cell="lstm")
    yield "lstm", TorchLM(build_model(cfg), cfg, word.vocab)


KINDS = ["ngram", "char-ngram", "stupid-backoff", "mixture", "lstm"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_kind_is_prepared_and_served(kind):
    if kind == "lstm":
        pytest.importorskip("torch")
    lm = dict(_kinds())[kind]
    c = TestClient(create_app(lm, name=kind))
    assert c.get("/health").json()["kind"] == type(lm).__name__
    comp = c.post("/complete", json={"prefix": "the sto", "k": 3, "partial": True})
    assert comp.status_code == 200 and comp.json()["completions"]
    assert all(x["token"].startswith("sto") or kind == "char-ngram" for x in comp.json()["completions"])
    assert c.post("/score", json={"text": "the stock"}).status_code == 200
    assert c.post("/generate", json={"prompt": "the", "seed": 1, "max_tokens": 3}).status_code == 200
    p = c.post("/perplexity", json={"text": "the stock"})
    if lm.normalized:
        assert p.status_code == 200 and p.json()["perplexity"] > 1
    else:
        assert p.status_code == 422 and "does not report its perplexity" in p.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"text": "\xff"}', b'{"prefix": "the \xc3"}', b'\xfe\xff', b'{"text": "\xed\xa0\x80"}'])
def test_invalid_utf8_in_a_body_is_a_422_like_any_bad_body(client, raw):
    """Every POST endpoint: a body that is not UTF-8 is a JSON 422 naming the byte, not a bare 400."""
    for path in REQUESTS:
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert "not valid UTF-8 (byte " in r.json()["detail"]
    assert client.post("/score", content='{"text": "café"}'.encode(), headers={"content-type": "application/json"}
                       ).status_code == 200


def test_head_is_answered_for_every_get_route(client):
    """HEAD /health (what load balancers and uptime checks send) and every other GET route: the
    status and headers of GET, no body; HEAD on a POST-only route stays a 405."""
    gets = [r.path for r in client.app.routes if "GET" in getattr(r, "methods", ()) and "{" not in r.path]
    assert {"/health", "/info", "/", "/docs"} <= set(gets)
    for path in gets:
        g, h = client.get(path), client.head(path)
        assert h.status_code == g.status_code == 200, path
        assert h.content == b"" and h.headers["content-type"] == g.headers["content-type"], path
        if path != "/health":  # (health's figures may change between the two calls)
            assert h.headers["content-length"] == g.headers["content-length"], path
    assert client.head("/score").status_code == 405


def test_head_health_on_a_real_server(lm):
    with running(create_app(lm, name="toy")) as url:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
        try:
            conn.request("HEAD", "/health")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == b""
            conn.request("GET", "/health")  # the connection is still in step
            resp = conn.getresponse()
            assert resp.status == 200 and json.loads(resp.read())["status"] == "ready"
        finally:
            conn.close()


@pytest.mark.parametrize("knob", [{"temperature": 0.5}, {"top_k": 3}, {"top_p": 0.9}])
def test_generate_refuses_sampling_knobs_with_greedy(client, knob):
    """As the CLI does: a knob that only shapes sampling has no effect with greedy decoding."""
    r = client.post("/generate", json={"prompt": "the", "greedy": True, **knob})
    assert r.status_code == 422 and "greedy" in r.text
    assert client.post("/generate", json={"prompt": "the", "greedy": True}).status_code == 200
    assert client.post("/generate", json={"prompt": "the", **knob, "seed": 1}).status_code == 200
