"""``create_app(lm)``: a FastAPI app over one LanguageModel (any n-gram or neural model).

POST /score       {"text": "..."}                       per-token and total log-probabilities
POST /complete    {"prefix": "...", "k": 5, "partial": false}  next-word (or rest-of-word) completions
POST /generate    {"prompt": "...", "max_tokens": 30, "temperature": 1, "top_k": null, "top_p": null,
                   "seed": null, "greedy": false}
POST /perplexity  {"text": "line\\nline"}                tokens, OOVs, perplexity incl./excl. OOVs
GET  /info        the model's kind, order/config and vocabulary size
GET  /health      (HEAD too) 200 and the model's name and kind once the server is ready; the lanes' load
GET  /docs        the API, rendered from /openapi.json (works offline)
GET  /            the page: type a prefix and see completions, compare sentences, generate

Requests are JSON objects with only the listed fields, each of its type and in its range
(:mod:`.schemas`; anything else is a 422 naming the field); a body over ``max_body_bytes`` is a
413, a body that does not arrive within ``body_timeout`` a 408 (:mod:`.guard`); a full server a
503 with ``Retry-After`` (:mod:`.admission`).  Errors are JSON ``{"detail": ...}``.

Everything the queries need (lookup tables, indexes, compiled kernels) is built by
:func:`prepare` before ``create_app`` returns, so concurrent first requests find it built.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from .._io import split_lines
from ..errors import LmlabError
from ..eval.perplexity import evaluate
from ..eval.scoring import score_sentences
from ..generate.complete import complete_text
from ..generate.decode import generate
from ..models.base import LanguageModel
from .admission import Busy, Lane, Limits
from .docs import docs_page
from .guard import RequestGuard
from .schemas import CompleteRequest, GenerateRequest, PerplexityRequest, ScoreRequest

STATIC = Path(__file__).parent / "static"
_ERRORS = {422: {"description": "invalid request ({\"detail\": ...})"},
           503: {"description": "busy or timed out ({\"detail\": ...}, Retry-After)"}}


def prepare(lm: LanguageModel) -> None:
    """Run every query path once, so whatever the model builds on first use (tables rebuilt from a
    binary file, completion indexes, compiled kernels) is built now, once, and not by each of the
    first requests at the same time.  A path the model does not support (perplexity of scores
    that are not probabilities) is skipped: its requests get that error."""
    vocab = lm.vocab
    word = next((t for t in vocab.tokens[3:] if t.strip()), "")
    steps = [lambda: complete_text(lm, word, 1), lambda: complete_text(lm, word[:1], 1, partial=True),
             lambda: score_sentences(lm, [word]), lambda: generate(lm, word, max_tokens=2, seed=0),
             lambda: evaluate(lm, [word])]
    for step in steps:
        try:
            step()
        except LmlabError:
            pass


def create_app(lm: LanguageModel, *, name: str = "model", max_body_bytes: int | None = None,
               limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits()
    if max_body_bytes is not None:
        limits = dataclasses.replace(limits, max_body_bytes=max_body_bytes)
    t0 = time.perf_counter()
    prepare(lm)
    ready_s = time.perf_counter() - t0
    quick = Lane("quick", limits.quick_workers, limits.quick_queue)
    long = Lane("long", limits.long_workers, limits.long_queue)

    async def lifespan(app):
        yield
        quick.shutdown()
        long.shutdown()

    app = FastAPI(title="lmlab", description=__doc__, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.add_middleware(RequestGuard, max_body_bytes=limits.max_body_bytes, body_timeout=limits.body_timeout)
    app.state.lanes = {"quick": quick, "long": long}

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        msgs = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            msg = str(e.get("msg")).removeprefix("Value error, ")  # our own validators' messages
            msgs.append(f"{where}: {msg}" if where else msg)
        return JSONResponse({"detail": "; ".join(msgs) or "invalid request"}, status_code=422)

    @app.exception_handler(LmlabError)
    async def lmlab_error(request: Request, exc: LmlabError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> str:
        return docs_page(app.openapi())

    def model_info() -> dict:
        return {"name": name, "kind": type(lm).__name__, "order": getattr(lm, "order", None),
                "vocab_size": len(lm.vocab), "smoothing": getattr(lm, "smoothing", None),
                "normalized": lm.normalized}

    @app.get("/info", summary="the model's kind, order, vocabulary size and tokenizer")
    async def info() -> dict:
        return {**model_info(), "tokenizer": lm.vocab.tokenizer.to_dict()}

    @app.get("/health", summary="ready: the model's name and kind, how long preparing it took, the lanes' load")
    async def health() -> dict:
        return {"status": "ready", **model_info(), "prepared_s": round(ready_s, 3),
                "lanes": {k: v.status() for k, v in app.state.lanes.items()}}

    @app.post("/score", summary="per-token and total log-probabilities of one sentence", responses=_ERRORS)
    async def score(req: ScoreRequest) -> dict:
        (s,) = await quick.run(lambda: score_sentences(lm, [req.text]), limits.request_timeout)
        return {"tokens": s.tokens, "logprobs": [float(x) for x in s.logprobs], "total": s.total,
                "total_log10": s.total / math.log(10), "oovs": s.oovs}

    @app.post("/complete", summary="the most likely next words (or the rest of the word typed)", responses=_ERRORS)
    async def complete_(req: CompleteRequest) -> dict:
        def work():
            t = time.perf_counter()
            out, partial = complete_text(lm, req.prefix, req.k, partial=req.partial)
            return out, partial, (time.perf_counter() - t) * 1000

        out, partial, ms = await quick.run(work, limits.request_timeout)
        return {"completions": [{"token": w, "prob": math.exp(lp)} for w, lp in out], "partial": partial,
                "ms": ms}

    @app.post("/generate", summary="continue a prompt (sampled or greedy)", responses=_ERRORS)
    async def generate_(req: GenerateRequest) -> dict:
        def work():
            return generate(lm, req.prompt, max_tokens=req.max_tokens, greedy=req.greedy,
                            temperature=req.temperature, top_k=req.top_k, top_p=req.top_p, seed=req.seed)

        g = await long.run(work, limits.request_timeout)
        words = lm.vocab.tokenize(req.prompt) + g.tokens
        return {"text": lm.vocab.tokenizer.detokenize(words), "tokens": g.tokens, "stopped": g.stopped,
                "logprob": sum(g.logprobs)}

    @app.post("/perplexity", summary="perplexity of lines of text, with and without OOVs", responses=_ERRORS)
    async def perplexity(req: PerplexityRequest) -> dict:
        report = await long.run(lambda: evaluate(lm, split_lines(req.text)), limits.request_timeout)
        return report.to_dict()

    return app
